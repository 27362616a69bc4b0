// Cost of one whole-server power reading, as the server thread of `wattprint run` takes it every
// --server-interval (default 5 s), for each family against its local stand-in:
//   - ACPI power meter: power1_average and power1_average_interval of a fake hwmon tree (two preads);
//   - Redfish: one HTTPS GET of the legacy Power resource from tests/fakes/redfish_server.py on 127.0.0.1,
//     on a kept-alive TLS connection (the client's side and the Python server's answer, both on this
//     machine);
//   - IPMI DCMI over lanplus: one Get Power Reading through libfreeipmi to ipmi_sim on 127.0.0.1 (an open
//     session; encryption, integrity and the simulator's answer included);
//   - PowerIntegrator::add: the integration of one reading.
// CPU time of this process is what the figures mean for the monitor; the real time includes the peer's
// work and the loopback round trip. A real BMC answers in milliseconds to seconds. Results:
// docs/benchmarks.md.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "energy/power_integrator.hpp"
#include "fakes/ipmi_simulator.hpp"
#include "fakes/redfish_server.hpp"
#include "sources/server/acpi_power_meter.hpp"
#include "sources/server/ipmi/ipmi_dcmi_source.hpp"
#include "sources/server/redfish/redfish_source.hpp"
#include "unit/test_dir.hpp"

namespace wattprint::bench {
namespace {

namespace fs = std::filesystem;

void read_all(benchmark::State& state, ServerPowerSource& source) {
  std::int64_t failures = 0;
  for (auto _ : state) {
    const ServerRead read = source.read();
    if (!read.reading) ++failures;
    benchmark::DoNotOptimize(read);
  }
  state.counters["failures"] = static_cast<double>(failures);
}

void BM_AcpiPowerMeterRead(benchmark::State& state) {
  const testing::TestDir root;
  const fs::path meter = root.path() / "class/hwmon/hwmon0";
  fs::create_directories(meter);
  std::ofstream(meter / "name") << "power_meter\n";
  std::ofstream(meter / "power1_average") << "187500000\n";
  std::ofstream(meter / "power1_average_interval") << "1000\n";
  OpenedServerSource opened = open_acpi_power_meter(root.path());
  if (!opened.source) {
    state.SkipWithError(opened.status.reason.c_str());
    return;
  }
  read_all(state, *opened.source);
}
BENCHMARK(BM_AcpiPowerMeterRead)->MeasureProcessCPUTime();

void BM_RedfishRead(benchmark::State& state) {
  if (auto why = testing::RedfishServer::unavailable()) {
    state.SkipWithError(why->c_str());
    return;
  }
  testing::RedfishServer server;
  if (!server.started()) {
    state.SkipWithError(server.error().c_str());
    return;
  }
  RedfishOptions options;
  options.url = server.url();
  options.user = server.user();
  options.password = Secret(server.password());
  options.ca_file = server.ca_file();
  OpenedServerSource opened = open_redfish_source(options);
  if (!opened.source) {
    state.SkipWithError(opened.status.reason.c_str());
    return;
  }
  read_all(state, *opened.source);
}
BENCHMARK(BM_RedfishRead)->MeasureProcessCPUTime()->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_IpmiLanplusRead(benchmark::State& state) {
  if (auto why = testing::IpmiSimulator::unavailable_reason()) {
    state.SkipWithError(why->c_str());
    return;
  }
  testing::IpmiSimulator sim;
  if (!sim.running()) {
    state.SkipWithError(sim.error().c_str());
    return;
  }
  IpmiLanOptions options;
  options.host = sim.host();
  options.user = sim.user();
  options.password = Secret(sim.password());
  OpenedServerSource opened = open_ipmi_lan_source(options);
  if (!opened.source) {
    state.SkipWithError(opened.status.reason.c_str());
    return;
  }
  read_all(state, *opened.source);
}
BENCHMARK(BM_IpmiLanplusRead)->MeasureProcessCPUTime()->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_PowerIntegratorAdd(benchmark::State& state) {
  PowerIntegrator integrator;
  double t = 0.0;
  for (auto _ : state) {
    integrator.add(t, Watts{200.0 + t * 1e-3}, Seconds(1.0));
    t += 5.0;
  }
  benchmark::DoNotOptimize(integrator.finish(t));
}
BENCHMARK(BM_PowerIntegratorAdd);

}  // namespace
}  // namespace wattprint::bench

BENCHMARK_MAIN();
