// The fake powercap layout the benchmarks read: a 2-socket server with package, core and dram zones per
// socket (6 counters), as intel_rapl_msr shows it on a Xeon.
#pragma once

#include <vector>

#include "fakes/fake_powercap.hpp"

namespace wattprint::bench {

inline std::vector<testing::FakeZone> two_socket_zones() {
  using testing::FakeZone;
  return {
      FakeZone("intel-rapl:0", "package-0", 60.0).with_max_power(165.0),
      FakeZone("intel-rapl:0:0", "core", 35.0),
      FakeZone("intel-rapl:0:1", "dram", 8.0).with_range(65712999613ULL),
      FakeZone("intel-rapl:1", "package-1", 55.0).with_max_power(165.0),
      FakeZone("intel-rapl:1:0", "core", 30.0),
      FakeZone("intel-rapl:1:1", "dram", 7.0).with_range(65712999613ULL),
  };
}

}  // namespace wattprint::bench
