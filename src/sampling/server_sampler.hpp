// Whole-server power sampling on its own thread and cadence, so that a management card that answers slowly
// or not at all never delays the reads of the other sensors.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "core/units.hpp"
#include "energy/power_integrator.hpp"
#include "sources/server/server_power_source.hpp"

namespace wattprint {

/// The whole server's energy over a run, from one server power source.
struct ServerEnergy {
  std::string family;            ///< "ipmi-dcmi", "redfish", "acpi-power-meter"
  std::string origin;            ///< where the readings came from (never a password)
  std::optional<Joules> energy;  ///< nullopt when no reading succeeded
  std::uint64_t readings = 0;
  std::uint64_t failures = 0;
  std::string last_error;
  std::optional<Watts> min_power;
  std::optional<Watts> max_power;
  Seconds mean_window{0.0};  ///< mean averaging window of the readings (0: instantaneous)
  Seconds period{0.0};       ///< time between readings asked for
  std::vector<DegradedSpan> degraded;
  /// Energy over [0, t] for each boundary asked for with ServerSampler::add_boundary, in order (joules;
  /// nullopt without readings).
  std::vector<std::optional<double>> boundary_energy_j;
};

/// What the server sampler knows at one moment, for the per-sample rows.
struct ServerNow {
  std::optional<double> power_w;   ///< the last good reading
  std::optional<double> energy_j;  ///< over [0, at_s], held flat after the last reading
};

/// Readings above this (or at or below 0 W) are rejected as implausible: no single server draws 100 kW.
inline constexpr double kMaxServerWatts = 100'000.0;

/// Reads one ServerPowerSource every `period` on its own thread (first reading at start) and integrates the
/// readings with PowerIntegrator. Its thread blocks every signal.
class ServerSampler {
 public:
  ServerSampler(std::unique_ptr<ServerPowerSource> source, const Clock& clock, Seconds period);
  ~ServerSampler();
  ServerSampler(const ServerSampler&) = delete;
  ServerSampler& operator=(const ServerSampler&) = delete;

  /// Starts the thread; times are counted from `origin` (the run's start).
  void start(SteadyTime origin);
  /// Stops the thread after one last reading (bounded by the source's timeout; skipped when the reading
  /// before failed) and returns the energy over [0, end_s]. Readings finishing after end_s count as taken at
  /// end_s. A reading in flight is waited for.
  ServerEnergy finish(double end_s);

  /// The energy over [0, at_s] while the sampler runs (held flat after the last reading), with the readings
  /// and boundaries so far: what finish() would say if the run ended at at_s (thread-safe; for the journal's
  /// snapshots).
  [[nodiscard]] ServerEnergy so_far(double at_s);
  /// A phase boundary at `at_s`: its cumulative energy is resolved as readings come (thread-safe).
  void add_boundary(double at_s);
  [[nodiscard]] ServerNow now(double at_s);
  [[nodiscard]] const std::string& origin() const { return source_->origin(); }

 private:
  void loop();
  void take_reading();
  /// Everything but the energy, from the integrator (the caller holds mutex_ or the thread has ended).
  ServerEnergy describe(std::optional<Joules> energy) const;
  double since_origin(SteadyTime t) const { return std::chrono::duration<double>(t - origin_).count(); }

  std::unique_ptr<ServerPowerSource> source_;
  const Clock& clock_;
  Seconds period_;
  SteadyTime origin_{};
  PowerIntegrator integrator_;
  std::string last_error_;
  std::thread thread_;
  std::mutex mutex_;  ///< guards stopping_, end_s_, the integrator and last_error_
  std::condition_variable wake_;
  bool stopping_ = false;
  std::optional<double> end_s_;
  bool last_read_ok_ = false;
  std::optional<double> last_power_w_;
};

}  // namespace wattprint
