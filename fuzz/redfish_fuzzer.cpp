// Fuzz target: Redfish payloads and URLs (src/sources/server/redfish/redfish_power.hpp). The input is parsed
// as a payload and every reader is applied to it (none may throw); it is also taken as a URL and as a link
// found on a service.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "fuzz_input.hpp"
#include "sources/server/redfish/redfish_power.hpp"

namespace redfish = wattprint::redfish;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = wattprint::fuzz::as_text(data, size);
  const auto payload = redfish::parse_payload(text);
  if (payload.ok()) {
    const nlohmann::json& json = *payload.value;
    static_cast<void>(redfish::collection_members(json));
    for (const char* property : {"EnvironmentMetrics", "PowerSubsystem", "Power", "PowerSupplies", "Metrics"})
      static_cast<void>(redfish::link(json, property));
    static_cast<void>(redfish::environment_metrics_power(json));
    static_cast<void>(redfish::power_supply_input_power(json));
    static_cast<void>(redfish::power_supply_present(json));
    static_cast<void>(redfish::legacy_power_consumed(json));
  }
  const auto url = redfish::parse_url(text);
  if (url.ok()) static_cast<void>(redfish::url_target(url.value->path));
  static_cast<void>(redfish::redact_url(text));
  static_cast<void>(redfish::url_target(text));
  static_cast<void>(redfish::resolve_link("https://bmc.example:8443", text));
  return 0;
}
