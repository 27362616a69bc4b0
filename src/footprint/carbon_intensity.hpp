// Grid carbon intensity (gCO2e/kWh): from a number, a named figure, a country or region, the time zone,
// or the world average — always with its source and year.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace wattprint {

struct CarbonIntensity {
  double g_per_kwh = 0.0;
  std::string source;       ///< "Our World in Data (Ember), 2023"
  std::string region;       ///< "FR", "US-CA", "WORLD", or empty for a bare number
  int year = 0;             ///< 0 when unknown
  std::string selected_by;  ///< "--country FR", "config ~/.config/…", "time zone Europe/Paris", "default"
};

/// What the user asked for, flag by flag; flags win over the configuration.
struct CarbonIntensityRequest {
  std::optional<std::string> intensity_flag;  ///< number or named figure
  std::optional<std::string> country_flag;
  std::optional<std::string> intensity_config;
  std::optional<std::string> country_config;
  std::string config_file;  ///< for the report
};

/// Where the time zone is read from: TZ, else <etc>/localtime (a link into zoneinfo), else <etc>/timezone.
struct TimeZoneSource {
  std::optional<std::string> tz_variable;
  std::filesystem::path etc_dir = "/etc";
};

/// The IANA name of the configured time zone, if it can be told.
std::optional<std::string> detect_time_zone(const TimeZoneSource& source);

/// Resolves the carbon intensity. Throws UsageError (one line naming the option) for an unknown country or
/// name, or a negative or non-numeric value.
CarbonIntensity resolve_carbon_intensity(const CarbonIntensityRequest& request, const TimeZoneSource& tz);

/// Parses a number or a named figure given to `option` (for the error message).
CarbonIntensity carbon_intensity_from_value(const std::string& value, const std::string& option);

/// The table entry for a country or region code given to `option`.
CarbonIntensity carbon_intensity_from_region(const std::string& code, const std::string& option);

}  // namespace wattprint
