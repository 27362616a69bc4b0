// NvmlGpuSource against the fake libnvidia-ml.so.1 (tests/fakes/fake_nvml.cpp), loaded through the real
// dlopen path. Energies are checked against the trace's exact integral, with tolerances derived from the
// measured timing of each read().
#include "sources/nvml/nvml_source.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "fakes/fake_nvml_trace.hpp"
#include "sources/nvml/nvml_library.hpp"
#include "unit/test_dir.hpp"

namespace wattprint {
namespace {

namespace fake = testing::fake_nvml;
using testing::TestDir;
using namespace std::chrono_literals;

constexpr const char* kFake = FAKE_NVML_LIBRARY;
constexpr const char* kFakeOldDriver = FAKE_NVML_OLD_DRIVER_LIBRARY;

std::string self_comm() {
  std::ifstream in("/proc/self/comm");
  std::string comm;
  std::getline(in, comm);
  return comm;
}

/// One read() with the CLOCK_MONOTONIC seconds (after the trace origin) just before and after it.
struct TimedRead {
  double before_s = 0.0;
  double after_s = 0.0;
  std::vector<std::uint64_t> raw;
  std::vector<int> errors;
};

class NvmlSourceTest : public ::testing::Test {
 protected:
  void TearDown() override { ::unsetenv("WATTPRINT_FAKE_NVML_TRACE"); }

  /// Writes the trace (after an `origin` line for now) and points the fake at it; returns the parsed trace.
  fake::Trace use_trace(const std::string& body) {
    origin_ns_ = fake::monotonic_ns();
    const std::string text = "origin monotonic_ns=" + std::to_string(origin_ns_) + "\n" + body;
    const auto path = dir_.path() / "trace.txt";
    std::ofstream(path) << text;
    ::setenv("WATTPRINT_FAKE_NVML_TRACE", path.c_str(), 1);
    fake::Trace trace;
    std::string error;
    EXPECT_TRUE(fake::parse_trace(text, trace, error)) << error;
    return trace;
  }

  [[nodiscard]] double now_s() const { return static_cast<double>(fake::monotonic_ns() - origin_ns_) * 1e-9; }

  TimedRead timed_read(EnergyCounterSource& source) const {
    TimedRead r;
    r.raw.assign(source.sensors().size(), 0);
    r.errors.assign(source.sensors().size(), -1);
    r.before_s = now_s();
    source.read(r.raw, r.errors);
    r.after_s = now_s();
    return r;
  }

  void sleep_until(double t_s) const {
    while (now_s() < t_s) std::this_thread::sleep_for(2ms);
  }

