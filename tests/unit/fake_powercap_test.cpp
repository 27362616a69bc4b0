// Self-test of the live fake powercap tree: layout, symlinks, counter rate (µJ at the set W), wraps, in-place
// writes.
#include "fakes/fake_powercap.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

namespace wattprint::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kTick = 5ms;
// How late the update thread may run behind its tick on a loaded 2-CPU machine (scheduling, not the model).
constexpr double kSchedulingSlackS = 0.05;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Parses "<digits>\n" exactly; nullopt for anything else.
std::optional<std::uint64_t> parse_counter(const std::string& text) {
  if (text.size() < 2 || text.back() != '\n') return std::nullopt;
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size() - 1, v);
  if (ec != std::errc() || end != text.data() + text.size() - 1) return std::nullopt;
  return v;
}

std::uint64_t read_counter(const fs::path& p) {
  const auto v = parse_counter(slurp(p));
  if (!v) throw std::runtime_error("not a counter: " + p.string());
  return *v;
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::vector<FakeZone> two_socket_zones() {
  return {
      FakeZone("intel-rapl:0", "package-0", 20.0).with_max_power(125.0),
      FakeZone("intel-rapl:0:0", "core", 12.0),
      FakeZone("intel-rapl:0:1", "dram", 3.0).with_range(65712999613ULL),
      FakeZone("intel-rapl:1", "package-1", 15.0),
      FakeZone("intel-rapl:a", "psys", 50.0).with_initial(117870082040ULL),
      FakeZone("intel-rapl-mmio:0", "package-0", 20.0),
  };
}

TEST(FakePowercapTree, LayoutMatchesTheKernel) {
  FakePowercapTree tree(two_socket_zones());
  const fs::path root = tree.sysfs_root();
  const fs::path devices = root / "devices/virtual/powercap";
  const fs::path cls = root / "class/powercap";
  EXPECT_EQ(tree.class_dir(), cls);

  // Real directories, nested.
  EXPECT_TRUE(fs::is_directory(devices / "intel-rapl/intel-rapl:0/intel-rapl:0:0"));
  EXPECT_TRUE(fs::is_directory(devices / "intel-rapl/intel-rapl:0/intel-rapl:0:1"));
  EXPECT_TRUE(fs::is_directory(devices / "intel-rapl/intel-rapl:a"));
  EXPECT_TRUE(fs::is_directory(devices / "intel-rapl-mmio/intel-rapl-mmio:0"));
  EXPECT_EQ(tree.zone_path("intel-rapl:0:1"), devices / "intel-rapl/intel-rapl:0/intel-rapl:0:1");
  EXPECT_EQ(slurp(devices / "intel-rapl/enabled"), "1\n");

  // Flat class directory of relative symlinks, for control types and every zone including sub-zones.
  const std::pair<const char*, const char*> links[] = {
      {"intel-rapl", "../../devices/virtual/powercap/intel-rapl"},
      {"intel-rapl-mmio", "../../devices/virtual/powercap/intel-rapl-mmio"},
      {"intel-rapl:0", "../../devices/virtual/powercap/intel-rapl/intel-rapl:0"},
      {"intel-rapl:0:0", "../../devices/virtual/powercap/intel-rapl/intel-rapl:0/intel-rapl:0:0"},
      {"intel-rapl:0:1", "../../devices/virtual/powercap/intel-rapl/intel-rapl:0/intel-rapl:0:1"},
      {"intel-rapl:1", "../../devices/virtual/powercap/intel-rapl/intel-rapl:1"},
      {"intel-rapl:a", "../../devices/virtual/powercap/intel-rapl/intel-rapl:a"},
      {"intel-rapl-mmio:0", "../../devices/virtual/powercap/intel-rapl-mmio/intel-rapl-mmio:0"},
  };
  std::size_t entries = 0;
  for (const auto& e : fs::directory_iterator(cls)) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, std::size(links));
  for (const auto& [name, target] : links) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(fs::is_symlink(cls / name));
    EXPECT_EQ(fs::read_symlink(cls / name), fs::path(target));
    EXPECT_TRUE(fs::is_directory(cls / name));
  }
  // Nested access through the class dir, as PowerJoular does.
  EXPECT_EQ(slurp(cls / "intel-rapl/intel-rapl:0/intel-rapl:0:1/name"), "dram\n");

  // Zone files.
  EXPECT_EQ(slurp(cls / "intel-rapl:0/name"), "package-0\n");
  EXPECT_EQ(slurp(cls / "intel-rapl:0:0/name"), "core\n");
  EXPECT_EQ(slurp(cls / "intel-rapl:a/name"), "psys\n");
  EXPECT_EQ(slurp(cls / "intel-rapl-mmio:0/name"), "package-0\n");
  EXPECT_EQ(slurp(cls / "intel-rapl:0/max_energy_range_uj"), "262143328850\n");
  EXPECT_EQ(slurp(cls / "intel-rapl:0:1/max_energy_range_uj"), "65712999613\n");
  EXPECT_EQ(slurp(cls / "intel-rapl:0/energy_uj"), "0\n");
  EXPECT_EQ(slurp(cls / "intel-rapl:a/energy_uj"), "117870082040\n");
  EXPECT_EQ(slurp(cls / "intel-rapl:0/enabled"), "1\n");
  EXPECT_EQ(slurp(cls / "intel-rapl:0/constraint_0_name"), "long_term\n");
  EXPECT_EQ(slurp(cls / "intel-rapl:0/constraint_0_max_power_uw"), "125000000\n");
  EXPECT_FALSE(fs::exists(cls / "intel-rapl:1/constraint_0_name"));
  EXPECT_FALSE(fs::exists(cls / "intel-rapl:1/constraint_0_max_power_uw"));
  EXPECT_EQ(fs::status(cls / "intel-rapl:0/energy_uj").permissions(), fs::perms(0444));
  EXPECT_EQ(fs::status(cls / "intel-rapl:0/name").permissions(), fs::perms(0444));
  EXPECT_EQ(fs::status(root).permissions(), fs::perms(0755));
}

