// A Clock for tests that can make the machine "sleep": suspend(d) adds d to the suspended total and to the
// wall clock, as a real suspend does (CLOCK_MONOTONIC stops, CLOCK_BOOTTIME and CLOCK_REALTIME go on).
// Running time is the machine's steady clock, so the samplers' threads and waits keep working.
#pragma once

#include <atomic>
#include <chrono>

#include "core/clock.hpp"

namespace wattprint::testing {

class SuspendableClock final : public Clock {
 public:
  [[nodiscard]] SteadyTime steady_now() const override { return std::chrono::steady_clock::now(); }
  [[nodiscard]] WallTime wall_now() const override {
    return std::chrono::system_clock::now() +
           std::chrono::duration_cast<std::chrono::system_clock::duration>(suspended_total());
  }
  [[nodiscard]] std::chrono::duration<double> suspended_total() const override {
    return std::chrono::duration<double>(suspended_s_.load());
  }
  /// The machine sleeps for `seconds` now (instantly, as far as running time goes).
  void suspend(double seconds) { suspended_s_.store(suspended_s_.load() + seconds); }

 private:
  std::atomic<double> suspended_s_{0.0};
};

}  // namespace wattprint::testing
