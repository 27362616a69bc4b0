// RocmSmiGpuSource against the fake librocm_smi64.so.1 (tests/fakes/fake_rocm_smi.cpp), loaded through the
// real dlopen path. Energies are checked against the trace's exact integral, with tolerances derived from
// the measured timing of each read().
#include "sources/amdgpu/rocm_smi_source.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "fakes/fake_rocm_smi_trace.hpp"
#include "unit/test_dir.hpp"

namespace wattprint {
namespace {

namespace fake = testing::fake_rocm_smi;
using testing::TestDir;
using namespace std::chrono_literals;

constexpr const char* kFake = FAKE_ROCM_SMI_LIBRARY;

std::string self_comm() {
  std::ifstream in("/proc/self/comm");
  std::string comm;
  std::getline(in, comm);
  return comm;
}

struct TimedRead {
  double before_s = 0.0;
  double after_s = 0.0;
  std::vector<std::uint64_t> raw;
  std::vector<int> errors;
};

class RocmSmiSourceTest : public ::testing::Test {
 protected:
  void TearDown() override { ::unsetenv("WATTPRINT_FAKE_ROCM_SMI_TRACE"); }

  fake::Trace use_trace(const std::string& body) {
    origin_ns_ = fake::monotonic_ns();
    const std::string text = "origin monotonic_ns=" + std::to_string(origin_ns_) + "\n" + body;
    const auto path = dir_.path() / "trace.txt";
    std::ofstream(path) << text;
    ::setenv("WATTPRINT_FAKE_ROCM_SMI_TRACE", path.c_str(), 1);
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

bool lists_self(const GpuActivity& activity) {
  return std::any_of(activity.processes.begin(), activity.processes.end(),
                     [](const GpuProcessUse& use) { return use.pid == ::getpid(); });
}

TEST_F(RocmSmiSourceTest, DevicesAndTheirMetadata) {
  use_trace(R"(gpu 0 name="AMD Instinct MI250X" unique_id=0x1a2b3c4d5e6f7081 power_cap_w=560
gpu 1 name="AMD Radeon Pro W6800" power_cap_w=250
energy_counter 1 unsupported
power 0 at=0 watts=100
power 1 at=0 watts=40
)");
  RocmSmiGpuSource source(kFake);
  ASSERT_EQ(source.statuses().size(), 2U);
  for (const SensorStatus& status : source.statuses()) {
    EXPECT_EQ(status.state, SensorStatus::State::Ok) << status.name << ": " << status.reason;
    EXPECT_EQ(status.path, kFake);
  }
  EXPECT_EQ(source.statuses()[0].name, "rocm-smi.gpu-0");
  EXPECT_EQ(source.statuses()[1].name, "rocm-smi.gpu-1");

  const auto& devices = source.devices();
  ASSERT_EQ(devices.size(), 2U);
  EXPECT_EQ(devices[0].family, "rocm-smi");
  EXPECT_EQ(devices[0].index, 0U);
  EXPECT_EQ(devices[0].name, "AMD Instinct MI250X");
  EXPECT_EQ(devices[0].uuid, "GPU-1a2b3c4d5e6f7081");
  ASSERT_TRUE(devices[0].power_limit.has_value());
  EXPECT_DOUBLE_EQ(devices[0].power_limit->value, 560.0);
  EXPECT_TRUE(devices[0].energy_is_counter);
  EXPECT_EQ(devices[0].energy_method, kRocmSmiEnergyCounterMethod);
  EXPECT_EQ(devices[1].index, 1U);
  EXPECT_EQ(devices[1].name, "AMD Radeon Pro W6800");
  EXPECT_TRUE(devices[1].uuid.empty());
  EXPECT_DOUBLE_EQ(devices[1].power_limit->value, 250.0);
  EXPECT_FALSE(devices[1].energy_is_counter);
  EXPECT_EQ(devices[1].energy_method, kRocmSmiPowerAverageMethod);

  const auto& sensors = source.sensors();
  ASSERT_EQ(sensors.size(), 2U);
  EXPECT_EQ(sensors[0].name, "rocm-smi.gpu-0");
  EXPECT_EQ(sensors[1].name, "rocm-smi.gpu-1");
  for (const SensorInfo& sensor : sensors) {
    EXPECT_EQ(sensor.family, "rocm-smi");
    EXPECT_EQ(sensor.component, Component::Gpu);
    EXPECT_EQ(sensor.counter_max, std::numeric_limits<std::uint64_t>::max());
  }
  EXPECT_DOUBLE_EQ(sensors[0].joules_per_raw_unit, static_cast<double>(15.3F) * 1e-6);
  EXPECT_DOUBLE_EQ(sensors[1].joules_per_raw_unit, 1e-3);
  ASSERT_TRUE(sensors[0].max_power.has_value());
  EXPECT_DOUBLE_EQ(sensors[0].max_power->value, 560.0);
}

TEST_F(RocmSmiSourceTest, CounterEnergyMatchesTheTrace) {
  const fake::Trace trace = use_trace(R"(gpu 0 name="AMD Instinct MI250X" power_cap_w=560
energy_counter 0 resolution_uj=15.3
power 0 at=0 watts=150
power 0 at=0.15 watts=420
power 0 at=0.30 watts=90
)");
  RocmSmiGpuSource source(kFake);
  ASSERT_EQ(source.sensors().size(), 1U);
  ASSERT_TRUE(source.devices()[0].energy_is_counter);
  const double joules_per_count = source.sensors()[0].joules_per_raw_unit;
  const TimedRead a = timed_read(source);
  sleep_until(0.45);
  const TimedRead b = timed_read(source);
  ASSERT_EQ(a.errors[0], 0);
  ASSERT_EQ(b.errors[0], 0);
  // The raw value is the accumulator itself.
  EXPECT_GE(a.raw[0], trace.counter(0, a.before_s));
  EXPECT_LE(a.raw[0], trace.counter(0, a.after_s));

  // Power is never negative: the truth lies between the integrals over the shortest and longest intervals
  // the two reads allow; ± one count for the accumulator's steps.
  const double measured_j = static_cast<double>(b.raw[0] - a.raw[0]) * joules_per_count;
  const double low_j = trace.energy_j(0, a.after_s, b.before_s) - joules_per_count;
  const double high_j = trace.energy_j(0, a.before_s, b.after_s) + joules_per_count;
  EXPECT_GE(measured_j, low_j);
  EXPECT_LE(measured_j, high_j);
  EXPECT_GT(measured_j, 50.0);  // 420 W × 0.15 s alone is 63 J
}

TEST_F(RocmSmiSourceTest, PowerIntegratedWhenTheCounterIsNotSupported) {
  const fake::Trace trace = use_trace(R"(gpu 0 name="AMD Radeon RX 6800"
energy_counter 0 unsupported
power 0 at=0 watts=20
power 0 at=0.12 watts=200
power 0 at=0.27 watts=35
)");
  RocmSmiGpuSource source(kFake);
  ASSERT_EQ(source.devices().size(), 1U);
  EXPECT_FALSE(source.devices()[0].energy_is_counter);
  EXPECT_FALSE(source.devices()[0].power_limit.has_value());

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
  const double steps_w = 180.0 + 165.0;
  const double max_w = 200.0;
  const double tolerance_mj =
      1000.0 * (steps_w * max_interval_s / 2.0 +
                max_w * ((first.after_s - first.before_s) + (last.after_s - last.before_s))) +
      2.0;
  EXPECT_NEAR(measured_mj, truth_mj, tolerance_mj)
      << reads.size() << " reads, longest interval " << max_interval_s;
  EXPECT_GT(measured_mj, 30000.0);  // 200 W × 0.15 s
}

TEST_F(RocmSmiSourceTest, NoEnergyNoPowerLeavesTheGpuOut) {
  use_trace(R"(gpu 0 name=A
gpu 1 name=B
energy_counter 0 unsupported
power_ave 0 unsupported
power 1 at=0 watts=10
)");
  RocmSmiGpuSource source(kFake);
  ASSERT_EQ(source.devices().size(), 1U);
  EXPECT_EQ(source.devices()[0].index, 1U);
  EXPECT_EQ(source.sensors()[0].name, "rocm-smi.gpu-1");
  ASSERT_EQ(source.statuses().size(), 2U);
  EXPECT_EQ(source.statuses()[0].name, "rocm-smi.gpu-0");
  EXPECT_EQ(source.statuses()[0].state, SensorStatus::State::Error);
  EXPECT_NE(source.statuses()[0].reason.find("NOT_SUPPORTED"), std::string::npos)
      << source.statuses()[0].reason;
}

TEST_F(RocmSmiSourceTest, MissingLibraryIsAbsentWithTheRemedy) {
  RocmSmiGpuSource source("/nonexistent/librocm_smi64.so.1");
  ASSERT_EQ(source.statuses().size(), 1U);
  const SensorStatus& status = source.statuses()[0];
  EXPECT_EQ(status.name, "rocm-smi");
  EXPECT_EQ(status.state, SensorStatus::State::Absent);
  EXPECT_EQ(status.path, "/nonexistent/librocm_smi64.so.1");
  EXPECT_NE(status.reason.find("/nonexistent/librocm_smi64.so.1"), std::string::npos) << status.reason;
  EXPECT_NE(status.remedy.find("apt-get install librocm-smi64-1"), std::string::npos);
  EXPECT_NE(status.remedy.find("--rocm-smi-library"), std::string::npos);
  EXPECT_TRUE(source.sensors().empty());
  EXPECT_TRUE(source.devices().empty());
  std::vector<GpuActivity> activity;
  source.sample_activity(activity);
  EXPECT_TRUE(activity.empty());
}

TEST_F(RocmSmiSourceTest, DefaultNameIsLibrocmSmi64) {
  // Only meaningful where no ROCm SMI is installed (as on CI); with one, the source opens it.
  if (std::ifstream(kRocmSmiDebianPath).good()) GTEST_SKIP() << kRocmSmiDebianPath << " is installed";
  RocmSmiGpuSource source("");
  ASSERT_FALSE(source.statuses().empty());
  const SensorStatus& status = source.statuses()[0];
  if (status.state != SensorStatus::State::Absent)
    GTEST_SKIP() << "a librocm_smi64.so.1 is on the search path";
  EXPECT_EQ(status.path, kRocmSmiLibraryName);
  EXPECT_NE(status.reason.find(kRocmSmiDebianPath), std::string::npos) << status.reason;
}

TEST_F(RocmSmiSourceTest, InitFailureIsAnError) {
  use_trace("init_error 8\ngpu 0 name=x\n");
  RocmSmiGpuSource source(kFake);
  ASSERT_EQ(source.statuses().size(), 1U);
  EXPECT_EQ(source.statuses()[0].state, SensorStatus::State::Error);
  EXPECT_NE(source.statuses()[0].reason.find("rsmi_init"), std::string::npos);
  EXPECT_NE(source.statuses()[0].reason.find("INIT_ERROR"), std::string::npos) << source.statuses()[0].reason;
}

TEST_F(RocmSmiSourceTest, NoGpuIsAbsent) {
  use_trace("");
  RocmSmiGpuSource source(kFake);
  ASSERT_EQ(source.statuses().size(), 1U);
  EXPECT_EQ(source.statuses()[0].name, "rocm-smi");
  EXPECT_EQ(source.statuses()[0].state, SensorStatus::State::Absent);
}

TEST_F(RocmSmiSourceTest, ActivityBusyPercentAndTheProcessesOfEachGpu) {
  use_trace(
      "gpu 0 name=A\ngpu 1 name=B\npower 0 at=0 watts=10\npower 1 at=0 watts=10\n"
      "busy 0 percent=73\nprocess 1 comm=" +
      self_comm() + "\n");
  RocmSmiGpuSource source(kFake);
  ASSERT_EQ(source.devices().size(), 2U);
  std::vector<GpuActivity> activity;
  source.sample_activity(activity);
  ASSERT_EQ(activity.size(), 2U);
  ASSERT_TRUE(activity[0].utilisation_percent.has_value());
  EXPECT_DOUBLE_EQ(*activity[0].utilisation_percent, 73.0);
  EXPECT_FALSE(activity[1].utilisation_percent.has_value());
  EXPECT_FALSE(lists_self(activity[0]));
  EXPECT_TRUE(lists_self(activity[1]));
  for (const GpuActivity& a : activity) {
    EXPECT_FALSE(a.per_process_utilisation);
    for (const GpuProcessUse& use : a.processes) EXPECT_EQ(use.sm_percent, 0.0);
  }
}

}  // namespace
}  // namespace wattprint
