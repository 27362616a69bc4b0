// amdgpu hwmon discovery over fake sysfs trees laid out with symlinks as on a real machine; power
// integration and the energy counter.
#include "sources/amdgpu/amdgpu_hwmon.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "test_dir.hpp"

namespace wattprint {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;  // truncates in place: the inode (and an open descriptor) stays
}

/// A card as the kernel lays it out: class/drm/card<N> -> ../../devices/pci…/<bus>/drm/card<N>, whose
/// `device` links back to the PCI device, which holds hwmon/hwmon<M>. Returns the hwmon directory.
fs::path card(const fs::path& root, unsigned number, const std::string& bus, const std::string& driver,
              unsigned hwmon) {
  const fs::path pci = root / "devices/pci0000:00/0000:00:01.1" / bus;
  const fs::path drm_dir = pci / "drm" / ("card" + std::to_string(number));
  fs::create_directories(drm_dir);
  fs::create_directories(root / "class/drm");
  fs::create_directory_symlink(fs::path("../../../") / bus, drm_dir / "device");
  fs::create_directory_symlink(
      fs::path("../../devices/pci0000:00/0000:00:01.1") / bus / "drm" / ("card" + std::to_string(number)),
      root / "class/drm" / ("card" + std::to_string(number)));
  // Connector and render node entries that must be skipped.
  fs::create_directories(drm_dir / ("card" + std::to_string(number) + "-DP-1"));
  fs::create_directory_symlink(drm_dir / ("card" + std::to_string(number) + "-DP-1"),
                               root / "class/drm" / ("card" + std::to_string(number) + "-DP-1"));
  const fs::path hw = pci / "hwmon" / ("hwmon" + std::to_string(hwmon));
  write(hw / "name", driver + "\n");
  return hw;
}

TEST(AmdgpuHwmon, DrmCardNames) {
  EXPECT_EQ(parse_drm_card_number("card0"), 0U);
  EXPECT_EQ(parse_drm_card_number("card12"), 12U);
  EXPECT_FALSE(parse_drm_card_number("card0-DP-1"));
  EXPECT_FALSE(parse_drm_card_number("renderD128"));
  EXPECT_FALSE(parse_drm_card_number("card"));
  EXPECT_FALSE(parse_drm_card_number("version"));
}

TEST(AmdgpuHwmon, NoDrmTreeIsAbsentWithARemedy) {
  testing::TestDir dir;
  const AmdgpuHwmonSource source(dir.path());
  ASSERT_EQ(source.statuses().size(), 1U);
  EXPECT_EQ(source.statuses()[0].state, SensorStatus::State::Absent);
  EXPECT_FALSE(source.statuses()[0].reason.empty());
  EXPECT_FALSE(source.statuses()[0].remedy.empty());
  EXPECT_TRUE(source.sensors().empty());
  EXPECT_TRUE(source.devices().empty());
}

TEST(AmdgpuHwmon, OtherDriversCardsAreAbsent) {
  testing::TestDir dir;
  card(dir.path(), 0, "0000:00:02.0", "i915", 3);
  fs::create_directories(dir.path() / "class/drm/renderD128");
  const AmdgpuHwmonSource source(dir.path());
  ASSERT_EQ(source.statuses().size(), 1U);
  EXPECT_EQ(source.statuses()[0].state, SensorStatus::State::Absent);
  EXPECT_TRUE(source.devices().empty());
}

TEST(AmdgpuHwmon, DiscoversCardsAndIntegratesPowerRewrittenInPlace) {
  testing::TestDir dir;
  const fs::path& root = dir.path();
  card(root, 0, "0000:00:02.0", "i915", 1);  // an Intel iGPU first: skipped
  const fs::path hw = card(root, 1, "0000:03:00.0", "amdgpu", 4);
  write(hw / "power1_input", "50000000\n");  // 50 W
  write(hw / "power1_average", "40000000\n");
  write(hw / "power1_cap", "250000000\n");
  write(root / "devices/pci0000:00/0000:00:01.1/0000:03:00.0/product_name", "AMD Radeon RX 7900 XTX\n");
  write(root / "devices/pci0000:00/0000:00:01.1/0000:03:00.0/gpu_busy_percent", "37\n");

  AmdgpuHwmonSource source(root);
  ASSERT_EQ(source.devices().size(), 1U);
  const GpuDevice& d = source.devices()[0];
  EXPECT_EQ(d.family, "amdgpu");
  EXPECT_EQ(d.index, 0U);
  EXPECT_EQ(d.name, "AMD Radeon RX 7900 XTX");
  EXPECT_EQ(d.pci_bus_id, "0000:03:00.0");
  ASSERT_TRUE(d.power_limit);
  EXPECT_DOUBLE_EQ(d.power_limit->value, 250.0);
  EXPECT_FALSE(d.energy_is_counter);
  EXPECT_NE(d.energy_method.find("power1_input"), std::string::npos);
  ASSERT_EQ(source.sensors().size(), 1U);
  const SensorInfo& s = source.sensors()[0];
  EXPECT_EQ(s.name, "amdgpu.gpu-0");
  EXPECT_EQ(s.component, Component::Gpu);
  EXPECT_DOUBLE_EQ(s.joules_per_raw_unit, 1e-3);
  EXPECT_EQ(s.counter_max, UINT64_MAX);
  EXPECT_TRUE(fs::equivalent(s.origin, hw / "power1_input"));

  std::vector<std::uint64_t> raw(1);
  std::vector<int> errors(1);
  source.read(raw, errors);
  ASSERT_EQ(errors[0], 0);
  EXPECT_EQ(raw[0], 0U);
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  source.read(raw, errors);
  const double first_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(errors[0], 0);
  const double first_j = static_cast<double>(raw[0]) * 1e-3;
  EXPECT_NEAR(first_j, 50.0 * first_s, 50.0 * 0.02 + 0.002);

  write(hw / "power1_input", "150000000\n");  // 150 W from now on, same file
  source.read(raw, errors);                   // trapezoid: the step counts half over its interval
  const double step_j = static_cast<double>(raw[0]) * 1e-3;
  const auto t1 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  source.read(raw, errors);
  const double second_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  ASSERT_EQ(errors[0], 0);
  EXPECT_NEAR(static_cast<double>(raw[0]) * 1e-3 - step_j, 150.0 * second_s, 150.0 * 0.02 + 0.002);

  std::vector<GpuActivity> activity(1);
  activity[0].processes.push_back({42, 10.0});
  source.sample_activity(activity);
  ASSERT_TRUE(activity[0].utilisation_percent);
  EXPECT_DOUBLE_EQ(*activity[0].utilisation_percent, 37.0);
  EXPECT_TRUE(activity[0].processes.empty());
  EXPECT_FALSE(activity[0].per_process_utilisation);
}

