// Phases: the tracker's semantics, the server integrator's boundaries, the sampler's checkpoints at marks,
// and the per-phase methods and statistics.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <mutex>
#include <thread>

#include "attribution/process_tree.hpp"
#include "energy/power_integrator.hpp"
#include "phases/phase_results.hpp"
#include "phases/phase_tracker.hpp"
#include "sampling/run_sampler.hpp"

namespace wattprint {
namespace {

using namespace std::chrono_literals;

TEST(PhaseTracker, RepeatedBeginsGiveConsecutivePhasesAndNestingFollowsTheStack) {
  PhaseTracker t;
  t.begin("epoch", 1.0);
  t.begin("train", 1.5);
  t.end("train", 2.0);
  t.begin("eval", 2.0);
  EXPECT_EQ(t.current_path(), "epoch 1/eval 1");
  t.begin("epoch", 3.0);  // ends epoch 1 and the eval nested in it
  t.begin("train", 3.5);
  t.finish(5.0);
  const auto& p = t.phases();
  ASSERT_EQ(p.size(), 5U);
  EXPECT_EQ(p[0].label(), "epoch 1");
  EXPECT_EQ(p[0].ended_by, "next");
  EXPECT_DOUBLE_EQ(p[0].end_s, 3.0);
  EXPECT_EQ(p[1].label(), "train 1");
  EXPECT_EQ(p[1].parent, 0U);
  EXPECT_EQ(p[1].depth, 1U);
  EXPECT_EQ(p[1].ended_by, "mark");
  EXPECT_EQ(p[2].label(), "eval 1");
  EXPECT_EQ(p[2].ended_by, "parent");
  EXPECT_DOUBLE_EQ(p[2].end_s, 3.0);
  EXPECT_EQ(p[3].label(), "epoch 2");
  EXPECT_EQ(p[3].ended_by, "run-end");
  EXPECT_EQ(p[4].label(), "train 2");
  EXPECT_EQ(p[4].parent, 3U);
  EXPECT_DOUBLE_EQ(p[4].end_s, 5.0);
  // One boundary per distinct moment: 1, 1.5, 2, 3, 3.5, 5.
  EXPECT_EQ(t.boundaries(), (std::vector<double>{1.0, 1.5, 2.0, 3.0, 3.5, 5.0}));
  EXPECT_EQ(p[1].end_boundary, p[2].start_boundary);
  EXPECT_EQ(t.current_path(), "");
}

TEST(PhaseTracker, EndsWithoutAnOpenPhaseAreCountedAndTimeNeverGoesBack) {
  PhaseTracker t;
  t.end("epoch", 0.5);
  t.begin("epoch", 2.0, 7);  // an index captured from the output
  t.begin("epoch", 1.0);     // earlier than the last mark: held at 2.0
  t.end("epoch", 3.0);
  t.end("epoch", 3.5);
  EXPECT_EQ(t.unmatched_ends(), 2U);
  ASSERT_EQ(t.phases().size(), 2U);
  EXPECT_EQ(t.phases()[0].index, 7);
  EXPECT_EQ(t.phases()[1].index, 8);
  EXPECT_DOUBLE_EQ(t.phases()[1].start_s, 2.0);
  EXPECT_DOUBLE_EQ(t.phases()[0].end_s, 2.0);
}

TEST(PhaseTracker, ABeginWithTheOpenPhasesOwnIndexContinuesIt) {
  // A progress bar redrawn with '\r': "Epoch 1: 0%", "Epoch 1: 25%", ... then "Epoch 2: 0%".
  PhaseTracker t;
  for (int k = 0; k < 5; ++k) t.begin("epoch", 0.1 * k, 1);
  for (int k = 0; k < 5; ++k) t.begin("epoch", 1.0 + 0.1 * k, 2);
  t.finish(2.0);
  ASSERT_EQ(t.phases().size(), 2U);
  EXPECT_DOUBLE_EQ(t.phases()[0].start_s, 0.0);
  EXPECT_DOUBLE_EQ(t.phases()[0].end_s, 1.0);
  EXPECT_EQ(t.repeated_begins(), 8U);
  // Without an index (wattprint mark epoch), every begin is a new phase.
  PhaseTracker u;
  u.begin("epoch", 0.0);
  u.begin("epoch", 1.0);
  EXPECT_EQ(u.phases().size(), 2U);
}

TEST(PowerIntegratorBoundaries, CumulativeEnergyAtAnyMomentFollowsTheCurve) {
  // Instantaneous readings: 100 W at 0..3 s, 300 W at 5..8 s (the curve ramps from 100 to 300 W over 3..5 s).
  PowerIntegrator p;
  p.add_boundary(0.5);  // before any reading: pending
  for (int i = 0; i <= 3; ++i) p.add(i, Watts{100.0}, Seconds(0.0));
  p.add_boundary(2.5);  // already passed: from the history
  p.add_boundary(4.5);  // pending until the 5-s reading
  for (int i = 5; i <= 8; ++i) p.add(i, Watts{300.0}, Seconds(0.0));
  p.add_boundary(9.0);  // after the last reading: resolved by finish, held flat, clipped to the end
  const auto total = p.finish(8.5);
  ASSERT_TRUE(total);
  const auto& b = p.boundary_energies_j();
  ASSERT_EQ(b.size(), 4U);
  EXPECT_NEAR(*b[0], 50.0, 1e-9);
  EXPECT_NEAR(*b[1], 250.0, 1e-9);
  // 300 J to 3 s, then the ramp: 250 W at 4.5 s, 0.5 × (100 + 250) × 1.5 = 262.5 J.
  EXPECT_NEAR(*b[2], 562.5, 1e-9);
  EXPECT_NEAR(*b[3], total->value, 1e-9);
  EXPECT_NEAR(total->value, 300.0 + 400.0 + 300.0 * 3.5, 1e-9);
}

TEST(PowerIntegratorBoundaries, WindowedAveragesAreIntegratedOverTheirMidpoints) {
  // 60-s averages read every 5 s: midpoints lag 30 s behind, so boundaries wait for later readings.
  PowerIntegrator p;
  for (int i = 0; i <= 20; ++i) {
    if (i == 8) p.add_boundary(10.0);
    p.add(5.0 * i, Watts{200.0}, Seconds(60.0));
  }
  (void)p.finish(100.0);
  EXPECT_NEAR(*p.boundary_energies_j()[0], 2000.0, 1e-9);
}

/// A package counter whose energy is a known function of time since `origin`: 100 W for 0.5 s, then 300 W.
class TimedPackage final : public EnergyCounterSource {
 public:
  explicit TimedPackage(SteadyTime origin) : origin_(origin) {
    SensorInfo info;
    info.name = "fake.package-0";
    info.family = "fake";
    info.counter_max = 1ULL << 50;
    sensors_.push_back(info);
  }
  static double energy_j(double t) { return t < 0.5 ? 100.0 * t : 50.0 + 300.0 * (t - 0.5); }
  [[nodiscard]] const std::vector<SensorStatus>& statuses() const override { return statuses_; }
  [[nodiscard]] const std::vector<SensorInfo>& sensors() const override { return sensors_; }
  void read(std::vector<std::uint64_t>& raw, std::vector<int>& errors) noexcept override {
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - origin_).count();
    raw[0] = static_cast<std::uint64_t>(std::llround(energy_j(t) * 1e6));
    errors[0] = 0;
  }

