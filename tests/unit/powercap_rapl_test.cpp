// RAPL zone discovery over static fake powercap trees: hex indices, subzones, mmio, broken zones.
#include "sources/rapl/powercap_rapl.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "energy/counter_track.hpp"
#include "test_dir.hpp"

namespace wattprint {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

/// A zone as flat directories in class/powercap (the layout some containers show).
void zone(const fs::path& root, const std::string& dir, const std::string& name, const std::string& energy,
          const std::string& range = "262143328850") {
  const fs::path z = root / "class/powercap" / dir;
  write(z / "name", name + "\n");
  write(z / "energy_uj", energy + "\n");
  if (!range.empty()) write(z / "max_energy_range_uj", range + "\n");
}

TEST(RaplZoneIndices, AreHexadecimal) {
  EXPECT_EQ(parse_rapl_zone_indices("intel-rapl:0"), (std::vector<unsigned>{0}));
  EXPECT_EQ(parse_rapl_zone_indices("intel-rapl:a"), (std::vector<unsigned>{10}));
  EXPECT_EQ(parse_rapl_zone_indices("intel-rapl:1:1f"), (std::vector<unsigned>{1, 31}));
  EXPECT_TRUE(parse_rapl_zone_indices("intel-rapl").empty());
  EXPECT_TRUE(parse_rapl_zone_indices("intel-rapl-mmio:0").empty());
  EXPECT_TRUE(parse_rapl_zone_indices("intel-rapl:0:0:0").empty());
  EXPECT_TRUE(parse_rapl_zone_indices("intel-rapl:G").empty());
}

TEST(PowercapRapl, NoPowercapDirectoryIsAbsentWithARemedy) {
  testing::TestDir dir;
  const PowercapRaplSource source(dir.path());
  ASSERT_EQ(source.statuses().size(), 1U);
  EXPECT_EQ(source.statuses()[0].state, SensorStatus::State::Absent);
  EXPECT_FALSE(source.statuses()[0].remedy.empty());
  EXPECT_TRUE(source.sensors().empty());
}

TEST(PowercapRapl, DiscoversAndClassifiesZones) {
  testing::TestDir dir;
  const fs::path& root = dir.path();
  zone(root, "intel-rapl:0", "package-0", "1000");
  zone(root, "intel-rapl:0:0", "core", "400");
  zone(root, "intel-rapl:0:1", "dram", "77", "65712999613");
  zone(root, "intel-rapl:1", "package-1", "2000");
  zone(root, "intel-rapl:a", "psys", "5000");
  zone(root, "intel-rapl-mmio:0", "package-0", "1000");
  write(root / "class/powercap/intel-rapl:0/constraint_0_max_power_uw", "125000000\n");
  write(root / "class/powercap/intel-rapl:0/constraint_1_max_power_uw", "150000000\n");

  PowercapRaplSource source(root);
  const auto& sensors = source.sensors();
  ASSERT_EQ(sensors.size(), 5U);  // mmio skipped
  EXPECT_EQ(sensors[0].name, "rapl.package-0");
  EXPECT_EQ(sensors[0].component, Component::CpuPackage);
  ASSERT_TRUE(sensors[0].max_power);
  EXPECT_DOUBLE_EQ(sensors[0].max_power->value, 150.0);
  EXPECT_EQ(sensors[1].name, "rapl.package-0.core");
  EXPECT_EQ(sensors[1].component, Component::CpuCore);
  EXPECT_EQ(sensors[2].name, "rapl.package-0.dram");
  EXPECT_EQ(sensors[2].component, Component::Dram);
  EXPECT_EQ(sensors[2].counter_max, 65712999613ULL);
  EXPECT_EQ(sensors[3].name, "rapl.package-1");
  EXPECT_EQ(sensors[4].name, "rapl.psys");  // intel-rapl:a is the 11th zone, sorted after 1
  EXPECT_EQ(sensors[4].component, Component::Psys);
  EXPECT_FALSE(is_additive(Component::CpuCore));
  EXPECT_FALSE(is_additive(Component::Psys));

  std::vector<std::uint64_t> raw(sensors.size());
  std::vector<int> errors(sensors.size());
  source.read(raw, errors);
  EXPECT_EQ(raw, (std::vector<std::uint64_t>{1000, 400, 77, 2000, 5000}));
  EXPECT_EQ(errors, (std::vector<int>(5, 0)));
}

TEST(PowercapRapl, RereadsTheSameFileInPlace) {
  testing::TestDir dir;
  zone(dir.path(), "intel-rapl:0", "package-0", "1000");
  PowercapRaplSource source(dir.path());
  std::vector<std::uint64_t> raw(1);
  std::vector<int> errors(1);
  {
    // Overwrite in place, shorter than before, as the fake writers do.
    std::ofstream out(dir.path() / "class/powercap/intel-rapl:0/energy_uj", std::ios::in | std::ios::out);
    out << "5\n";
  }
  source.read(raw, errors);
  EXPECT_EQ(errors[0], 0);
  EXPECT_EQ(raw[0], 5U);
  std::ofstream(dir.path() / "class/powercap/intel-rapl:0/energy_uj") << "abc\n";
  source.read(raw, errors);
  EXPECT_EQ(errors[0], EBADMSG);
  fs::remove(dir.path() / "class/powercap/intel-rapl:0/energy_uj");
  source.read(raw, errors);
  EXPECT_EQ(errors[0], ENOENT);
  std::ofstream(dir.path() / "class/powercap/intel-rapl:0/energy_uj") << "42\n";
  source.read(raw, errors);
  EXPECT_EQ(errors[0], 0);
  EXPECT_EQ(raw[0], 42U);
}

TEST(PowercapRapl, AReadErrorIsAnErrnoNeverAValueAndMakesTheTrackDegraded) {
  // A regular file cannot fail a read with EIO or ENODEV; a directory put in its place fails pread with
  // EISDIR, which takes the same path: the errno is handed on as is, and the track opens a degraded span with
  // it and adds nothing until the counter reads again.
  testing::TestDir dir;
  const fs::path file = dir.path() / "class/powercap/intel-rapl:0/energy_uj";
  zone(dir.path(), "intel-rapl:0", "package-0", "1000000");
  PowercapRaplSource source(dir.path());
  CounterTrack track(source.sensors().at(0));
  std::vector<std::uint64_t> raw(1);
  std::vector<int> errors(1);
  source.read(raw, errors);
  ASSERT_EQ(errors[0], 0);
  track.update(0.0, raw[0], errors[0]);
  fs::remove(file);
  fs::create_directory(file);
  raw[0] = 123;
  source.read(raw, errors);
  EXPECT_EQ(errors[0], EISDIR);
  EXPECT_DOUBLE_EQ(track.update(1.0, raw[0], errors[0]).value, 0.0);
  fs::remove(file);
  std::ofstream(file) << "3000000\n";
  source.read(raw, errors);
  ASSERT_EQ(errors[0], 0);
  EXPECT_NEAR(track.update(2.0, raw[0], errors[0]).value, 2.0, 1e-9);  // the counter kept counting
  ASSERT_EQ(track.degraded_spans().size(), 1U);
  EXPECT_EQ(track.degraded_spans()[0].error, std::strerror(EISDIR));
  EXPECT_DOUBLE_EQ(track.degraded_spans()[0].start_s, 0.0);
  EXPECT_DOUBLE_EQ(track.degraded_spans()[0].end_s, 2.0);
  // EIO and ENODEV (a driver's failed read, a device gone) read the same: their own text in the span.
  for (const int error : {EIO, ENODEV}) {
    CounterTrack other(source.sensors().at(0));
    other.update(0.0, 1, 0);
    EXPECT_DOUBLE_EQ(other.update(0.5, 999, error).value, 0.0);
    ASSERT_EQ(other.degraded_spans().size(), 1U);
    EXPECT_EQ(other.degraded_spans()[0].error, std::strerror(error));
  }
}

TEST(PowercapRapl, BrokenZonesAreReportedNotUsed) {
  testing::TestDir dir;
  zone(dir.path(), "intel-rapl:0", "package-0", "1000", "");  // no max_energy_range_uj
  zone(dir.path(), "intel-rapl:1", "package-1", "garbage");
  zone(dir.path(), "intel-rapl:2", "mystery", "1");
  const PowercapRaplSource source(dir.path());
  EXPECT_TRUE(source.sensors().empty());
  ASSERT_EQ(source.statuses().size(), 3U);
  for (const auto& status : source.statuses()) EXPECT_EQ(status.state, SensorStatus::State::Error);
  EXPECT_NE(source.statuses()[0].reason.find("max_energy_range_uj"), std::string::npos);
  EXPECT_NE(source.statuses()[1].reason.find("not a number"), std::string::npos);
}

}  // namespace
}  // namespace wattprint
