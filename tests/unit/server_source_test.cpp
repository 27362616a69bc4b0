// The ACPI power meter on fake hwmon trees, server source selection, and the server sampling thread: a
// management card that answers slowly must not slow the other sensors down.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "attribution/process_tree.hpp"
#include "sampling/run_sampler.hpp"
#include "sources/server/acpi_power_meter.hpp"
#include "sources/server/server_sources.hpp"
#include "test_dir.hpp"

namespace wattprint {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

TEST(AcpiPowerMeter, ReadsAverageAndIntervalInSiUnits) {
  const testing::TestDir root;
  write(root.path() / "class/hwmon/hwmon0/name", "coretemp\n");
  write(root.path() / "class/hwmon/hwmon3/name", "power_meter\n");
  write(root.path() / "class/hwmon/hwmon3/power1_average", "187500000\n");
  write(root.path() / "class/hwmon/hwmon3/power1_average_interval", "1000\n");
  OpenedServerSource opened = open_acpi_power_meter(root.path());
  ASSERT_EQ(opened.status.state, SensorStatus::State::Ok) << opened.status.reason;
  ASSERT_TRUE(opened.source);
  EXPECT_EQ(opened.source->family(), "acpi-power-meter");
  EXPECT_NE(opened.source->origin().find("hwmon3/power1_average"), std::string::npos);
  ServerRead read = opened.source->read();
  ASSERT_TRUE(read.reading) << read.error;
  EXPECT_DOUBLE_EQ(read.reading->power.value, 187.5);
  EXPECT_DOUBLE_EQ(read.reading->window.count(), 1.0);
  // The file is re-read on every reading.
  write(root.path() / "class/hwmon/hwmon3/power1_average", "250000000\n");
  read = opened.source->read();
  ASSERT_TRUE(read.reading);
  EXPECT_DOUBLE_EQ(read.reading->power.value, 250.0);
}

TEST(AcpiPowerMeter, OldDriversKeepTheAttributesInDevice) {
  const testing::TestDir root;
  write(root.path() / "class/hwmon/hwmon1/name", "power_meter\n");
  write(root.path() / "class/hwmon/hwmon1/device/power1_average", "90000000\n");
  OpenedServerSource opened = open_acpi_power_meter(root.path());
  ASSERT_EQ(opened.status.state, SensorStatus::State::Ok) << opened.status.reason;
  const ServerRead read = opened.source->read();
  ASSERT_TRUE(read.reading);
  EXPECT_DOUBLE_EQ(read.reading->power.value, 90.0);
  EXPECT_DOUBLE_EQ(read.reading->window.count(), 0.0);  // no interval file: taken as instantaneous
}

TEST(AcpiPowerMeter, AbsentOrGarbageIsSaidWithAReason) {
  const testing::TestDir root;
  OpenedServerSource none = open_acpi_power_meter(root.path());
  EXPECT_EQ(none.status.state, SensorStatus::State::Absent);
  EXPECT_NE(none.status.remedy.find("acpi_power_meter"), std::string::npos);
  write(root.path() / "class/hwmon/hwmon0/name", "power_meter\n");
  write(root.path() / "class/hwmon/hwmon0/power1_average", "n/a\n");
  OpenedServerSource garbage = open_acpi_power_meter(root.path());
  EXPECT_EQ(garbage.status.state, SensorStatus::State::Unreadable);
  EXPECT_FALSE(garbage.source);
  EXPECT_NE(garbage.status.reason.find("power1_average"), std::string::npos);
  write(root.path() / "class/hwmon/hwmon0/power1_average", "0\n");
  OpenedServerSource zero = open_acpi_power_meter(root.path());
  EXPECT_EQ(zero.status.state, SensorStatus::State::Unreadable);
  EXPECT_NE(zero.status.reason.find("0 W"), std::string::npos);
}

TEST(ServerSources, AutoTakesTheAcpiMeterWhenNothingElseIsThere) {
  const testing::TestDir root;
  write(root.path() / "class/hwmon/hwmon0/name", "power_meter\n");
  write(root.path() / "class/hwmon/hwmon0/power1_average", "100000000\n");
  ServerSourceOptions options;
  options.sysfs_root = root.path();
  options.ipmi_device = (root.path() / "no-ipmi0").string();
  ServerSources sources = open_server_sources(options);
  ASSERT_TRUE(sources.source);
  EXPECT_EQ(sources.source->family(), "acpi-power-meter");
  options.choice = ServerSourceChoice::None;
  EXPECT_FALSE(open_server_sources(options).source);
  options.choice = ServerSourceChoice::Redfish;
  sources = open_server_sources(options);
  EXPECT_FALSE(sources.source);
  EXPECT_NE(sources.unavailable_reason.find("no Redfish service configured"), std::string::npos);
  EXPECT_EQ(parse_server_source_choice("acpi"), ServerSourceChoice::Acpi);
  EXPECT_FALSE(parse_server_source_choice("bmc"));
}

/// A management card that answers after `delay`, 200 W.
class SlowCard final : public ServerPowerSource {
 public:
  explicit SlowCard(std::chrono::milliseconds delay) : delay_(delay) {}
  [[nodiscard]] const std::string& family() const override { return family_; }
  [[nodiscard]] const std::string& origin() const override { return origin_; }
  ServerRead read() noexcept override {
    std::this_thread::sleep_for(delay_);
    ++reads;
    return {ServerPowerReading{Watts{200.0}, Seconds(0.0)}, ""};
  }
  std::atomic<int> reads{0};

