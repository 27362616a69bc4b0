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
  const double before_j = integral_j_;
  if (have_point_) {
    mid = std::max(mid, last_mid_s_);  // midpoints never go back in time
    integral_j_ += segment(last_mid_s_, last_power_w_, mid, power.value, mid);
  } else {
    // Flat before the first reading: the run's first seconds get the first power seen.
    integral_j_ += power.value * std::max(0.0, mid);
    min_w_ = max_w_ = power.value;
  }
  // Boundaries between the previous midpoint and this one are known now.
  std::erase_if(pending_, [&](const std::pair<std::size_t, double>& boundary) {
    const double t = boundary.second;
    if (t > mid) return false;
    boundary_j_[boundary.first] = have_point_
                                      ? before_j + segment(last_mid_s_, last_power_w_, mid, power.value, t)
                                      : power.value * std::max(0.0, t);
    return true;
  });
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
  const Point point{mid, power.value, integral_j_};
  if (history_.size() < kHistory) {
    history_.push_back(point);
  } else {
    history_[history_next_] = point;
  }
  history_next_ = (history_next_ + 1) % kHistory;
}

double PowerIntegrator::integral_at(double t) const {
  // The newest point at or before t, and the one after it.
  const std::size_t n = history_.size();
  const std::size_t oldest = n < kHistory ? 0 : history_next_;
  const Point* before = nullptr;
  const Point* after = nullptr;
  for (std::size_t k = 0; k < n; ++k) {
    const Point& p = history_[(oldest + k) % n];
    if (p.mid_s <= t) {
      before = &p;
    } else {
      after = &p;
      break;
    }
  }
  if (before == nullptr) {
    // Older than the history (or before the first reading): flat from the oldest point kept.
    const Point& first = history_[oldest];
    return first.integral_j - first.power_w * std::max(0.0, first.mid_s - std::max(0.0, t));
  }
  if (after == nullptr) return before->integral_j + before->power_w * (t - before->mid_s);
  return before->integral_j + segment(before->mid_s, before->power_w, after->mid_s, after->power_w, t);
}

void PowerIntegrator::add_boundary(double at_s) {
  const std::size_t id = boundary_j_.size();
  boundary_j_.emplace_back();
  if (have_point_ && at_s <= last_mid_s_) {
    boundary_j_[id] = std::max(0.0, integral_at(at_s));
  } else {
    pending_.emplace_back(id, at_s);
  }
}

std::optional<double> PowerIntegrator::energy_so_far_j(double at_s) const {
  if (!have_point_) return std::nullopt;
  if (at_s <= last_mid_s_) return std::max(0.0, integral_at(at_s));
  return integral_j_ + last_power_w_ * (at_s - last_mid_s_);
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
  if (!have_point_) {
    pending_.clear();
    return std::nullopt;
  }
  for (const auto& [id, t] : pending_) {
    boundary_j_[id] = integral_j_ + last_power_w_ * (std::min(t, end_s) - last_mid_s_);
  }
  pending_.clear();
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
