#pragma once

// Embedded reference data (hardware power figures, grid carbon intensities, time zone -> country)
// and lookups over it. The tables are compiled into the library from data/*.csv; origins, years,
// licences and attribution are in data/SOURCES.md. All functions are thread-safe: the tables are
// parsed once, on first use, into function-local statics.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wattprint::reference {

struct CpuSpec {
  std::string model;
  double tdp_w;
  int cores;
  std::string source;
};

struct GpuSpec {
  std::string model;
  double tdp_w;
  std::string source;
};

struct GridIntensity {
  std::string code;  // ISO 3166-1 alpha-2 ("FR"), region "CC-RR" ("US-CA") or "WORLD"
  std::string name;
  double g_per_kwh;  // gCO2e per kWh
  int year;          // year the figure describes
  std::string source;
};

struct NamedIntensity {
  std::string name;  // e.g. "ADEME-2018-FR"
  GridIntensity intensity;
  std::string description;
};

struct TimezoneCountry {
  std::string timezone;  // IANA name, e.g. "Europe/Paris"
  std::string country;   // ISO 3166-1 alpha-2
};

// Lower-case, drops (R) (TM) ® ™, "CPU", "Processor", "APU", "@ 2.10GHz" frequency suffixes,
// "NN-Core"/"Quad-Core", "12th Gen", " with Radeon Graphics" etc.; collapses spaces.
// Must stay identical to normalise_model_name() in tools/update-reference-data.py.
std::string normalise_model_name(std::string_view name);

// Matches a /proc/cpuinfo "model name" (e.g. "Intel(R) Xeon(R) Silver 4110 CPU @ 2.10GHz",
// "AMD EPYC 7742 64-Core Processor") or a user-typed name ("Xeon Silver 4110"): exact normalised
// match first, else the table entry whose tokens all appear in the query (vendor word optional),
// the most specific (most tokens) winning. Every query token containing a digit must appear in the
// entry, so a model number must match exactly ("4110" never matches "4110T", "E5-2680 v3" never
// matches "E5-2680"). nullopt when nothing fits.
std::optional<CpuSpec> find_cpu(std::string_view model_name);

// Same idea for GPUs: NVML names like "Tesla T4", "NVIDIA A100-SXM4-40GB", "NVIDIA H100 80GB HBM3",
// "Quadro RTX 6000", "NVIDIA H100 PCIe". Names are split on spaces, '-', '_', '/', ',' and
// parentheses; "NVIDIA", "AMD", "Tesla", "GeForce" and "Google" are optional words.
std::optional<GpuSpec> find_gpu(std::string_view name);

// The same matchers over a caller-supplied table (used by tests; handy for user overrides).
std::optional<CpuSpec> find_cpu_in(const std::vector<CpuSpec>& table, std::string_view model_name);
std::optional<GpuSpec> find_gpu_in(const std::vector<GpuSpec>& table, std::string_view name);

std::optional<GridIntensity> find_grid_intensity(std::string_view code);    // "FR", "fr", "US-CA"
std::optional<NamedIntensity> find_named_intensity(std::string_view name);  // case-insensitive
const std::vector<NamedIntensity>& named_intensities();
GridIntensity world_average();  // code "WORLD"

// "Europe/Paris" -> "FR". Also accepts ":Europe/Paris" ($TZ syntax) and paths such as
// "/usr/share/zoneinfo/Europe/Paris" (an /etc/localtime link target). UTC/Etc zones -> nullopt.
std::optional<std::string> country_for_timezone(std::string_view iana_name);

// Whole tables, in file order.
const std::vector<CpuSpec>& cpu_specs();
const std::vector<GpuSpec>& gpu_specs();
const std::vector<GridIntensity>& grid_intensities();
const std::vector<TimezoneCountry>& timezone_countries();

// Fallbacks documented in data/SOURCES.md: Green Algorithms "Any" CPU = 12 W per core; GPU "Any" = 200 W.
inline constexpr double kFallbackCpuWattsPerCore = 12.0;
inline constexpr double kFallbackGpuWatts = 200.0;
inline constexpr double kMemoryWattsPerGigabyte = 0.3725;  // Green Algorithms referenceValues.csv

}  // namespace wattprint::reference