 private:
  std::chrono::milliseconds delay_;
  std::string family_ = "slow";
  std::string origin_ = "a slow card";
};

/// One counter that counts its reads.
class CountingSource final : public EnergyCounterSource {
 public:
  CountingSource() {
    SensorInfo info;
    info.name = "fake.package-0";
    info.family = "fake";
    info.counter_max = 1ULL << 40;
    sensors_.push_back(info);
  }
  [[nodiscard]] const std::vector<SensorStatus>& statuses() const override { return statuses_; }
  [[nodiscard]] const std::vector<SensorInfo>& sensors() const override { return sensors_; }
  void read(std::vector<std::uint64_t>& raw, std::vector<int>& errors) noexcept override {
    raw[0] = ++reads_ * 1000;
    errors[0] = 0;
  }

 private:
  std::vector<SensorStatus> statuses_;
  std::vector<SensorInfo> sensors_;
  std::uint64_t reads_ = 0;
};

TEST(ServerSampler, ASlowCardDoesNotDelayTheOtherSensors) {
  const ProcFs procfs("/proc");
  ProcessTreeMonitor tree(procfs, ::getpid());
  const SystemClock clock;
  std::vector<std::unique_ptr<EnergyCounterSource>> sources;
  sources.push_back(std::make_unique<CountingSource>());
  RunSampler sampler(std::move(sources), tree, procfs, clock, Seconds(0.02));
  auto card = std::make_unique<SlowCard>(std::chrono::milliseconds(700));
  SlowCard* card_view = card.get();
  sampler.attach_server(std::make_unique<ServerSampler>(std::move(card), clock, Seconds(0.1)));
  sampler.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const RunMeasurement m = sampler.finish();
  // 1.5 s at 50 reads per second: the counters kept their pace (≥ 40 reads; a stalled loop would give ~3).
  EXPECT_GE(m.counter_reads, 40U);
  ASSERT_TRUE(m.server);
  // The card answered every 0.7 s: readings at ~0.7 s and ~1.4 s, then the last one after the end.
  EXPECT_GE(card_view->reads.load(), 2);
  EXPECT_LE(card_view->reads.load(), 4);
  ASSERT_TRUE(m.server->energy);
  // 200 W held over the run.
  EXPECT_NEAR(m.server->energy->value, 200.0 * m.duration_s, 1e-6);
}

/// A card that answers at once, well or not, and counts its readings.
class CountingCard final : public ServerPowerSource {
 public:
  explicit CountingCard(bool answers) : answers_(answers) {}
  [[nodiscard]] const std::string& family() const override { return family_; }
  [[nodiscard]] const std::string& origin() const override { return family_; }
  ServerRead read() noexcept override {
    ++reads;
    if (!answers_) return {std::nullopt, "session timeout"};
    return {ServerPowerReading{Watts{100.0}, Seconds(0.0)}, ""};
  }
  std::atomic<int> reads{0};

