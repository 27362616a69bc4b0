// Counter differencing with wrap, gap and reset handling; energies in joules.
#include "energy/counter_track.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace wattprint {

namespace {
constexpr double kDefaultPlausibleWatts = 1000.0;
// constraint_*_max_power_uw is often the long-term limit (PL1); turbo (PL2) can draw twice that.
constexpr double kMaxPowerMargin = 4.0;
constexpr std::size_t kMaxSpans = 1000;
}  // namespace

CounterDifference counter_difference(std::uint64_t previous, std::uint64_t current,
                                     std::uint64_t counter_max) noexcept {
  if (current >= previous) return {current - previous, false};
  // The counter passed counter_max and restarted at 0 (the true modulus is one unit more; the error is
  // one least significant unit, as in the kernel's own tools).
  const std::uint64_t before_wrap = counter_max >= previous ? counter_max - previous : 0;
  return {before_wrap + current, true};
}

CounterTrack::CounterTrack(const SensorInfo& sensor)
    : joules_per_unit_(sensor.joules_per_raw_unit),
      counter_max_(sensor.counter_max),
      plausible_watts_(sensor.max_power ? kMaxPowerMargin * sensor.max_power->value
                                        : kDefaultPlausibleWatts) {
  const double range_j = static_cast<double>(counter_max_) * joules_per_unit_;
  safe_period_s_ = range_j / (2.0 * plausible_watts_);
}

void CounterTrack::mark_degraded(double start_s, double end_s, const std::string& error) {
  if (!spans_.empty() && spans_.back().error == error && spans_.back().end_s >= start_s) {
    spans_.back().end_s = std::max(spans_.back().end_s, end_s);
    return;
  }
  if (spans_.size() >= kMaxSpans) {
    spans_.back().end_s = end_s;
    spans_.back().error = "many faults (list truncated)";
    return;
  }
  spans_.push_back({start_s, end_s, error});
}

void CounterTrack::close_span(double at_s) {
  if (span_open_ && !spans_.empty()) spans_.back().end_s = at_s;
  span_open_ = false;
}

void CounterTrack::start_from(double at_s, std::uint64_t raw) {
  have_previous_ = true;
  previous_raw_ = raw;
  previous_at_s_ = at_s;
  close_span(at_s);
}

void CounterTrack::resynchronise(double at_s, std::uint64_t raw, int error) {
  if (error != 0) {
    (void)update(at_s, raw, error);  // opens or extends a degraded span; adds nothing
    have_previous_ = false;          // the next good reading starts afresh
    return;
  }
  start_from(at_s, raw);
}

Joules CounterTrack::update(double at_s, std::uint64_t raw, int error) {
  if (error != 0) {
    const std::string text = error == EBADMSG ? "value is not a number" : std::strerror(error);
    if (span_open_ && !spans_.empty() && spans_.back().error == text) {
      spans_.back().end_s = at_s;
    } else {
      close_span(at_s);
      mark_degraded(have_previous_ ? previous_at_s_ : at_s, at_s, text);
      span_open_ = true;
    }
    return {};
  }
  if (!have_previous_) {
    start_from(at_s, raw);
    return {};
  }
  const bool recovering = span_open_;
  close_span(at_s);
  const double elapsed_s = std::max(at_s - previous_at_s_, 1e-3);
  const CounterDifference diff = counter_difference(previous_raw_, raw, counter_max_);
  const Joules energy{static_cast<double>(diff.raw) * joules_per_unit_};
  const double implied_watts = energy.value / elapsed_s;
  const double gap_start = previous_at_s_;
  previous_raw_ = raw;
  previous_at_s_ = at_s;

  if (implied_watts > plausible_watts_) {
    mark_degraded(gap_start, at_s,
                  diff.wrapped ? "counter went backwards without a plausible wrap (reset?); interval dropped"
                               : "implausible jump of the counter; interval dropped");
    return {};
  }
  if (elapsed_s > safe_period_s_) {
    if (recovering) {
      mark_degraded(gap_start, at_s,
                    "sensor unreadable longer than the counter's wrap period; energy dropped");
      return {};
    }
    mark_degraded(gap_start, at_s,
                  "gap between reads longer than the counter's safe period (suspend?); "
                  "a wrap may be missed");
  }
  total_ += energy;
  return energy;
}

}  // namespace wattprint
