// Pure functions over Redfish JSON payloads and URLs: collection members, chassis links, and the three places
// a chassis gives its input power (DMTF schema names, see docs/sensors.md §8). None of them throws: odd JSON
// types, nulls and missing keys give a one-line reason instead.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wattprint::redfish {

/// A value, or the one-line reason there is none.
template <typename T>
struct Parsed {
  std::optional<T> value;
  std::string reason;  ///< empty when value is set
  [[nodiscard]] bool ok() const noexcept { return value.has_value(); }
};

/// Parses a payload; a reason ("malformed JSON: ...") when it is not JSON or not an object.
Parsed<nlohmann::json> parse_payload(std::string_view body);

/// The "@odata.id" of every member of a collection ("Members": [{"@odata.id": ...}]). A reason when
/// "Members" is missing or not an array; members without a string "@odata.id" are skipped.
Parsed<std::vector<std::string>> collection_members(const nlohmann::json& collection);

/// `resource[property]["@odata.id"]` when it is a string: the chassis links "EnvironmentMetrics",
/// "PowerSubsystem", "Power", the PowerSubsystem's "PowerSupplies", a supply's "Metrics".
std::optional<std::string> link(const nlohmann::json& resource, std::string_view property);

/// Chassis/{id}/EnvironmentMetrics: PowerWatts.Reading in W.
Parsed<double> environment_metrics_power(const nlohmann::json& metrics);

/// PowerSupplies/{id}/Metrics (PowerSupplyMetrics): InputPowerWatts.Reading in W.
Parsed<double> power_supply_input_power(const nlohmann::json& metrics);

/// False for a power supply whose Status.State is "Absent" (an empty bay): it has no metrics to add.
bool power_supply_present(const nlohmann::json& supply) noexcept;

/// Chassis/{id}/Power (legacy, deprecated but the most widely implemented; any @odata.type version,
/// "#Power.1.0.1.Power" of HPE iLO 4 included): PowerControl[0].PowerConsumedWatts in W.
Parsed<double> legacy_power_consumed(const nlohmann::json& power);

/// A Redfish URL split as far as this source needs it.
struct RedfishUrl {
  std::string scheme;  ///< lower case: "https" or "http"
  std::string origin;  ///< "https://host:port" as given (no trailing slash)
  std::string path;    ///< "/redfish/v1/Chassis/1U", no trailing slash; "" for the service root
};

/// Splits `url`. Reasons for: no "scheme://", a scheme other than http(s), no host, credentials in the
/// authority ("https://user:pw@host": the reason never repeats them), a query or fragment.
Parsed<RedfishUrl> parse_url(std::string_view url);

/// `url` fit for a status or report: "user:password@" in the authority replaced by "***@".
std::string redact_url(std::string_view url);

/// What the URL's path names.
enum class UrlTarget { ServiceRoot, ChassisCollection, Chassis, Other };
UrlTarget url_target(std::string_view path) noexcept;

/// The absolute URL of a link ("@odata.id") found on a service at `origin`: "/redfish/v1/..." is joined
/// to the origin, an absolute URL is accepted only on the same origin; the "#/..." fragment is dropped.
/// nullopt for anything else (another host: never followed, it would receive the credentials).
std::optional<std::string> resolve_link(std::string_view origin, std::string_view odata_id);

}  // namespace wattprint::redfish