 private:
  bool answers_;
  std::string family_ = "counting";
};

/// A card that answers `watts`.
class FixedCard final : public ServerPowerSource {
 public:
  explicit FixedCard(double watts) : watts_(watts) {}
  [[nodiscard]] const std::string& family() const override { return family_; }
  [[nodiscard]] const std::string& origin() const override { return family_; }
  ServerRead read() noexcept override { return {ServerPowerReading{Watts{watts_}, Seconds(0.0)}, ""}; }

 private:
  double watts_;
  std::string family_ = "fixed";
};

TEST(ServerSampler, ImplausibleReadingsAreFailures) {
  const SystemClock clock;
  for (const double watts : {0.0, -5.0, 1e12}) {
    ServerSampler sampler(std::make_unique<FixedCard>(watts), clock, Seconds(60.0));
    sampler.start(clock.steady_now());
    const ServerEnergy energy = sampler.finish(0.05);
    EXPECT_FALSE(energy.energy) << watts;
    EXPECT_EQ(energy.failures, 1U) << watts;
    EXPECT_NE(energy.last_error.find("implausible"), std::string::npos) << energy.last_error;
  }
}

TEST(ServerSampler, SoFarIsTheEnergyUpToThatTimeWhileItRuns) {
  const SystemClock clock;
  ServerSampler sampler(std::make_unique<FixedCard>(200.0), clock, Seconds(0.02));
  sampler.start(clock.steady_now());
  // 200 W since the start: 40 J over [0, 0.2 s] once a reading after 0.2 s came (before it, the energy is
  // held flat after the last reading, so it never exceeds 40 J).
  ServerEnergy now;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    now = sampler.so_far(0.2);
    ASSERT_TRUE(now.energy);
    ASSERT_LE(now.energy->value, 40.0 + 1e-6);
  } while (now.energy->value < 40.0 - 1e-6 && std::chrono::steady_clock::now() < deadline);
  EXPECT_NEAR(now.energy->value, 40.0, 1e-6);
  EXPECT_GE(now.readings, 2U);
  EXPECT_EQ(now.family, "fixed");
  // The sampler went on: its final energy covers the whole run.
  const ServerEnergy end = sampler.finish(0.2);
  ASSERT_TRUE(end.energy);
  EXPECT_NEAR(end.energy->value, 40.0, 1e-6);
  EXPECT_GE(end.readings, now.readings);
}

TEST(ServerSampler, TakesALastReadingAtTheEndUnlessTheCardHasJustFailed) {
  const SystemClock clock;
  for (const bool answers : {true, false}) {
    auto card = std::make_unique<CountingCard>(answers);
    CountingCard* view = card.get();
    ServerSampler sampler(std::move(card), clock, Seconds(60.0));
    sampler.start(clock.steady_now());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const ServerEnergy energy = sampler.finish(0.1);
    // One reading at the start; a last one at the end only when the card answered.
    EXPECT_EQ(view->reads.load(), answers ? 2 : 1) << answers;
    EXPECT_EQ(energy.readings, answers ? 2U : 0U);
    EXPECT_EQ(energy.failures, answers ? 0U : 1U);
    EXPECT_EQ(energy.energy.has_value(), answers);
    if (!answers) {
      ASSERT_EQ(energy.degraded.size(), 1U);
      EXPECT_DOUBLE_EQ(energy.degraded[0].end_s, 0.1);
      EXPECT_EQ(energy.last_error, "session timeout");
    }
  }
}

}  // namespace
}  // namespace wattprint
