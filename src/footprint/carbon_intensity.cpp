// Carbon intensity resolution: flags, configuration, time zone → country (offline), world average.
#include "footprint/carbon_intensity.hpp"

#include <fmt/format.h>

#include <system_error>

#include "core/error.hpp"
#include "platform/text_file.hpp"
#include "reference/reference_data.hpp"

namespace wattprint {

namespace {

CarbonIntensity from_grid(const reference::GridIntensity& grid) {
  CarbonIntensity ci;
  ci.g_per_kwh = grid.g_per_kwh;
  ci.region = grid.code;
  ci.year = grid.year;
  ci.source = fmt::format("{} ({}), {}", grid.name, grid.source, grid.year);
  return ci;
}

std::optional<std::string> zone_from_path(const std::string& target) {
  constexpr std::string_view kMarker = "zoneinfo/";
  const auto pos = target.rfind(kMarker);
  if (pos == std::string::npos) return std::nullopt;
  std::string zone = target.substr(pos + kMarker.size());
  // Debian's posix/ and right/ trees hold the same zones.
  for (const std::string_view prefix : {"posix/", "right/"}) {
    if (zone.rfind(prefix, 0) == 0) zone = zone.substr(prefix.size());
  }
  if (zone.empty()) return std::nullopt;
  return zone;
}

}  // namespace

std::optional<std::string> detect_time_zone(const TimeZoneSource& source) {
  if (source.tz_variable && !source.tz_variable->empty()) {
    std::string tz = *source.tz_variable;
    if (tz.front() == ':') tz.erase(0, 1);
    if (tz.find('/') != std::string::npos && tz.front() == '/') return zone_from_path(tz);
    // A POSIX rule such as "CET-1CEST" names no place; an IANA name has no digits before its slash.
    if (tz.find_first_of("0123456789,<>") == std::string::npos || tz.find('/') != std::string::npos) {
      return tz;
    }
    return std::nullopt;
  }
  std::error_code ec;
  const auto link = std::filesystem::read_symlink(source.etc_dir / "localtime", ec);
  if (!ec) {
    if (auto zone = zone_from_path(link.string())) return zone;
  }
  const FileText file = read_text_file(source.etc_dir / "timezone");
  if (file.ok()) {
    const std::string zone(trim(file.text));
    if (!zone.empty()) return zone;
  }
  return std::nullopt;
}

CarbonIntensity carbon_intensity_from_value(const std::string& value, const std::string& option) {
  if (const auto number = parse_double(value)) {
    if (*number < 0.0) {
      throw UsageError(
          fmt::format("{}: carbon intensity must be 0 or more gCO2e/kWh (got {})", option, value));
    }
    CarbonIntensity ci;
    ci.g_per_kwh = *number;
    ci.source = "given by the user";
    return ci;
  }
  if (const auto named = reference::find_named_intensity(value)) {
    CarbonIntensity ci = from_grid(named->intensity);
    ci.source = fmt::format("{}: {}", named->name, named->description);
    return ci;
  }
  std::string names;
  for (const auto& named : reference::named_intensities()) names += (names.empty() ? "" : ", ") + named.name;
  throw UsageError(
      fmt::format("{}: '{}' is neither a number (gCO2e/kWh) nor a known figure ({})", option, value, names));
}

CarbonIntensity carbon_intensity_from_region(const std::string& code, const std::string& option) {
  if (const auto grid = reference::find_grid_intensity(code)) return from_grid(*grid);
  throw UsageError(fmt::format(
      "{}: unknown country or region '{}' (use an ISO 3166-1 alpha-2 code such as FR, or a region such as "
      "US-CA)",
      option, code));
}

CarbonIntensity resolve_carbon_intensity(const CarbonIntensityRequest& request, const TimeZoneSource& tz) {
  if (request.intensity_flag) {
    CarbonIntensity ci = carbon_intensity_from_value(*request.intensity_flag, "--carbon-intensity");
    ci.selected_by = "--carbon-intensity " + *request.intensity_flag;
    return ci;
  }
  if (request.country_flag) {
    CarbonIntensity ci = carbon_intensity_from_region(*request.country_flag, "--country");
    ci.selected_by = "--country " + *request.country_flag;
    return ci;
  }
  if (request.intensity_config) {
    CarbonIntensity ci =
        carbon_intensity_from_value(*request.intensity_config, request.config_file + ": carbon_intensity");
    ci.selected_by = "config " + request.config_file;
    return ci;
  }
  if (request.country_config) {
    CarbonIntensity ci =
        carbon_intensity_from_region(*request.country_config, request.config_file + ": country");
    ci.selected_by = "config " + request.config_file;
    return ci;
  }
  if (const auto zone = detect_time_zone(tz)) {
    if (const auto country = reference::country_for_timezone(*zone)) {
      if (const auto grid = reference::find_grid_intensity(*country)) {
        CarbonIntensity ci = from_grid(*grid);
        ci.selected_by =
            fmt::format("time zone {} → {} (offline guess; set --country to be sure)", *zone, *country);
        return ci;
      }
    }
  }
  CarbonIntensity ci = from_grid(reference::world_average());
  ci.selected_by = "world average (no --carbon-intensity, --country, config or time zone with a country)";
  return ci;
}

}  // namespace wattprint
