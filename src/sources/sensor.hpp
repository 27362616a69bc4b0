// What every sensor family shares: static sensor facts, availability with remedies, and raw counter reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/units.hpp"

namespace wattprint {

/// What a sensor measures. Packages and DRAM add up to the machine's CPU and memory energy;
/// core and uncore lie inside their package, psys covers the whole platform including the package.
/// A GPU's energy is accounted on its own (measured.gpu_j), never in the CPU and memory totals.
enum class Component { CpuPackage, Dram, CpuCore, Uncore, Psys, Gpu };

const char* component_name(Component component) noexcept;

/// Whether a sensor's energy is counted in the machine totals (never counted twice).
constexpr bool is_additive(Component component) noexcept {
  return component == Component::CpuPackage || component == Component::Dram;
}

/// Static facts about one energy counter, shown by `wattprint sensors` and in reports.
struct SensorInfo {
  std::string name;    ///< "rapl.package-0", "rapl.package-0.dram"
  std::string family;  ///< "rapl"
  Component component = Component::CpuPackage;
  std::string origin;                 ///< the file read, for the report
  std::uint64_t counter_max = 0;      ///< raw counter goes from counter_max back to 0 (max_energy_range_uj)
  double joules_per_raw_unit = 1e-6;  ///< 1e-6 for energy_uj
  std::optional<Watts> max_power;     ///< the zone's maximum power when the kernel gives it
};

/// Whether a source or one of its sensors can be used here, and what to do when not.
struct SensorStatus {
  enum class State { Ok, Absent, Unreadable, Error };
  std::string name;  ///< "rapl", "rapl.package-0"
  State state = State::Absent;
  std::string path;    ///< what was looked at
  std::string reason;  ///< why not usable (empty when ok)
  std::string remedy;  ///< what the user can do (may be empty)
};

const char* state_name(SensorStatus::State state) noexcept;

/// One family of energy counters (RAPL now; NVML, hwmon, IPMI later). Opened once, read on every tick.
class EnergyCounterSource {
 public:
  virtual ~EnergyCounterSource() = default;
  /// Every sensor the family knows here, usable or not, with reasons and remedies.
  [[nodiscard]] virtual const std::vector<SensorStatus>& statuses() const = 0;
  /// The usable counters, in the order `read` fills its output.
  [[nodiscard]] virtual const std::vector<SensorInfo>& sensors() const = 0;
  /// Reads every usable counter: raw[i] and errors[i] (0, or an errno value; EBADMSG for garbage).
  /// Hot path: no allocation, never throws.
  virtual void read(std::vector<std::uint64_t>& raw, std::vector<int>& errors) noexcept = 0;
};

}  // namespace wattprint
