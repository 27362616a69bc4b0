// Power readings → energy: window midpoints, linear interpolation, flat ends, clipping to the run.
#include "energy/power_integrator.hpp"

#include <algorithm>

namespace wattprint {

double PowerIntegrator::segment(double a, double pa, double b, double pb, double limit) {
  const double from = std::max(a, 0.0);
  const double to = std::min(b, limit);
  if (to <= from) return 0.0;
  if (b <= a) return pb * (to - from);
  const auto at = [&](double t) { return pa + (pb - pa) * (t - a) / (b - a); };
  return 0.5 * (at(from) + at(to)) * (to - from);
}

void PowerIntegrator::add(double at_s, Watts power, Seconds window) {
  const double w = std::max(0.0, window.count());
  double mid = at_s - 0.5 * w;
  if (have_point_) {
    mid = std::max(mid, last_mid_s_);  // midpoints never go back in time
    integral_j_ += segment(last_mid_s_, last_power_w_, mid, power.value, mid);
  } else {
    // Flat before the first reading: the run's first seconds get the first power seen.
    integral_j_ += power.value * std::max(0.0, mid);
    min_w_ = max_w_ = power.value;
  }
  if (span_open_) {
    spans_.back().end_s = at_s;
    span_open_ = false;
  }
  have_point_ = true;
  last_mid_s_ = mid;
  last_power_w_ = power.value;
  last_good_at_s_ = at_s;
  min_w_ = std::min(min_w_, power.value);
  max_w_ = std::max(max_w_, power.value);
  window_sum_s_ += w;
  ++readings_;
}

void PowerIntegrator::add_failure(double at_s, const std::string& error) {
  ++failures_;
  if (span_open_) {
    spans_.back().end_s = at_s;
    if (spans_.back().error != error && spans_.back().error.find(error) == std::string::npos &&
        spans_.back().error.size() < 400) {
      spans_.back().error += "; " + error;
    }
    return;
  }
  spans_.push_back({have_point_ ? last_good_at_s_ : 0.0, at_s, error});
  span_open_ = true;
}

std::optional<Joules> PowerIntegrator::finish(double end_s) {
  if (span_open_) {
    spans_.back().end_s = end_s;
    span_open_ = false;
  }
  if (!have_point_) return std::nullopt;
  // The integral so far runs to the last midpoint; a midpoint past the end is clipped, flat to the end.
  double total = integral_j_;
  if (last_mid_s_ > end_s) {
    // Only reachable when readings are taken after end_s, which ServerSampler prevents by clamping them to
    // it; held flat, the last power is taken back over the overshoot.
    total -= last_power_w_ * (last_mid_s_ - end_s);
  } else {
    total += last_power_w_ * (end_s - std::max(last_mid_s_, 0.0));
  }
  return Joules{std::max(0.0, total)};
}

std::optional<Watts> PowerIntegrator::min_power() const {
  return readings_ > 0 ? std::optional<Watts>(Watts{min_w_}) : std::nullopt;
}
std::optional<Watts> PowerIntegrator::max_power() const {
  return readings_ > 0 ? std::optional<Watts>(Watts{max_w_}) : std::nullopt;
}
Seconds PowerIntegrator::mean_window() const {
  return Seconds(readings_ > 0 ? window_sum_s_ / static_cast<double>(readings_) : 0.0);
}

}  // namespace wattprint
