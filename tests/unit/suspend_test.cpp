// Suspend and resume during a run: the samplers read running time (CLOCK_MONOTONIC) and see the machine's
// sleep through Clock::suspended_total(); what the counters gained while it slept is not billed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "attribution/process_tree.hpp"
#include "fakes/suspendable_clock.hpp"
#include "report/summary_text.hpp"
#include "sampling/run_sampler.hpp"

namespace wattprint {
namespace {

using testing::SuspendableClock;
using namespace std::chrono_literals;

constexpr double kRunningWatts = 10.0;
constexpr double kAsleepWatts = 10.0;

/// A package counter (µJ) that gains 10 W of running time plus 10 W of the time the clock says the machine
/// slept: a suspend of 1 s shows up as a 10 J step between two readings taken milliseconds apart in running
/// time (200 W over a 50 ms period: plausible, so only the suspend check can keep it out).
class SleepingPackage final : public EnergyCounterSource {
 public:
  explicit SleepingPackage(const Clock& clock) : clock_(clock) {
    SensorInfo info;
    info.name = "fake.package-0";
    info.family = "fake";
    info.component = Component::CpuPackage;
    info.counter_max = 1ULL << 48;
    info.joules_per_raw_unit = 1e-6;
    sensors_.push_back(info);
  }
  [[nodiscard]] const std::vector<SensorStatus>& statuses() const override { return statuses_; }
  [[nodiscard]] const std::vector<SensorInfo>& sensors() const override { return sensors_; }
  void read(std::vector<std::uint64_t>& raw, std::vector<int>& errors) noexcept override {
    const double running_s = std::chrono::duration<double>(clock_.steady_now() - start_).count();
    const double joules = kRunningWatts * running_s + kAsleepWatts * clock_.suspended_total().count();
    raw[0] = static_cast<std::uint64_t>(joules * 1e6);
    errors[0] = 0;
  }

