// GPU selection (CUDA_VISIBLE_DEVICES forms, --gpus), the command's share of a GPU, the gpu method, and the
// sampler's per-interval GPU attribution driven by a scripted GpuSource.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "attribution/gpu_selection.hpp"
#include "attribution/share.hpp"
#include "methods/gpu.hpp"
#include "sampling/run_sampler.hpp"
#include "test_dir.hpp"

namespace wattprint {
namespace {

std::vector<GpuDevice> three_gpus() {
  std::vector<GpuDevice> devices(3);
  for (unsigned i = 0; i < 3; ++i) {
    devices[i].family = "nvml";
    devices[i].index = i;
    devices[i].name = "Tesla T4";
    devices[i].uuid = "GPU-" + std::to_string(i) + "aaaaaaa-1111-2222-3333-444444444444";
  }
  return devices;
}

TEST(GpuList, ParsesAsCudaDoes) {
  const auto entries = parse_gpu_list("0,2,-1,3");
  ASSERT_EQ(entries.size(), 2U);  // the list stops at the first invalid entry
  EXPECT_EQ(entries[1].index, 2U);
  EXPECT_TRUE(parse_gpu_list("").empty());
  const auto uuids = parse_gpu_list("GPU-1aaa, MIG-GPU-2aaa/1/0 ,MIG-0f3c");
  ASSERT_EQ(uuids.size(), 3U);
  EXPECT_EQ(uuids[0].kind, GpuListEntry::Kind::GpuUuid);
  EXPECT_EQ(uuids[1].kind, GpuListEntry::Kind::MigUuid);
  EXPECT_EQ(uuids[1].text, "MIG-GPU-2aaa/1/0");
}

TEST(GpuSelection, ExplicitListWinsOverCudaVisibleDevices) {
  const auto s = select_gpus(three_gpus(), std::string("2"), std::string("0,1"), {true, true, true});
  EXPECT_EQ(s.selected, (std::vector<bool>{false, false, true}));
  EXPECT_EQ(s.rule, "--gpus 2");
}

TEST(GpuSelection, CudaVisibleDevicesByIndexAndUuidPrefix) {
  EXPECT_EQ(select_gpus(three_gpus(), std::nullopt, std::string("1"), {}).selected,
            (std::vector<bool>{false, true, false}));
  EXPECT_EQ(select_gpus(three_gpus(), std::nullopt, std::string("GPU-2aaa,GPU-0aaaaaaa"), {}).selected,
            (std::vector<bool>{true, false, true}));
  // Empty: the command sees no GPU.
  EXPECT_EQ(select_gpus(three_gpus(), std::nullopt, std::string(""), {true, true, true}).selected,
            (std::vector<bool>(3, false)));
  // Legacy MIG form names its parent GPU.
  const auto mig = select_gpus(three_gpus(), std::nullopt,
                               std::string("MIG-GPU-1aaaaaaa-1111-2222-3333-444444444444/1/0"), {});
  EXPECT_EQ(mig.selected, (std::vector<bool>{false, true, false}));
}

TEST(GpuSelection, UnknownEntriesAreReported) {
  const auto s = select_gpus(three_gpus(), std::nullopt, std::string("1,7"), {});
  EXPECT_EQ(s.selected, (std::vector<bool>{false, true, false}));
  EXPECT_NE(s.rule.find("not found here: 7"), std::string::npos);
}

TEST(GpuSelection, ThenTheGpusTheCommandUsedThenAll) {
  const auto used = select_gpus(three_gpus(), std::nullopt, std::nullopt, {false, true, false});
  EXPECT_EQ(used.selected, (std::vector<bool>{false, true, false}));
  // New-style MIG UUIDs cannot be mapped to a parent: fall through to use.
  EXPECT_EQ(select_gpus(three_gpus(), std::nullopt, std::string("MIG-0f3c5d"), {true, false, false}).selected,
            (std::vector<bool>{true, false, false}));
  const auto all = select_gpus(three_gpus(), std::nullopt, std::nullopt, {false, false, false});
  EXPECT_EQ(all.selected, (std::vector<bool>(3, true)));
}

TEST(GpuShare, PerProcessUtilisationOrPresence) {
  GpuActivity activity;
  activity.per_process_utilisation = true;
  activity.processes = {{100, 60.0}, {200, 20.0}, {300, 20.0}};
  bool present = false;
  EXPECT_DOUBLE_EQ(gpu_share(activity, {100, 300}, present), 0.8);
  EXPECT_TRUE(present);
  EXPECT_DOUBLE_EQ(gpu_share(activity, {999}, present), 0.0);
  EXPECT_FALSE(present);
  activity.per_process_utilisation = false;  // presence only: share of the processes
  EXPECT_DOUBLE_EQ(gpu_share(activity, {100}, present), 1.0 / 3.0);
  activity.processes = {{100, 0.0}};
  EXPECT_DOUBLE_EQ(gpu_share(activity, {100}, present), 1.0);  // the only user gets the whole GPU
}

TEST(GpuMethod, SumsTheRunsGpus) {
  std::vector<GpuEnergy> gpus(3);
  for (std::size_t i = 0; i < 3; ++i) {
    gpus[i].device = three_gpus()[i];
    gpus[i].energy = Joules{100.0 * static_cast<double>(i + 1)};
  }
  GpuSelection selection;
  selection.selected = {true, false, true};
  selection.rule = "test";
  const MethodResult r = gpu_method(gpus, selection, "");
  EXPECT_TRUE(r.available);
  EXPECT_DOUBLE_EQ(r.it_energy.value, 400.0);
  EXPECT_DOUBLE_EQ(r.components.gpu->value, 400.0);
  selection.selected = {false, false, false};
  EXPECT_FALSE(gpu_method(gpus, selection, "").available);
  EXPECT_EQ(gpu_method({}, selection, "no readable GPU (nvml: missing)").reason,
            "no readable GPU (nvml: missing)");
}

/// A GPU family whose counter advances at a set power and whose activity names given pids.
class ScriptedGpuSource final : public GpuSource {
 public:
  ScriptedGpuSource(double watts, std::vector<GpuProcessUse> users)
      : watts_(watts), users_(std::move(users)) {
    GpuDevice d;
    d.family = "scripted";
    d.name = "Scripted GPU";
    d.energy_is_counter = true;
    devices_.push_back(d);
    SensorInfo info;
    info.name = "scripted.gpu-0";
    info.family = "scripted";
    info.component = Component::Gpu;
    info.counter_max = UINT64_MAX;
    info.joules_per_raw_unit = 1e-3;
    info.max_power = Watts{1000.0};
    sensors_.push_back(info);
    statuses_.push_back({"scripted.gpu-0", SensorStatus::State::Ok, "", "", ""});
  }
  const std::vector<SensorStatus>& statuses() const override { return statuses_; }
  const std::vector<SensorInfo>& sensors() const override { return sensors_; }
  const std::vector<GpuDevice>& devices() const override { return devices_; }
  void read(std::vector<std::uint64_t>& raw, std::vector<int>& errors) noexcept override {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    raw[0] = static_cast<std::uint64_t>(elapsed * watts_ * 1000.0);
    errors[0] = 0;
  }
  void sample_activity(std::vector<GpuActivity>& out) override {
    out[0].per_process_utilisation = true;
    out[0].processes = users_;
    out[0].utilisation_percent = 50.0;
  }