 private:
  SteadyTime origin_;
  std::vector<SensorStatus> statuses_;
  std::vector<SensorInfo> sensors_;
};

PhaseMark mark(PhaseMark::Kind kind, const std::string& name, SteadyTime at) {
  return PhaseMark{kind, name, at, "test", std::nullopt};
}

TEST(RunSamplerPhases, MarksBecomeCheckpointsInterpolatedBetweenReadings) {
  const ProcFs procfs("/proc");
  ProcessTreeMonitor tree(procfs, ::getpid());
  const SystemClock clock;
  const SteadyTime origin = clock.steady_now();
  std::vector<std::unique_ptr<EnergyCounterSource>> sources;
  sources.push_back(std::make_unique<TimedPackage>(origin));
  RunSampler sampler(std::move(sources), tree, procfs, clock, Seconds(0.05));
  MarkQueue marks;
  sampler.attach_marks(marks);
  sampler.start();
  // Marks arrive late (as from a busy socket) but carry the moment they happened.
  std::this_thread::sleep_for(450ms);
  marks.push(mark(PhaseMark::Kind::Begin, "epoch", origin + 100ms));
  marks.push(mark(PhaseMark::Kind::End, "epoch", origin + 300ms));
  std::this_thread::sleep_for(550ms);
  marks.push(mark(PhaseMark::Kind::Begin, "epoch", origin + 700ms));
  marks.push(mark(PhaseMark::Kind::Begin, "eval", origin + 800ms));
  std::this_thread::sleep_for(300ms);
  const RunMeasurement m = sampler.finish();
  ASSERT_EQ(m.phases.size(), 3U);
  const auto energy = [&](const Phase& p) {
    return (m.boundaries.at(p.end_boundary).package - m.boundaries.at(p.start_boundary).package).value;
  };
  // The sampler's start is a few microseconds after `origin`; 100 W × 0.2 s and 300 W × ~0.3 s.
  EXPECT_NEAR(m.phases[0].end_s - m.phases[0].start_s, 0.2, 1e-3);
  EXPECT_NEAR(energy(m.phases[0]), 20.0, 0.5);
  EXPECT_EQ(m.phases[1].ended_by, "run-end");
  EXPECT_NEAR(m.phases[1].end_s, m.duration_s, 1e-12);
  EXPECT_NEAR(energy(m.phases[1]), TimedPackage::energy_j(m.duration_s) - TimedPackage::energy_j(0.7), 1.0);
  EXPECT_NEAR(energy(m.phases[2]), TimedPackage::energy_j(m.duration_s) - TimedPackage::energy_j(0.8), 1.0);
  EXPECT_EQ(m.phases[2].parent, 1U);
  EXPECT_EQ(m.marks.accepted, 4U);
  // The whole run's checkpoint is the run's totals.
  EXPECT_NEAR(m.final_checkpoint.package.value, m.package.value, 1e-9);
}

TEST(RunSamplerPhases, SampleRowsCarryPowerEnergyAndThePhase) {
  struct Rows final : SampleSink {
    std::vector<SampleSeries> series;
    std::vector<SampleRow> rows;
    int ends = 0;
    void begin(const std::vector<SampleSeries>& s) override { series = s; }
    void add(const SampleRow& row) override { rows.push_back(row); }
    void end() override { ++ends; }
  } sink;
  const ProcFs procfs("/proc");
  ProcessTreeMonitor tree(procfs, ::getpid());
  const SystemClock clock;
  const SteadyTime origin = clock.steady_now();
  std::vector<std::unique_ptr<EnergyCounterSource>> sources;
  sources.push_back(std::make_unique<TimedPackage>(origin - 10s));  // 300 W all along
  RunSampler sampler(std::move(sources), tree, procfs, clock, Seconds(0.05));
  MarkQueue marks;
  sampler.attach_marks(marks);
  sampler.attach_sink(sink);
  marks.push(mark(PhaseMark::Kind::Begin, "epoch", origin));
  sampler.start();
  std::this_thread::sleep_for(400ms);
  (void)sampler.finish();
  ASSERT_EQ(sink.series.size(), 1U);
  EXPECT_EQ(sink.series[0].name, "fake.package-0");
  EXPECT_EQ(sink.ends, 1);
  ASSERT_GE(sink.rows.size(), 4U);
  for (const SampleRow& row : sink.rows) {
    ASSERT_TRUE(row.power_w[0]);
    EXPECT_NEAR(*row.power_w[0], 300.0, 300.0 * 0.05 + 1e-3 / row.interval_s);
    EXPECT_EQ(row.phase, "epoch 1");
  }
  EXPECT_NEAR(*sink.rows.back().energy_j[0], 300.0 * sink.rows.back().t_s, 1.0);
}

PhaseResult phase_with(const std::string& name, double start_s, double end_s, double process_j,
                       bool gpu_available) {
  PhaseResult r;
  r.phase.name = name;
  r.phase.start_s = start_s;
  r.phase.end_s = end_s;
  for (const std::string& method : method_names()) {
    MethodResult m;
    m.name = method;
    m.available = method == "process" || (method == "gpu" && gpu_available);
    m.it_energy = Joules{method == "process" ? process_j : 1.0};
    r.methods.push_back(m);
  }
  return r;
}

TEST(PhaseSummary, MeanSampleStandardDeviationMinAndMaxPerNameAndMethod) {
  const std::vector<PhaseResult> phases{
      phase_with("epoch", 0, 10, 100.0, true), phase_with("eval", 10, 11, 5.0, true),
      phase_with("epoch", 11, 21, 200.0, false), phase_with("epoch", 21, 34, 300.0, true)};
  const auto summary = summarise_phases(phases);
  ASSERT_EQ(summary.size(), 2U);
  EXPECT_EQ(summary[0].name, "epoch");
  EXPECT_EQ(summary[0].count, 3U);
  EXPECT_NEAR(summary[0].mean_duration_s, 11.0, 1e-12);
  // gpu is missing from epoch 2: only process is summarised for epochs.
  ASSERT_EQ(summary[0].methods.size(), 1U);
  const PhaseMethodStats& s = summary[0].methods[0];
  EXPECT_EQ(s.method, "process");
  EXPECT_EQ(s.count, 3U);
  EXPECT_NEAR(s.mean_j, 200.0, 1e-12);
  ASSERT_TRUE(s.sd_j);
  EXPECT_NEAR(*s.sd_j, 100.0, 1e-12);
  EXPECT_DOUBLE_EQ(s.min_j, 100.0);
  EXPECT_DOUBLE_EQ(s.max_j, 300.0);
  EXPECT_EQ(summary[1].name, "eval");
  ASSERT_EQ(summary[1].methods.size(), 2U);
  EXPECT_FALSE(summary[1].methods[0].sd_j);  // one phase: no standard deviation
}

TEST(PhaseResults, BetweenPhasesCoverTheTopLevelGapsAndAddUpWithThePhases) {
  RunMeasurement m;
  m.duration_s = 10.0;
  m.have_package = true;
  m.package = Joules{1000.0};
  m.final_checkpoint.at_s = 10.0;
  m.final_checkpoint.package = Joules{1000.0};
  // epoch 1 over [2, 4], epoch 2 over [5, 8]; the package's energy is 100 J per second.
  PhaseTracker t;
  t.begin("epoch", 2.0);
  t.end("epoch", 4.0);
  t.begin("epoch", 5.0);
  t.end("epoch", 8.0);
  m.phases = t.phases();
  for (const double at : t.boundaries()) {
    RunCheckpoint c;
    c.at_s = at;
    c.package = Joules{100.0 * at};
    m.boundaries.push_back(c);
  }
  MethodInputs inputs;
  inputs.estimate.cpu.watts_per_core = 10.0;
  const PhaseResults r = compute_phase_results(m, inputs);
  ASSERT_EQ(r.phases.size(), 2U);
  ASSERT_EQ(r.between.size(), 3U);
  EXPECT_EQ(r.between[0].after, "");
  EXPECT_EQ(r.between[0].before, "epoch 1");
  EXPECT_DOUBLE_EQ(r.between[1].start_s, 4.0);
  EXPECT_DOUBLE_EQ(r.between[1].end_s, 5.0);
  EXPECT_EQ(r.between[2].after, "epoch 2");
  EXPECT_EQ(r.between[2].before, "");
  // The estimate (modelled) is the one method available without sensors: runtime × power, so phases and
  // gaps add up to the run.
  double total = 0.0;
  for (const auto& p : r.phases) total += p.methods[0].it_energy.value;
  for (const auto& g : r.between) total += g.methods[0].it_energy.value;
  const auto run = compute_methods(m, inputs);
  ASSERT_TRUE(run[0].available);
  EXPECT_NEAR(total, run[0].it_energy.value, 1e-9);
  EXPECT_TRUE(r.phases[0].methods[0].assumptions.empty());
}

}  // namespace
}  // namespace wattprint

