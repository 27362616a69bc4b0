// The clock every sampler and report reads, injectable so that tests can drive time.
#pragma once

#include <algorithm>
#include <chrono>
#include <ctime>

namespace wattprint {

using SteadyTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  /// Running time: std::chrono::steady_clock is CLOCK_MONOTONIC on Linux, which stops while the machine
  /// is suspended, so durations measured with it exclude the time spent asleep.
  [[nodiscard]] virtual SteadyTime steady_now() const = 0;
  [[nodiscard]] virtual WallTime wall_now() const = 0;
  /// Total time the machine has spent suspended since it booted (seconds, never decreasing): the samplers
  /// compare two values of it to see a suspend between two readings.
  [[nodiscard]] virtual std::chrono::duration<double> suspended_total() const = 0;
};

/// The real clocks of the machine.
class SystemClock final : public Clock {
 public:
  [[nodiscard]] SteadyTime steady_now() const override { return std::chrono::steady_clock::now(); }
  [[nodiscard]] WallTime wall_now() const override { return std::chrono::system_clock::now(); }
  /// CLOCK_BOOTTIME − CLOCK_MONOTONIC: the first counts the time in suspend, the second does not. The two
  /// reads are microseconds apart, far below any suspend worth reporting.
  [[nodiscard]] std::chrono::duration<double> suspended_total() const override {
    timespec monotonic{};
    timespec boot{};
    ::clock_gettime(CLOCK_MONOTONIC, &monotonic);
    ::clock_gettime(CLOCK_BOOTTIME, &boot);
    const auto seconds = [](const timespec& t) {
      return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
    };
    return std::chrono::duration<double>(std::max(0.0, seconds(boot) - seconds(monotonic)));
  }
};

}  // namespace wattprint
