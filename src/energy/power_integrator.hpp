// Turns power readings that each average over a window (a BMC's rolling average, an ACPI power meter's
// averaging interval, or an instantaneous value) into energy over a run, in constant memory.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/units.hpp"
#include "energy/counter_track.hpp"

namespace wattprint {

/// Energy from power readings. A reading taken at t that averages over the window w is the best estimate
/// of the power at the window's middle, t − w/2 (exactly so when power changes linearly). Between those
/// midpoints power is interpolated linearly; before the first and after the last it is held flat. The
/// result is the integral of that curve over [0, end] (seconds since the start of the run).
/// Failed readings are bridged by the interpolation and recorded as degraded spans (from the last good
/// reading to the next good one, or to the end).
class PowerIntegrator {
 public:
  /// A good reading taken `at_s` seconds after the start (readings must come in time order).
  void add(double at_s, Watts power, Seconds window);
  /// A failed reading at `at_s`, with its one-line reason.
  void add_failure(double at_s, const std::string& error);
  /// The energy over [0, end_s]; nullopt when no reading succeeded. Readings after end_s are clipped.
  /// Also resolves every boundary still waiting for readings.
  [[nodiscard]] std::optional<Joules> finish(double end_s);

  /// Asks for the energy over [0, at_s] (a phase boundary), resolved as soon as the readings around at_s
  /// are in, at the latest by finish(). Boundaries get consecutive ids from 0, in the order of the calls.
  void add_boundary(double at_s);
  /// The energy over [0, t] of each boundary, in id order, after finish(); nullopt without readings.
  [[nodiscard]] const std::vector<std::optional<double>>& boundary_energies_j() const { return boundary_j_; }
  /// The energy over [0, at_s] from what is known now (held flat after the last reading).
  [[nodiscard]] std::optional<double> energy_so_far_j(double at_s) const;

  [[nodiscard]] std::uint64_t readings() const { return readings_; }
  [[nodiscard]] std::uint64_t failures() const { return failures_; }
  [[nodiscard]] const std::vector<DegradedSpan>& degraded_spans() const { return spans_; }
  [[nodiscard]] std::optional<Watts> min_power() const;
  [[nodiscard]] std::optional<Watts> max_power() const;
  /// Mean of the readings' windows (0 for instantaneous sensors).
  [[nodiscard]] Seconds mean_window() const;

 private:
  /// ∫ over [from, to] ∩ [0, limit] of the line through (a, pa) and (b, pb).
  static double segment(double a, double pa, double b, double pb, double limit);

  bool have_point_ = false;
  double last_mid_s_ = 0.0;
  double last_power_w_ = 0.0;
  double last_good_at_s_ = 0.0;
  double integral_j_ = 0.0;  ///< over [0, last_mid_s_]
  bool span_open_ = false;
  std::uint64_t readings_ = 0;
  std::uint64_t failures_ = 0;
  double min_w_ = 0.0;
  double max_w_ = 0.0;
  double window_sum_s_ = 0.0;
  std::vector<DegradedSpan> spans_;

  /// The last readings' midpoints, power and integral up to them, for boundaries asked for late.
  struct Point {
    double mid_s;
    double power_w;
    double integral_j;
  };
  static constexpr std::size_t kHistory = 256;
  std::vector<Point> history_;  ///< ring of at most kHistory points
  std::size_t history_next_ = 0;
  std::vector<std::optional<double>> boundary_j_;
  std::vector<std::pair<std::size_t, double>> pending_;  ///< (id, time) of boundaries after the last midpoint
  [[nodiscard]] double integral_at(double t) const;      ///< from history_; t ≤ last_mid_s_
};

}  // namespace wattprint