TEST(FakePowercapTree, RejectsMalformedZones) {
  EXPECT_THROW(FakePowercapTree({FakeZone("intel-rapl:0:0", "core")}), std::invalid_argument);
  EXPECT_THROW(FakePowercapTree({FakeZone("intel-rapl", "package-0")}), std::invalid_argument);
  EXPECT_THROW(FakePowercapTree({FakeZone("intel-rapl:G", "package-0")}), std::invalid_argument);
  EXPECT_THROW(FakePowercapTree({FakeZone("intel-rapl:0", "package-0"), FakeZone("intel-rapl:0", "dram")}),
               std::invalid_argument);
}

TEST(FakePowercapTree, DestructorRemovesTheTree) {
  fs::path root;
  {
    FakePowercapTree tree(two_socket_zones());
    tree.start(kTick);
    root = tree.sysfs_root();
    ASSERT_TRUE(fs::exists(root));
  }
  EXPECT_FALSE(fs::exists(root));
}

TEST(FakePowercapTree, CounterAdvancesAtTheSetPower) {
  constexpr double kPowerW = 40.0;
  FakePowercapTree tree({FakeZone("intel-rapl:0", "package-0", kPowerW).with_initial(1000)});
  const fs::path file = tree.class_dir() / "intel-rapl:0/energy_uj";
  const auto t0 = Clock::now();
  tree.start(kTick);
  std::this_thread::sleep_for(300ms);
  const double truth_before = tree.true_energy_j("intel-rapl:0");
  const std::uint64_t counter = read_counter(file);
  const double truth_after = tree.true_energy_j("intel-rapl:0");
  const double elapsed = seconds(Clock::now() - t0);

  const double file_j = static_cast<double>(counter - 1000) * 1e-6;
  // The file lags the model by at most one tick (plus scheduling), never leads it.
  const double tick_s = seconds(kTick);
  EXPECT_LE(file_j, truth_after + 1e-6);
  EXPECT_GE(file_j, truth_before - kPowerW * (tick_s + kSchedulingSlackS));
  // And the model integrates P over the wall time since start().
  EXPECT_LE(truth_after, kPowerW * elapsed);
  EXPECT_NEAR(truth_after, kPowerW * elapsed, kPowerW * kSchedulingSlackS);

  tree.stop();
  const double frozen = tree.true_energy_j("intel-rapl:0");
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(tree.true_energy_j("intel-rapl:0"), frozen);
  EXPECT_EQ(read_counter(file), tree.counter_uj("intel-rapl:0"));
  EXPECT_EQ(tree.counter_uj("intel-rapl:0"), 1000 + static_cast<std::uint64_t>(std::llround(frozen * 1e6)));
}