  TestDir dir_;
  std::int64_t origin_ns_ = 0;
};

/// This process's entry in a GPU's process list, or nullptr. Other processes may be listed too: the fake
/// matches by comm, and other copies of this test binary may run at the same time (ctest -j).
const GpuProcessUse* find_self(const GpuActivity& activity) {
  const auto it = std::find_if(activity.processes.begin(), activity.processes.end(),
                               [](const GpuProcessUse& use) { return use.pid == ::getpid(); });
  return it == activity.processes.end() ? nullptr : &*it;
}

const SensorStatus* find_status(const EnergyCounterSource& source, const std::string& name) {
  for (const SensorStatus& status : source.statuses()) {
    if (status.name == name) return &status;
  }
  return nullptr;
}

TEST_F(NvmlSourceTest, DevicesAndTheirMetadata) {
  use_trace(
      R"(gpu 0 name="Tesla T4" uuid=GPU-11111111-2222-3333-4444-555555555555 bus=00000000:3B:00.0 limit_w=70
gpu 1 name="Tesla P100-PCIE-16GB" uuid=GPU-aaaa bus=00000000:AF:00.0 limit_w=250
energy_counter 1 unsupported
power 0 at=0 watts=30
power 1 at=0 watts=40
)");
  NvmlGpuSource source(kFake);
  ASSERT_EQ(source.statuses().size(), 2U);
  for (const SensorStatus& status : source.statuses()) {
    EXPECT_EQ(status.state, SensorStatus::State::Ok) << status.name << ": " << status.reason;
    EXPECT_EQ(status.path, kFake);
  }
  EXPECT_EQ(source.statuses()[0].name, "nvml.gpu-0");
  EXPECT_EQ(source.statuses()[1].name, "nvml.gpu-1");

  const auto& devices = source.devices();
  ASSERT_EQ(devices.size(), 2U);
  EXPECT_EQ(devices[0].family, "nvml");
  EXPECT_EQ(devices[0].index, 0U);
  EXPECT_EQ(devices[0].name, "Tesla T4");
  EXPECT_EQ(devices[0].uuid, "GPU-11111111-2222-3333-4444-555555555555");
  EXPECT_EQ(devices[0].pci_bus_id, "00000000:3B:00.0");
  ASSERT_TRUE(devices[0].power_limit.has_value());
  EXPECT_DOUBLE_EQ(devices[0].power_limit->value, 70.0);
  EXPECT_TRUE(devices[0].energy_is_counter);
  EXPECT_EQ(devices[0].energy_method, kNvmlEnergyCounterMethod);
  EXPECT_EQ(devices[1].index, 1U);
  EXPECT_EQ(devices[1].name, "Tesla P100-PCIE-16GB");
  EXPECT_EQ(devices[1].pci_bus_id, "00000000:AF:00.0");
  EXPECT_DOUBLE_EQ(devices[1].power_limit->value, 250.0);
  EXPECT_FALSE(devices[1].energy_is_counter);
  EXPECT_EQ(devices[1].energy_method, kNvmlInstantPowerMethod);

  const auto& sensors = source.sensors();
  ASSERT_EQ(sensors.size(), 2U);
  EXPECT_EQ(sensors[0].name, "nvml.gpu-0");
  EXPECT_EQ(sensors[1].name, "nvml.gpu-1");
  for (const SensorInfo& sensor : sensors) {
    EXPECT_EQ(sensor.family, "nvml");
    EXPECT_EQ(sensor.component, Component::Gpu);
    EXPECT_STREQ(component_name(sensor.component), "gpu");
    EXPECT_FALSE(is_additive(sensor.component));
    EXPECT_DOUBLE_EQ(sensor.joules_per_raw_unit, 1e-3);
    EXPECT_EQ(sensor.counter_max, std::numeric_limits<std::uint64_t>::max());
    EXPECT_NE(sensor.origin.find(kFake), std::string::npos);
  }
  EXPECT_DOUBLE_EQ(sensors[0].max_power->value, 70.0);
}

TEST_F(NvmlSourceTest, CounterEnergyMatchesTheTrace) {
  const fake::Trace trace = use_trace(R"(gpu 0 name="Tesla V100" limit_w=300
energy_counter 0 start_mj=123456789
power 0 at=0 watts=30
power 0 at=0.15 watts=90
power 0 at=0.30 watts=10
)");
  NvmlGpuSource source(kFake);
  ASSERT_EQ(source.sensors().size(), 1U);
  ASSERT_TRUE(source.devices()[0].energy_is_counter);
  const TimedRead a = timed_read(source);
  sleep_until(0.45);
  const TimedRead b = timed_read(source);
  ASSERT_EQ(a.errors[0], 0);
  ASSERT_EQ(b.errors[0], 0);
  // The raw value is the driver's counter itself (energy since "driver load").
  EXPECT_GE(a.raw[0], trace.counter_mj(0, a.before_s));
  EXPECT_LE(a.raw[0], trace.counter_mj(0, a.after_s));

  // Power is never negative, so the truth lies between the integrals over the shortest and longest
  // intervals the two reads allow; ±1 mJ for the counter's whole-mJ steps.
  const auto measured_mj = static_cast<double>(b.raw[0] - a.raw[0]);
  const double low_mj = trace.energy_j(0, a.after_s, b.before_s) * 1000.0 - 1.0;
  const double high_mj = trace.energy_j(0, a.before_s, b.after_s) * 1000.0 + 1.0;
  EXPECT_GE(measured_mj, low_mj);
  EXPECT_LE(measured_mj, high_mj);
  EXPECT_GT(measured_mj, 10000.0);  // 30 W × 0.15 s + 90 W × 0.15 s + …: well above zero
}

TEST_F(NvmlSourceTest, PowerIntegratedWhenTheCounterIsNotSupported) {
  const fake::Trace trace = use_trace(R"(gpu 0 name="Tesla P4" limit_w=75
energy_counter 0 unsupported
power 0 at=0 watts=20
power 0 at=0.12 watts=70
power 0 at=0.27 watts=35
)");
  NvmlGpuSource source(kFake);
  ASSERT_EQ(source.devices().size(), 1U);
  EXPECT_FALSE(source.devices()[0].energy_is_counter);
  EXPECT_EQ(source.devices()[0].energy_method, kNvmlInstantPowerMethod);
  EXPECT_NE(source.devices()[0].energy_method.find("186"), std::string::npos);

  // Reads every ~10 ms. The trapezoid rule is exact while power is constant; a step of ΔP inside an interval
  // of length dt costs at most |ΔP|·dt/2. The ends are known to within each read's bracket.
  std::vector<TimedRead> reads;
  reads.push_back(timed_read(source));
  while (reads.back().after_s < 0.40) {
    std::this_thread::sleep_for(10ms);
    reads.push_back(timed_read(source));
  }
  double max_interval_s = 0.0;
  for (std::size_t k = 0; k < reads.size(); ++k) {
    ASSERT_EQ(reads[k].errors[0], 0);
    if (k > 0) {
      max_interval_s = std::max(max_interval_s, reads[k].after_s - reads[k - 1].before_s);
      EXPECT_GE(reads[k].raw[0], reads[k - 1].raw[0]);
    }
  }
  const TimedRead& first = reads.front();
  const TimedRead& last = reads.back();
  const auto measured_mj = static_cast<double>(last.raw[0] - first.raw[0]);
  const double truth_mj =
      trace.energy_j(0, 0.5 * (first.before_s + first.after_s), 0.5 * (last.before_s + last.after_s)) *
      1000.0;
  const double steps_w = 50.0 + 35.0;  // |ΔP| of the two steps inside the interval
  const double max_w = 70.0;
  const double tolerance_mj =
      1000.0 * (steps_w * max_interval_s / 2.0 +
                max_w * ((first.after_s - first.before_s) + (last.after_s - last.before_s))) +
      2.0;
  EXPECT_NEAR(measured_mj, truth_mj, tolerance_mj)
      << reads.size() << " reads, longest interval " << max_interval_s;
}

TEST_F(NvmlSourceTest, PowerUsageWhenNeitherCounterNorInstantField) {
  const fake::Trace trace = use_trace(R"(gpu 0 name="Tesla K80"
energy_counter 0 unsupported
power_instant 0 unsupported
power 0 at=0 watts=50
)");
  NvmlGpuSource source(kFake);
  ASSERT_EQ(source.devices().size(), 1U);
  EXPECT_EQ(source.devices()[0].energy_method, kNvmlPowerUsageMethod);
  EXPECT_NE(source.devices()[0].energy_method.find("nvmlDeviceGetPowerUsage"), std::string::npos);
  EXPECT_FALSE(source.devices()[0].power_limit.has_value());
  const TimedRead a = timed_read(source);
  std::this_thread::sleep_for(200ms);
  const TimedRead b = timed_read(source);
  ASSERT_EQ(b.errors[0], 0);
  const auto measured_mj = static_cast<double>(b.raw[0] - a.raw[0]);
  EXPECT_GE(measured_mj, 50.0 * (b.before_s - a.after_s) * 1000.0 - 1.0);
  EXPECT_LE(measured_mj, 50.0 * (b.after_s - a.before_s) * 1000.0 + 1.0);
}

TEST_F(NvmlSourceTest, NoPowerAtAllLeavesTheGpuOut) {
  use_trace(R"(gpu 0 name="Quadro"
energy_counter 0 unsupported
power_instant 0 unsupported
power_usage 0 unsupported
)");
  NvmlGpuSource source(kFake);
  EXPECT_TRUE(source.devices().empty());
  EXPECT_TRUE(source.sensors().empty());
  const SensorStatus* status = find_status(source, "nvml.gpu-0");
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(status->state, SensorStatus::State::Error);
  EXPECT_NE(status->reason.find("Not Supported"), std::string::npos) << status->reason;
}

TEST_F(NvmlSourceTest, MissingSymbolsDegradeOnlyTheirFeatures) {
  const fake::Trace trace = use_trace(
      "missing_symbol nvmlDeviceGetTotalEnergyConsumption\n"
      "missing_symbol nvmlDeviceGetFieldValues\n"
      "missing_symbol nvmlDeviceGetComputeRunningProcesses_v3\n"
      "gpu 0 name=\"Tesla V100\" uuid=GPU-old bus=00000000:01:00.0 limit_w=250\n"
      "power 0 at=0 watts=100\n"
      "utilisation 0 percent=40\n"
      "process 0 comm=" +
      self_comm() + " sm=25\n");
  NvmlGpuSource source(kFakeOldDriver);
  ASSERT_EQ(source.devices().size(), 1U) << source.statuses()[0].reason;
  const GpuDevice& device = source.devices()[0];
  EXPECT_EQ(device.name, "Tesla V100");
  EXPECT_EQ(device.uuid, "GPU-old");
  EXPECT_EQ(device.pci_bus_id, "00000000:01:00.0");
  EXPECT_FALSE(device.energy_is_counter);
  EXPECT_EQ(device.energy_method, kNvmlPowerUsageMethod);

  const TimedRead a = timed_read(source);
  std::this_thread::sleep_for(150ms);
  const TimedRead b = timed_read(source);
  ASSERT_EQ(b.errors[0], 0);
  const auto measured_mj = static_cast<double>(b.raw[0] - a.raw[0]);
  EXPECT_GE(measured_mj, 100.0 * (b.before_s - a.after_s) * 1000.0 - 1.0);
  EXPECT_LE(measured_mj, 100.0 * (b.after_s - a.before_s) * 1000.0 + 1.0);

  // Process utilisation still works; presence (ComputeRunningProcesses_v3) is gone.
  std::vector<GpuActivity> activity;
  source.sample_activity(activity);
  ASSERT_EQ(activity.size(), 1U);
  EXPECT_TRUE(activity[0].per_process_utilisation);
  ASSERT_TRUE(activity[0].utilisation_percent.has_value());
  EXPECT_DOUBLE_EQ(*activity[0].utilisation_percent, 40.0);
  const GpuProcessUse* self = find_self(activity[0]);
  ASSERT_NE(self, nullptr);
  EXPECT_DOUBLE_EQ(self->sm_percent, 25.0);
}

TEST_F(NvmlSourceTest, TraceNeedingAMissingSymbolFailsOnTheFullFake) {
  use_trace("missing_symbol nvmlDeviceGetTotalEnergyConsumption\ngpu 0 name=x\n");
  NvmlGpuSource source(kFake);
  ASSERT_EQ(source.statuses().size(), 1U);
  EXPECT_EQ(source.statuses()[0].state, SensorStatus::State::Error);
}

TEST_F(NvmlSourceTest, LostGpuReportsENODEVFromThatTime) {
  use_trace(R"(gpu 0 name=A
gpu 1 name=B
gpu 2 name=C
energy_counter 2 unsupported
power 0 at=0 watts=10
power 1 at=0 watts=10
power 2 at=0 watts=10
lost 1 at=0.20
lost 2 at=0.20
)");
  NvmlGpuSource source(kFake);
  ASSERT_EQ(source.sensors().size(), 3U);
  const TimedRead before = timed_read(source);
  ASSERT_LT(before.after_s, 0.20) << "the machine is too slow for this test's timing";
  EXPECT_EQ(before.errors, (std::vector<int>{0, 0, 0}));
  sleep_until(0.25);
  const TimedRead after = timed_read(source);
  EXPECT_EQ(after.errors[0], 0);
  EXPECT_EQ(after.errors[1], ENODEV);
  EXPECT_EQ(after.errors[2], ENODEV);
  // Sampling activity on a lost GPU does not fail either.
  std::vector<GpuActivity> activity;
  source.sample_activity(activity);
  EXPECT_EQ(activity.size(), 3U);
  EXPECT_TRUE(activity[1].processes.empty());
}

TEST_F(NvmlSourceTest, NoLibraryIsAbsentWithTheReason) {
  NvmlGpuSource source("/nonexistent/libnvidia-ml.so.1");
  ASSERT_EQ(source.statuses().size(), 1U);
  const SensorStatus& status = source.statuses()[0];
  EXPECT_EQ(status.name, "nvml");
  EXPECT_EQ(status.state, SensorStatus::State::Absent);
  EXPECT_EQ(status.path, "/nonexistent/libnvidia-ml.so.1");
  EXPECT_NE(status.reason.find("cannot open shared object file"), std::string::npos) << status.reason;
  EXPECT_NE(status.remedy.find("--nvml-library"), std::string::npos);
  EXPECT_TRUE(source.sensors().empty());
  EXPECT_TRUE(source.devices().empty());
  std::vector<GpuActivity> activity(2);
  source.sample_activity(activity);
  EXPECT_TRUE(activity.empty());
}

TEST_F(NvmlSourceTest, DefaultNameIsLibnvidiaMl) {
  NvmlGpuSource source("");
  const SensorStatus& status = source.statuses().at(0);
  if (status.state != SensorStatus::State::Absent) GTEST_SKIP() << "a real NVIDIA driver is installed here";
  EXPECT_EQ(status.path, "libnvidia-ml.so.1");
  EXPECT_NE(status.reason.find("libnvidia-ml.so.1"), std::string::npos) << status.reason;
}

TEST_F(NvmlSourceTest, InitFailureIsAnErrorWithNvmlErrorString) {
  NvmlGpuSource unset(kFake);  // no trace: the fake answers DRIVER_NOT_LOADED
  ASSERT_EQ(unset.statuses().size(), 1U);
  EXPECT_EQ(unset.statuses()[0].name, "nvml");
  EXPECT_EQ(unset.statuses()[0].state, SensorStatus::State::Error);
  EXPECT_NE(unset.statuses()[0].reason.find("Driver Not Loaded (9)"), std::string::npos)
      << unset.statuses()[0].reason;
  EXPECT_NE(unset.statuses()[0].remedy.find("modprobe nvidia"), std::string::npos);

  use_trace("init_error 18\ngpu 0 name=x\n");
  NvmlGpuSource mismatch(kFake);
  ASSERT_EQ(mismatch.statuses().size(), 1U);
  EXPECT_EQ(mismatch.statuses()[0].state, SensorStatus::State::Error);
  EXPECT_NE(mismatch.statuses()[0].reason.find("(18)"), std::string::npos);
}

TEST_F(NvmlSourceTest, NoPermissionGpuIsUnreadableOthersWork) {
  use_trace(R"(gpu 0 name=A
gpu 1 name=B
no_permission 1
power 0 at=0 watts=10
)");
  NvmlGpuSource source(kFake);
  ASSERT_EQ(source.devices().size(), 1U);
  EXPECT_EQ(source.devices()[0].name, "A");
  const SensorStatus* status = find_status(source, "nvml.gpu-1");
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(status->state, SensorStatus::State::Unreadable);
  EXPECT_NE(status->reason.find("Insufficient Permissions"), std::string::npos);
  EXPECT_FALSE(status->remedy.empty());
  EXPECT_EQ(find_status(source, "nvml.gpu-0")->state, SensorStatus::State::Ok);
}

TEST_F(NvmlSourceTest, NoGpuIsAbsent) {
  use_trace("# a driver without GPUs\n");
  NvmlGpuSource source(kFake);
  ASSERT_EQ(source.statuses().size(), 1U);
  EXPECT_EQ(source.statuses()[0].state, SensorStatus::State::Absent);
}

TEST_F(NvmlSourceTest, ProcessUtilisationOfThisTestProcess) {
  use_trace(
      "gpu 0 name=A\npower 0 at=0 watts=10\nutilisation 0 percent=80\n"
      "process 0 comm=" +
      self_comm() +
      " sm=50\n"
      "process 0 comm=no-such-process-x sm=90\n"
      "gpu 1 name=B\npower 1 at=0 watts=10\nprocess_utilisation 1 unsupported\n"
      "process 1 comm=" +
      self_comm() + " sm=50\n");
  NvmlGpuSource source(kFake);
  ASSERT_EQ(source.devices().size(), 2U);
  std::this_thread::sleep_for(150ms);  // the fake's samples lie on a 100 ms grid after open
  std::vector<GpuActivity> activity;
  source.sample_activity(activity);
  ASSERT_EQ(activity.size(), 2U);
  ASSERT_TRUE(activity[0].utilisation_percent.has_value());
  EXPECT_DOUBLE_EQ(*activity[0].utilisation_percent, 80.0);
  EXPECT_TRUE(activity[0].per_process_utilisation);
  const GpuProcessUse* self = find_self(activity[0]);
  ASSERT_NE(self, nullptr);
  EXPECT_DOUBLE_EQ(self->sm_percent, 50.0);
  for (const GpuProcessUse& use : activity[0].processes) EXPECT_DOUBLE_EQ(use.sm_percent, 50.0);

  // GPU 1: no process utilisation (as under MIG) → presence only.
  EXPECT_FALSE(activity[1].utilisation_percent.has_value());
  EXPECT_FALSE(activity[1].per_process_utilisation);
  self = find_self(activity[1]);
  ASSERT_NE(self, nullptr);
  EXPECT_DOUBLE_EQ(self->sm_percent, 0.0);

  // Straight away again: no newer sample (lastSeenTimeStamp), but the process is still present.
  source.sample_activity(activity);
  EXPECT_TRUE(activity[0].per_process_utilisation);
  EXPECT_NE(find_self(activity[0]), nullptr);
}

TEST(NvmlErrno, MapsReturnCodes) {
  EXPECT_EQ(nvml::errno_of(nvml::NVML_SUCCESS), 0);
  EXPECT_EQ(nvml::errno_of(nvml::NVML_ERROR_GPU_IS_LOST), ENODEV);
  EXPECT_EQ(nvml::errno_of(nvml::NVML_ERROR_NO_PERMISSION), EACCES);
  EXPECT_EQ(nvml::errno_of(nvml::NVML_ERROR_UNKNOWN), EIO);
  EXPECT_EQ(nvml::errno_of(static_cast<nvml::nvmlReturn_t>(12345)), EIO);
}

TEST(FakeNvmlTrace, EnergyIsTheExactIntegral) {
  fake::Trace trace;
  std::string error;
  ASSERT_TRUE(fake::parse_trace("gpu 0 name=\"Tesla T4\"\npower 0 at=1.5 watts=60\npower 0 at=0 watts=30\n",
                                trace, error))
      << error;
  EXPECT_DOUBLE_EQ(trace.energy_j(0, 0.0, 1.5), 45.0);
  EXPECT_DOUBLE_EQ(trace.energy_j(0, 1.0, 2.0), 15.0 + 30.0);
  EXPECT_EQ(trace.counter_mj(0, 2.0), 75000U);
  EXPECT_EQ(trace.gpus[0].name, "Tesla T4");
  EXPECT_FALSE(fake::parse_trace("power 0 at=0 watts=1\n", trace, error));
  EXPECT_NE(error.find("line 1"), std::string::npos);
}

}  // namespace
}  // namespace wattprint