 private:
  double watts_;
  std::vector<GpuProcessUse> users_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::vector<GpuDevice> devices_;
  std::vector<SensorInfo> sensors_;
  std::vector<SensorStatus> statuses_;
};

TEST(RunSamplerGpu, AttributesTheTreesShareOfEachInterval) {
  // The tree is this test's child; the GPU reports it at 75 % of the SM time and another process at 25 %.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::usleep(3'000'000);
    ::_exit(0);
  }
  std::vector<std::unique_ptr<EnergyCounterSource>> sources;
  sources.push_back(
      std::make_unique<ScriptedGpuSource>(40.0, std::vector<GpuProcessUse>{{child, 75.0}, {1, 25.0}}));
  const ProcFs procfs("/proc");
  ProcessTreeMonitor tree(procfs, ::getpid());
  const SystemClock clock;
  RunSampler sampler(std::move(sources), tree, procfs, clock, Seconds(0.05));
  sampler.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  const RunMeasurement m = sampler.finish();
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);

  ASSERT_EQ(m.gpus.size(), 1U);
  EXPECT_NEAR(m.gpus[0].energy.value, 40.0 * m.duration_s, 40.0 * 0.01);
  EXPECT_NEAR(m.gpus[0].attributed.value, 0.75 * m.gpus[0].energy.value, 1e-9 + 0.75 * 40.0 * 0.06);
  EXPECT_TRUE(m.gpus[0].used_by_command);
  EXPECT_DOUBLE_EQ(*m.gpus[0].mean_utilisation_percent, 50.0);
}

}  // namespace
}  // namespace wattprint

namespace wattprint {
namespace {

TEST(FiveSecondPowerSampling, ReplaysTheStudysProcedure) {
  // Readings every second; the power over the second just ended is 10 W up to t = 7 s, then 20 W.
  //   window [0, 5):   the first power seen, 10 W      → 50 J
  //   window [5, 10):  the power at t = 5, 10 W        → 50 J
  //   window [10, 12): the power at t = 10, 20 W × 2 s → 40 J      total 140 J (the counter: 170 J)
  FiveSecondPowerSampling sampling;
  for (int t = 1; t <= 12; ++t) sampling.observe(t, Watts{t <= 7 ? 10.0 : 20.0});
  ASSERT_TRUE(sampling.finish(12.0));
  EXPECT_DOUBLE_EQ(sampling.finish(12.0)->value, 140.0);
  EXPECT_FALSE(FiveSecondPowerSampling{}.finish(3.0));
}

}  // namespace
}  // namespace wattprint
