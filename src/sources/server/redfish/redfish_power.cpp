// Redfish payload and URL parsing: type checks on every step, a reason for every way a BMC can disappoint.
#include "sources/server/redfish/redfish_power.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>

namespace wattprint::redfish {

using nlohmann::json;

namespace {

/// "null", "a string", ... for reasons.
const char* type_text(const json& value) noexcept {
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return "a number";
    case json::value_t::binary:
      return "binary";
    case json::value_t::discarded:
      return "discarded";
  }
  return "unknown";
}

/// `object[key]`, or null when `object` is not an object or has no such key.
const json* member(const json& object, std::string_view key) noexcept {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

/// A power value in W at `value` (named `name` in reasons): a finite number, not negative.
Parsed<double> watts_at(const json* value, std::string_view name) {
  if (value == nullptr) return {std::nullopt, fmt::format("no {}", name)};
  if (value->is_null()) return {std::nullopt, fmt::format("{} is null (the BMC has no reading)", name)};
  if (!value->is_number())
    return {std::nullopt, fmt::format("{} is {}, not a number", name, type_text(*value))};
  const double watts = value->get<double>();
  if (!std::isfinite(watts) || watts < 0.0) return {std::nullopt, fmt::format("{} is {} W", name, watts)};
  return {watts, ""};
}

/// The `Reading` of a sensor excerpt `{ "Reading": 374, "DataSourceUri": ... }` at `resource[property]`.
Parsed<double> excerpt_reading(const json& resource, std::string_view property) {
  const json* excerpt = member(resource, property);
  const std::string name = fmt::format("{}.Reading", property);
  if (excerpt == nullptr) return {std::nullopt, fmt::format("no {}", property)};
  if (!excerpt->is_object())
    return {std::nullopt, fmt::format("{} is {}, not an object", property, type_text(*excerpt))};
  return watts_at(member(*excerpt, "Reading"), name);
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

Parsed<json> parse_payload(std::string_view body) {
  json parsed;
  try {
    parsed = json::parse(body);
  } catch (const json::exception& e) {
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at ...": the bracketed id helps nobody.
    if (!what.empty() && what.front() == '[') {
      const auto close = what.find("] ");
      if (close != std::string::npos) what.erase(0, close + 2);
    }
    std::replace(what.begin(), what.end(), '\n', ' ');
    return {std::nullopt, "malformed JSON: " + what};
  }
  if (!parsed.is_object())
    return {std::nullopt, fmt::format("malformed JSON: {}, not an object", type_text(parsed))};
  return {std::move(parsed), ""};
}

Parsed<std::vector<std::string>> collection_members(const json& collection) {
  const json* members = member(collection, "Members");
  if (members == nullptr) return {std::nullopt, "not a collection (no Members)"};
  if (!members->is_array())
    return {std::nullopt, fmt::format("Members is {}, not an array", type_text(*members))};
  std::vector<std::string> ids;
  for (const json& entry : *members) {
    const json* id = member(entry, "@odata.id");
    if (id != nullptr && id->is_string()) ids.push_back(id->get<std::string>());
  }
  return {std::move(ids), ""};
}

std::optional<std::string> link(const json& resource, std::string_view property) {
  const json* target = member(resource, property);
  if (target == nullptr) return std::nullopt;
  const json* id = member(*target, "@odata.id");
  if (id == nullptr || !id->is_string()) return std::nullopt;
  return id->get<std::string>();
}

Parsed<double> environment_metrics_power(const json& metrics) {
  return excerpt_reading(metrics, "PowerWatts");
}

Parsed<double> power_supply_input_power(const json& metrics) {
  return excerpt_reading(metrics, "InputPowerWatts");
}

bool power_supply_present(const json& supply) noexcept {
  const json* status = member(supply, "Status");
  if (status == nullptr) return true;
  const json* state = member(*status, "State");
  return state == nullptr || !state->is_string() || state->get_ref<const std::string&>() != "Absent";
}

Parsed<double> legacy_power_consumed(const json& power) {
  const json* controls = member(power, "PowerControl");
  if (controls == nullptr) return {std::nullopt, "no PowerControl"};
  if (!controls->is_array())
    return {std::nullopt, fmt::format("PowerControl is {}, not an array", type_text(*controls))};
  if (controls->empty()) return {std::nullopt, "PowerControl is empty"};
  const json& first = controls->front();
  if (!first.is_object())
    return {std::nullopt, fmt::format("PowerControl[0] is {}, not an object", type_text(first))};
  return watts_at(member(first, "PowerConsumedWatts"), "PowerControl[0].PowerConsumedWatts");
}

Parsed<RedfishUrl> parse_url(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0)
    return {std::nullopt, "not a URL (expected https://HOST[:PORT] or https://HOST/redfish/v1/Chassis/ID)"};
  RedfishUrl parsed;
  parsed.scheme = lower(url.substr(0, scheme_end));
  if (parsed.scheme != "https" && parsed.scheme != "http")
    return {std::nullopt, fmt::format("unsupported scheme '{}' (expected https://)", parsed.scheme)};
  const std::string_view rest = url.substr(scheme_end + 3);
  const auto authority_end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, authority_end);
  if (authority.find('@') != std::string_view::npos)
    return {std::nullopt,
            "credentials in the URL are refused (they would show in reports and logs): use --redfish-user "
            "and --redfish-password-file"};
  if (authority.empty() || authority.front() == ':') return {std::nullopt, "no host in the URL"};
  parsed.origin = fmt::format("{}://{}", parsed.scheme, authority);
  std::string_view path =
      authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
  if (path.find_first_of("?#") != std::string_view::npos)
    return {std::nullopt, "a query or fragment in the URL is not supported"};
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  parsed.path = std::string(path);
  return {std::move(parsed), ""};
}

std::string redact_url(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  const std::size_t authority_start = scheme_end + 3;
  const std::size_t authority_end = std::min(url.find_first_of("/?#", authority_start), url.size());
  const auto at = url.rfind('@', authority_end - 1);
  if (at == std::string_view::npos || at < authority_start) return std::string(url);
  return fmt::format("{}***{}", url.substr(0, authority_start), url.substr(at));
}

UrlTarget url_target(std::string_view path) noexcept {
  if (path.empty() || path == "/redfish" || path == "/redfish/v1") return UrlTarget::ServiceRoot;
  constexpr std::string_view kChassis = "/redfish/v1/Chassis";
  if (path == kChassis) return UrlTarget::ChassisCollection;
  if (path.size() > kChassis.size() + 1 && path.substr(0, kChassis.size() + 1) == "/redfish/v1/Chassis/" &&
      path.find('/', kChassis.size() + 1) == std::string_view::npos)
    return UrlTarget::Chassis;
  return UrlTarget::Other;
}

std::optional<std::string> resolve_link(std::string_view origin, std::string_view odata_id) {
  odata_id = odata_id.substr(0, odata_id.find('#'));
  if (odata_id.size() >= 2 && odata_id[0] == '/' && odata_id[1] != '/')
    return fmt::format("{}{}", origin, odata_id);
  if (odata_id.find("://") == std::string_view::npos) return std::nullopt;
  const Parsed<RedfishUrl> absolute = parse_url(odata_id);
  if (!absolute.ok() || lower(absolute.value->origin) != lower(origin)) return std::nullopt;
  return fmt::format("{}{}", origin, absolute.value->path);
}

}  // namespace wattprint::redfish