TEST(AmdgpuHwmon, AveragePowerOnlySaysItIncludesTheCpuOnApus) {
  testing::TestDir dir;
  const fs::path hw = card(dir.path(), 0, "0000:c4:00.0", "amdgpu", 2);
  write(hw / "power1_average", "12000000\n");
  const AmdgpuHwmonSource source(dir.path());
  ASSERT_EQ(source.devices().size(), 1U);
  EXPECT_EQ(source.devices()[0].name, "AMD GPU (card0)");
  EXPECT_EQ(source.devices()[0].pci_bus_id, "0000:c4:00.0");
  EXPECT_FALSE(source.devices()[0].power_limit);
  EXPECT_NE(source.devices()[0].energy_method.find("includes the CPU on APUs"), std::string::npos);
  EXPECT_TRUE(fs::equivalent(source.sensors()[0].origin, hw / "power1_average"));
}

TEST(AmdgpuHwmon, EnergyCounterIsPreferred) {
  testing::TestDir dir;
  const fs::path hw = card(dir.path(), 0, "0000:03:00.0", "amdgpu", 0);
  write(hw / "power1_input", "50000000\n");
  write(hw / "energy1_input", "123456789\n");
  AmdgpuHwmonSource source(dir.path());
  ASSERT_EQ(source.sensors().size(), 1U);
  EXPECT_TRUE(source.devices()[0].energy_is_counter);
  EXPECT_DOUBLE_EQ(source.sensors()[0].joules_per_raw_unit, 1e-6);
  EXPECT_EQ(source.sensors()[0].counter_max, UINT64_MAX);
  EXPECT_TRUE(fs::equivalent(source.sensors()[0].origin, hw / "energy1_input"));
  std::vector<std::uint64_t> raw(1);
  std::vector<int> errors(1);
  source.read(raw, errors);
  EXPECT_EQ(errors[0], 0);
  EXPECT_EQ(raw[0], 123456789U);
  write(hw / "energy1_input", "123999999\n");
  source.read(raw, errors);
  EXPECT_EQ(raw[0], 123999999U);
}

TEST(AmdgpuHwmon, UnreadablePowerHasARemedy) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads every file";
  testing::TestDir dir;
  const fs::path hw = card(dir.path(), 0, "0000:03:00.0", "amdgpu", 0);
  write(hw / "power1_input", "50000000\n");
  ::chmod((hw / "power1_input").c_str(), 0);
  const AmdgpuHwmonSource source(dir.path());
  EXPECT_TRUE(source.sensors().empty());
  ASSERT_EQ(source.statuses().size(), 1U);
  EXPECT_EQ(source.statuses()[0].name, "amdgpu.gpu-0");
  EXPECT_EQ(source.statuses()[0].state, SensorStatus::State::Unreadable);
  EXPECT_NE(source.statuses()[0].remedy.find("chmod"), std::string::npos);
}

TEST(AmdgpuHwmon, CardWithoutPowerFilesIsAbsent) {
  testing::TestDir dir;
  card(dir.path(), 0, "0000:03:00.0", "amdgpu", 0);
  const AmdgpuHwmonSource source(dir.path());
  EXPECT_TRUE(source.sensors().empty());
  ASSERT_EQ(source.statuses().size(), 1U);
  EXPECT_EQ(source.statuses()[0].state, SensorStatus::State::Absent);
}

}  // namespace
}  // namespace wattprint