TEST(FakePowercapTree, PowerChangesIntegratePiecewise) {
  FakePowercapTree tree({FakeZone("intel-rapl:0", "package-0", 10.0)});
  const auto t0 = Clock::now();
  tree.start(kTick);
  std::this_thread::sleep_for(200ms);
  const auto t1a = Clock::now();
  tree.set_power("intel-rapl:0", 30.0);
  const auto t1b = Clock::now();
  std::this_thread::sleep_for(200ms);
  tree.stop();
  const auto t2 = Clock::now();
  const double e = tree.true_energy_j("intel-rapl:0");
  // Bracket with the instants around start/stop/set_power.
  EXPECT_GE(e, 10.0 * seconds(t1a - t0) + 30.0 * seconds(t2 - t1b) - 30.0 * kSchedulingSlackS);
  EXPECT_LE(e, 10.0 * seconds(t1b - t0) + 30.0 * seconds(t2 - t1a));
}

TEST(FakePowercapTree, WrapsAtTheRange) {
  // 1 J: wraps every 250 ms at 4 W, slow enough for a reader on a loaded 2-CPU machine to see each one.
  constexpr std::uint64_t kRange = 1'000'000;
  constexpr std::uint64_t kInitial = 900'000;
  FakePowercapTree tree(
      {FakeZone("intel-rapl:0", "package-0", 4.0).with_range(kRange).with_initial(kInitial)});
  const fs::path file = tree.class_dir() / "intel-rapl:0/energy_uj";
  tree.start(kTick);
  std::uint64_t prev = read_counter(file);
  int decreases = 0;
  const auto end = Clock::now() + 1200ms;
  while (Clock::now() < end) {
    const std::uint64_t v = read_counter(file);
    EXPECT_LE(v, kRange);
    if (v < prev) ++decreases;
    prev = v;
    std::this_thread::sleep_for(1ms);
  }
  tree.stop();
  const double e = tree.true_energy_j("intel-rapl:0");
  const auto total = kInitial + static_cast<std::uint64_t>(std::llround(e * 1e6));
  EXPECT_EQ(tree.wraps("intel-rapl:0"), total / (kRange + 1));
  EXPECT_EQ(tree.counter_uj("intel-rapl:0"), total % (kRange + 1));
  EXPECT_GE(tree.wraps("intel-rapl:0"), 5u);  // 0.9 J + 4 W × 1.2 s = 5.7 J
  // Every wrap is seen by a reader polling far faster than the 250 ms wrap period. A read racing a write of
  // a regular file may rarely see mixed digits (a step back the kernel's file never shows): allow one.
  EXPECT_GE(static_cast<std::uint64_t>(decreases), tree.wraps("intel-rapl:0"));
  EXPECT_LE(static_cast<std::uint64_t>(decreases), tree.wraps("intel-rapl:0") + 1);
}