namespace wattprint {
namespace {

TEST(RunSamplerSnapshots, ASnapshotIsTheRunAsIfItEndedThenWithoutStoppingIt) {
  const ProcFs procfs("/proc");
  ProcessTreeMonitor tree(procfs, ::getpid());
  const SystemClock clock;
  const SteadyTime origin = clock.steady_now();
  std::vector<std::unique_ptr<EnergyCounterSource>> sources;
  sources.push_back(std::make_unique<TimedPackage>(origin - 10s));  // 300 W all along
  RunSampler sampler(std::move(sources), tree, procfs, clock, Seconds(0.05));
  MarkQueue marks;
  sampler.attach_marks(marks);
  std::mutex mutex;
  std::vector<RunMeasurement> snapshots;
  sampler.attach_snapshots(
      [&](RunMeasurement&& m) {
        const std::lock_guard lock(mutex);
        snapshots.push_back(std::move(m));
      },
      Seconds(0.2));
  marks.push(mark(PhaseMark::Kind::Begin, "epoch", origin));
  sampler.start();
  std::this_thread::sleep_for(700ms);
  const RunMeasurement final = sampler.finish();
  const std::lock_guard lock(mutex);
  ASSERT_GE(snapshots.size(), 3U);
  for (std::size_t i = 0; i < snapshots.size(); ++i) {
    const RunMeasurement& s = snapshots[i];
    if (i > 0) {
      EXPECT_GE(s.duration_s - snapshots[i - 1].duration_s, 0.2 - 1e-9) << "at most one per period";
    }
    EXPECT_EQ(s.final_checkpoint.at_s, s.duration_s);
    EXPECT_NEAR(s.package.value, 300.0 * s.duration_s, 300.0 * 0.02) << "snapshot " << i;
    // The open phase is closed at the snapshot, as the run's end would close it.
    ASSERT_EQ(s.phases.size(), 1U);
    EXPECT_EQ(s.phases[0].end_s, s.duration_s);
    EXPECT_EQ(s.phases[0].ended_by, "run-end");
    ASSERT_EQ(s.boundaries.size(), 2U);
    EXPECT_NEAR(s.boundaries[1].package.value, s.package.value, 1e-6);
  }
  // The run went on: the sampler still owns its phase, which ends with the run.
  EXPECT_GT(final.duration_s, snapshots.back().duration_s);
  EXPECT_GT(final.package.value, snapshots.back().package.value);
  ASSERT_EQ(final.phases.size(), 1U);
  EXPECT_EQ(final.phases[0].end_s, final.duration_s);
  EXPECT_NEAR(final.package.value, 300.0 * final.duration_s, 300.0 * 0.02);
}

}  // namespace
}  // namespace wattprint