 private:
  const Clock& clock_;
  SteadyTime start_ = std::chrono::steady_clock::now();
  std::vector<SensorStatus> statuses_;
  std::vector<SensorInfo> sensors_;
};

double seconds_since(SteadyTime t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

struct SuspendRun {
  RunMeasurement m;
  double suspended_at_s = 0.0;  ///< running time of the run when the clock slept (0: no suspend)
};

/// A 0.4-s run read every 50 ms, with a suspend of `sleep_s` in the middle when sleep_s > 0.
SuspendRun run_with_suspend(double sleep_s) {
  SuspendableClock clock;
  std::vector<std::unique_ptr<EnergyCounterSource>> sources;
  sources.push_back(std::make_unique<SleepingPackage>(clock));
  const ProcFs procfs("/proc");
  ProcessTreeMonitor tree(procfs, ::getpid());
  RunSampler sampler(std::move(sources), tree, procfs, clock, Seconds(0.05));
  const SteadyTime before = clock.steady_now();
  sampler.start();
  std::this_thread::sleep_for(200ms);
  SuspendRun run;
  if (sleep_s > 0.0) {
    run.suspended_at_s = seconds_since(before);
    clock.suspend(sleep_s);
  }
  std::this_thread::sleep_for(200ms);
  run.m = sampler.finish();
  return run;
}

TEST(RunSamplerSuspend, WithoutASuspendEveryJouleCounts) {
  const RunMeasurement m = run_with_suspend(0.0).m;
  EXPECT_TRUE(m.suspended.empty());
  // From the first reading (t = 0) to the last (t = duration).
  EXPECT_NEAR(m.package.value, kRunningWatts * m.duration_s, 0.05);
}

TEST(RunSamplerSuspend, WhatTheCountersGainInSuspendIsNotBilled) {
  const SuspendRun run = run_with_suspend(1.0);
  const RunMeasurement& m = run.m;
  ASSERT_EQ(m.suspended.size(), 1U);
  EXPECT_DOUBLE_EQ(m.suspended[0].duration_s, 1.0);
  // The span is placed at the last reading before the sleep: at most one counter period (50 ms, plus the
  // scheduler's delays) earlier.
  EXPECT_LE(m.suspended[0].at_s, run.suspended_at_s);
  EXPECT_GE(m.suspended[0].at_s, run.suspended_at_s - 0.15);
  // The run's duration is running time: the second slept is not in it.
  EXPECT_LT(m.duration_s, 1.0);
  EXPECT_GT(m.duration_s, 0.39);
  // 10 W of running time, less the one or two read periods that straddled the sleep (dropped whole: they
  // cannot be split); the 10 J gained in the sleep are not there.
  EXPECT_LE(m.package.value, kRunningWatts * m.duration_s + 0.05);
  EXPECT_GE(m.package.value, kRunningWatts * (m.duration_s - 0.15));
  ASSERT_EQ(m.sensors.size(), 1U);
  EXPECT_DOUBLE_EQ(m.sensors[0].energy.value, m.package.value);
  EXPECT_TRUE(m.sensors[0].degraded.empty());
  // The CPU counters do not advance in suspend either: the command's share stays a share.
  EXPECT_LE(m.attributed_package.value, m.package.value + 1e-9);
  EXPECT_GE(m.attributed_package.value, 0.0);
}

/// A card that reads 100 W until the machine has slept, 300 W after.
class StepCard final : public ServerPowerSource {
 public:
  explicit StepCard(const Clock& clock) : clock_(clock) {}
  [[nodiscard]] const std::string& family() const override { return family_; }
  [[nodiscard]] const std::string& origin() const override { return family_; }
  ServerRead read() noexcept override {
    const double watts = clock_.suspended_total().count() > 0.0 ? 300.0 : 100.0;
    return {ServerPowerReading{Watts{watts}, Seconds(0.0)}, ""};
  }

 private:
  const Clock& clock_;
  std::string family_ = "step";
};

TEST(ServerSamplerSuspend, PowerIsIntegratedOverRunningTimeOnly) {
  SuspendableClock clock;
  ServerSampler sampler(std::make_unique<StepCard>(clock), clock, Seconds(0.05));
  const SteadyTime origin = clock.steady_now();
  sampler.start(origin);
  std::this_thread::sleep_for(300ms);
  const double suspended_at_s = seconds_since(origin);
  clock.suspend(5.0);
  std::this_thread::sleep_for(300ms);
  const double end_s = seconds_since(origin);
  const ServerEnergy energy = sampler.finish(end_s);
  ASSERT_TRUE(energy.energy);
  // 100 W before the sleep and 300 W after, over running time: the 5 s slept add nothing (billed, they
  // would add 500 J or more), and the step stays where it happened in running time (on a clock that counted
  // the sleep, the 300 W would fall after the end). Linear interpolation between readings 50 ms apart
  // blurs the step by at most 200 W × 0.1 s.
  const double expected = 100.0 * suspended_at_s + 300.0 * (end_s - suspended_at_s);
  EXPECT_NEAR(energy.energy->value, expected, 25.0);
}

TEST(SuspendWarning, SaysHowLongAndWhen) {
  EXPECT_EQ(suspend_warning({12.34, 30.0}),
            "the machine was suspended for 30.0 s at t=12.3 s; that time is not counted as running and its "
            "energy is not billed");
}

TEST(SystemClockSuspend, SuspendedTotalIsBoottimeMinusMonotonic) {
  const SystemClock clock;
  timespec boot{};
  timespec monotonic{};
  ASSERT_EQ(::clock_gettime(CLOCK_BOOTTIME, &boot), 0);
  const double first = clock.suspended_total().count();
  ASSERT_EQ(::clock_gettime(CLOCK_MONOTONIC, &monotonic), 0);
  EXPECT_GE(first, 0.0);
  // It never exceeds the time since boot, and two readings (no suspend between) agree to well under the
  // sampler's threshold.
  EXPECT_LE(first, static_cast<double>(boot.tv_sec) + 1.0);
  EXPECT_NEAR(clock.suspended_total().count(), first, 0.01);
  EXPECT_LT(0.01, RunSampler::kSuspendThresholdS);
}

}  // namespace
}  // namespace wattprint
