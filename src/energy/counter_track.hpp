// Turns successive raw readings of one energy counter into joules: wraps, gaps, resets and read errors.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/units.hpp"
#include "sources/sensor.hpp"

namespace wattprint {

/// Raw difference of a counter that counts up to `counter_max` and then restarts at 0.
/// `wrapped` is true when current < previous (at most one wrap can be assumed).
struct CounterDifference {
  std::uint64_t raw = 0;
  bool wrapped = false;
};
CounterDifference counter_difference(std::uint64_t previous, std::uint64_t current,
                                     std::uint64_t counter_max) noexcept;

/// A span of run time (seconds since the start) during which a sensor gave no trustworthy energy.
struct DegradedSpan {
  double start_s = 0.0;
  double end_s = 0.0;
  std::string error;
};

/// The energy of one counter over a run. Readings must come in time order.
/// - A read error opens a degraded span; the counter is resynchronised when reads succeed again, and the
///   energy across the gap is kept only if the gap is shorter than half the counter's wrap period.
/// - A decrease is a wrap only if the implied power is plausible (≤ 4 × the zone's maximum power, or
///   ≤ 1 kW per zone when the kernel gives none); otherwise it is a reset and adds nothing.
class CounterTrack {
 public:
  explicit CounterTrack(const SensorInfo& sensor);

  /// Feeds one reading taken `at_s` seconds after the start; `error` is 0 or an errno value.
  /// Returns the energy added since the previous good reading. Never throws on the hot path except
  /// when a degraded span must be recorded (rare, allocation of the error text).
  Joules update(double at_s, std::uint64_t raw, int error);
  /// Takes a reading as the new starting point without adding the difference from the previous one: the
  /// first reading after the machine resumed from suspend (what the counter gained while it slept is not the
  /// command's energy, and a counter that restarted in suspend is no wrap). A read error is handled as by
  /// update(), and the next good reading becomes the starting point.
  void resynchronise(double at_s, std::uint64_t raw, int error);

  [[nodiscard]] Joules total() const { return total_; }
  [[nodiscard]] const std::vector<DegradedSpan>& degraded_spans() const { return spans_; }
  /// Longest time between reads that cannot lose a wrap, in seconds (half the wrap period at the plausible
  /// power). The sampler reads at most half as far apart, so scheduling delays never reach it.
  [[nodiscard]] double safe_read_period_s() const { return safe_period_s_; }

 private:
  void mark_degraded(double start_s, double end_s, const std::string& error);
  void close_span(double at_s);
  void start_from(double at_s, std::uint64_t raw);

  double joules_per_unit_;
  std::uint64_t counter_max_;
  double plausible_watts_;
  double safe_period_s_;
  bool have_previous_ = false;
  std::uint64_t previous_raw_ = 0;
  double previous_at_s_ = 0.0;
  bool span_open_ = false;
  Joules total_{};
  std::vector<DegradedSpan> spans_;
};

}  // namespace wattprint
