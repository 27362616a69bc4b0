// Whether the simulators (ipmi_sim, the HTTPS Redfish server) must be there: CI sets
// WATTPRINT_REQUIRE_SIMULATORS=1 so that a missing package fails the tests instead of skipping them.
#pragma once

#include <cstdlib>
#include <string_view>

namespace wattprint::testing {

inline bool required_by_environment() {
  const char* value = std::getenv("WATTPRINT_REQUIRE_SIMULATORS");
  return value != nullptr && std::string_view(value) != "" && std::string_view(value) != "0";
}

}  // namespace wattprint::testing