TEST(FakePowercapTree, UpdatesInPlaceAndReadersAlwaysSeeANumber) {
  // 20 W = 20'000 µJ per ms: the text grows through every length from 2 to 8 bytes, then shrinks at each
  // wrap (every 100 ms).
  FakePowercapTree tree(
      {FakeZone("intel-rapl:0", "package-0", 20.0).with_range(1'999'999).with_initial(1'990'000)});
  const fs::path file = tree.class_dir() / "intel-rapl:0/energy_uj";
  struct stat before {};
  ASSERT_EQ(::stat(file.c_str(), &before), 0);
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  tree.start(1ms);
  int reads = 0;
  int torn = 0;
  int changes = 0;
  std::string last;
  std::optional<std::uint64_t> prev;
  const auto end = Clock::now() + 1200ms;
  while (Clock::now() < end) {
    std::array<char, 64> buf{};
    const auto n = ::pread(fd, buf.data(), buf.size(), 0);
    ASSERT_GT(n, 0);
    const std::string text(buf.data(), static_cast<std::size_t>(n));
    // The first line is a whole number, never a prefix of one. A read that races a write of a regular file
    // (unlike the kernel's sysfs file) can rarely catch the text mid-update: count those, they must stay
    // rare.
    const auto nl = text.find('\n');
    if (nl == std::string::npos) {
      ++torn;
      continue;
    }
    const auto v = parse_counter(text.substr(0, nl + 1));
    ASSERT_TRUE(v) << text;
    ASSERT_LE(*v, 1'999'999u);
    // Successive values grow, except at a wrap. A read of the first digits only of a longer new value would
    // show as a drop by ~90% from below 1'000'000 (e.g. 99'980 -> 10'002 for 100'020). Page-cache reads are
    // not atomic against pwrite, so a read racing a write may mix the digits of two successive values (a rare
    // small step back, e.g. 854'389 -> 854'323); that is tolerated as long as it stays above half.
    if (prev && *v < *prev && !(*prev >= 1'000'000u && *v < 1'000'000u)) {
      ASSERT_GE(*v, *prev / 2) << *prev << " -> " << *v;
    }
    prev = v;
    if (text != last) ++changes;
    last = text;
    ++reads;
  }
  tree.stop();
  ::close(fd);
  EXPECT_GT(reads, 100);
  EXPECT_LE(torn, reads / 100 + 1);
  EXPECT_GT(changes, 10);  // the open descriptor sees the new values
  EXPECT_GE(tree.wraps("intel-rapl:0"), 2u);
  struct stat after {};
  ASSERT_EQ(::stat(file.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);
  EXPECT_EQ(after.st_dev, before.st_dev);
  EXPECT_EQ(slurp(file), std::to_string(tree.counter_uj("intel-rapl:0")) + "\n");
}

TEST(FakePowercapTree, VanishAndComeBack) {
  FakePowercapTree tree({FakeZone("intel-rapl:0", "package-0", 10.0)});
  const fs::path file = tree.zone_path("intel-rapl:0") / "energy_uj";
  tree.start(kTick);
  tree.vanish("intel-rapl:0", 0ms, 100ms);
  EXPECT_FALSE(fs::exists(file));
  EXPECT_TRUE(fs::exists(tree.zone_path("intel-rapl:0") / "name"));
  std::this_thread::sleep_for(200ms);
  ASSERT_TRUE(fs::exists(file));
  // The hardware kept counting while the file was gone.
  EXPECT_GE(static_cast<double>(read_counter(file)) * 1e-6, 10.0 * 0.2 - 10.0 * (seconds(kTick) + 0.05));
  tree.vanish("intel-rapl:0");
  EXPECT_FALSE(fs::exists(file));
  tree.clear_faults("intel-rapl:0");
  EXPECT_TRUE(fs::exists(file));
}

TEST(FakePowercapTree, GarbageThenNumbersAgain) {
  FakePowercapTree tree({FakeZone("intel-rapl:0", "package-0", 10.0).with_initial(123456789)});
  const fs::path file = tree.zone_path("intel-rapl:0") / "energy_uj";
  tree.start(kTick);
  tree.write_garbage("intel-rapl:0", 0ms, 100ms);
  EXPECT_EQ(slurp(file), "abc\n");
  std::this_thread::sleep_for(200ms);
  EXPECT_GT(read_counter(file), 123456789u + 1'000'000u);  // ≥ 1 J later
}

TEST(FakePowercapTree, JumpBackwardsIsNotAWrapAndKeepsTruth) {
  FakePowercapTree tree({FakeZone("intel-rapl:0", "package-0", 10.0).with_initial(5'000'000'000)});
  tree.start(kTick);
  std::this_thread::sleep_for(20ms);
  const std::uint64_t before = tree.counter_uj("intel-rapl:0");
  tree.jump_backwards("intel-rapl:0", 2'000'000'000);
  const std::uint64_t after = tree.counter_uj("intel-rapl:0");
  EXPECT_LT(after, before);
  EXPECT_NEAR(static_cast<double>(before - after), 2e9, 10.0 * 1e6 * (seconds(kTick) + 0.05));
  EXPECT_EQ(tree.wraps("intel-rapl:0"), 0u);
  const double truth = tree.true_energy_j("intel-rapl:0");
  EXPECT_LT(truth, 1.0);  // the drop did not change the model's energy
}

TEST(FakePowercapTree, ChmodEnergyFile) {
  FakePowercapTree tree({FakeZone("intel-rapl:0", "package-0", 10.0).with_mode(0400)});
  const fs::path file = tree.zone_path("intel-rapl:0") / "energy_uj";
  EXPECT_EQ(fs::status(file).permissions(), fs::perms(0400));
  tree.start(kTick);
  tree.set_energy_mode("intel-rapl:0", 0444);
  EXPECT_EQ(fs::status(file).permissions(), fs::perms(0444));
  tree.set_energy_mode("intel-rapl:0", 0400);
  tree.vanish("intel-rapl:0", 0ms, 20ms);
  std::this_thread::sleep_for(60ms);
  ASSERT_TRUE(fs::exists(file));
  EXPECT_EQ(fs::status(file).permissions(), fs::perms(0400));  // a recreated file keeps the mode
}

}  // namespace
}  // namespace wattprint::testing
