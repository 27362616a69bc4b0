// The perf power PMU source on a fake sysfs tree and a fake perf_event_open: events, scales, cpumask,
// counts to joules, errnos to statuses and remedies; the powercap → perf fallback; the no-root access rows.
#include "sources/perf/perf_power_source.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sources/perf/cpu_energy_access.hpp"
#include "test_dir.hpp"

namespace wattprint {
namespace {

namespace fs = std::filesystem;

constexpr const char* kScale = "2.3283064365386962890625e-10\n";  // 2^-32 J, as the kernel writes it
constexpr std::uint64_t kCountsPerJoule = 1ULL << 32U;

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

/// perf_event_open answered from a table: (config, cpu) -> descriptor or -errno; counts per descriptor.
class FakeSyscalls final : public PerfEventSyscalls {
 public:
  int open_counter(std::uint32_t type, std::uint64_t config, int cpu) noexcept override {
    opened.push_back({type, config, cpu});
    if (open_error != 0) return -open_error;
    const int fd = next_fd++;
    descriptors[{config, cpu}] = fd;
    return fd;
  }
  int read_count(int fd, std::uint64_t& count) noexcept override {
    if (read_error != 0) return read_error;
    count = counts[fd];
    return 0;
  }
  void close_counter(int fd) noexcept override { closed.push_back(fd); }

  struct Open {
    std::uint32_t type;
    std::uint64_t config;
    int cpu;
  };
  int open_error = 0;
  int read_error = 0;
  int next_fd = 10;
  std::vector<Open> opened;
  std::vector<int> closed;
  std::map<std::pair<std::uint64_t, int>, int> descriptors;
  std::map<int, std::uint64_t> counts;
};

class PerfPowerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    write(pmu() / "type", "23\n");
    write(pmu() / "cpumask", "0,36\n");
    event("energy-pkg", "event=0x02");
    event("energy-ram", "event=0x03");
    write(proc() / "sys/kernel/perf_event_paranoid", "2\n");
    write(proc() / "self/status", "Name:\twattprint\nGid:\t0\t0\t0\t0\nCapEff:\t0000004000000000\n");
  }
  [[nodiscard]] fs::path sys() const { return dir_.path() / "sys"; }
  [[nodiscard]] fs::path proc() const { return dir_.path() / "proc"; }
  [[nodiscard]] fs::path pmu() const { return sys() / "bus/event_source/devices/power"; }
  void event(const std::string& name, const std::string& description, const char* scale = kScale,
             const char* unit = "Joules\n") {
    write(pmu() / "events" / name, description + "\n");
    const fs::path scale_path = pmu() / "events" / (name + ".scale");
    const fs::path unit_path = pmu() / "events" / (name + ".unit");
    scale != nullptr ? write(scale_path, scale) : static_cast<void>(fs::remove(scale_path));
    unit != nullptr ? write(unit_path, unit) : static_cast<void>(fs::remove(unit_path));
  }
  [[nodiscard]] PerfPowerOptions options() const { return {sys(), proc()}; }

  testing::TestDir dir_;
  FakeSyscalls fake_;
};

const SensorStatus* status_of(const EnergyCounterSource& source, const std::string& name) {
  for (const SensorStatus& status : source.statuses()) {
    if (status.name == name) return &status;
  }
  return nullptr;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(PerfPowerParsing, CpuListsAndEventConfigs) {
  EXPECT_EQ(parse_cpu_list("0,36\n"), (std::vector<int>{0, 36}));
  EXPECT_EQ(parse_cpu_list("0-2,8"), (std::vector<int>{0, 1, 2, 8}));
  EXPECT_TRUE(parse_cpu_list("").empty());
  EXPECT_TRUE(parse_cpu_list("3-1").empty());
  EXPECT_TRUE(parse_cpu_list("0,x").empty());
  EXPECT_EQ(parse_perf_event_config("event=0x02\n"), 2U);
  EXPECT_EQ(parse_perf_event_config("event=5"), 5U);
  EXPECT_EQ(parse_perf_event_config("event=0x100"), std::nullopt);
  EXPECT_EQ(parse_perf_event_config("umask=0x01"), std::nullopt);
  EXPECT_EQ(parse_perf_event_config("event=0x02,umask=0x1"), std::nullopt);
}

TEST_F(PerfPowerTest, ParanoidLevelAndCapPerfmonFromProc) {
  EXPECT_EQ(read_perf_event_paranoid(proc()), 2);
  write(proc() / "sys/kernel/perf_event_paranoid", "-1\n");
  EXPECT_EQ(read_perf_event_paranoid(proc()), -1);
  EXPECT_EQ(read_perf_event_paranoid(dir_.path() / "nowhere"), std::nullopt);
  EXPECT_EQ(has_effective_capability(proc(), kCapPerfmon), true);
  EXPECT_EQ(has_effective_capability(proc(), kCapSysAdmin), false);
  write(proc() / "self/status", "Name:\tx\nCapEff:\t0000000000200000\n");
  EXPECT_EQ(has_effective_capability(proc(), kCapPerfmon), false);
  EXPECT_EQ(has_effective_capability(proc(), kCapSysAdmin), true);
  write(proc() / "self/status", "Name:\tx\n");
  EXPECT_EQ(has_effective_capability(proc(), kCapPerfmon), std::nullopt);
}

TEST_F(PerfPowerTest, TwoPackagesCountInExactJoules) {
  PerfPowerSource source(options(), fake_);
  ASSERT_TRUE(source.pmu_present());
  ASSERT_EQ(source.sensors().size(), 4U);
  const std::vector<std::string> names{"perf.package-0", "perf.package-1", "perf.package-0.dram",
                                       "perf.package-1.dram"};
  for (std::size_t i = 0; i < names.size(); ++i) {
    const SensorInfo& info = source.sensors()[i];
    EXPECT_EQ(info.name, names[i]);
    EXPECT_EQ(info.family, "perf");
    EXPECT_EQ(info.component, i < 2 ? Component::CpuPackage : Component::Dram);
    EXPECT_EQ(info.counter_max, std::numeric_limits<std::uint64_t>::max());
    EXPECT_EQ(info.joules_per_raw_unit, std::ldexp(1.0, -32));
    EXPECT_TRUE(contains(info.origin, "perf power PMU (CAP_PERFMON)")) << info.origin;
  }
  ASSERT_EQ(fake_.opened.size(), 4U);
  EXPECT_EQ(fake_.opened[0].type, 23U);
  EXPECT_EQ(fake_.opened[0].config, 2U);
  EXPECT_EQ(fake_.opened[0].cpu, 0);
  EXPECT_EQ(fake_.opened[1].cpu, 36);
  EXPECT_EQ(fake_.opened[2].config, 3U);
  EXPECT_TRUE(contains(source.sensors()[1].origin, "power/energy-pkg on CPU 36"))
      << source.sensors()[1].origin;

  fake_.counts[fake_.descriptors[{2, 0}]] = 10 * kCountsPerJoule;
  fake_.counts[fake_.descriptors[{2, 36}]] = 25 * kCountsPerJoule + kCountsPerJoule / 2;
  fake_.counts[fake_.descriptors[{3, 0}]] = 3 * kCountsPerJoule;
  std::vector<std::uint64_t> raw(4);
  std::vector<int> errors(4, -1);
  source.read(raw, errors);
  EXPECT_EQ(errors, (std::vector<int>{0, 0, 0, 0}));
  EXPECT_EQ(static_cast<double>(raw[0]) * source.sensors()[0].joules_per_raw_unit, 10.0);
  EXPECT_EQ(static_cast<double>(raw[1]) * source.sensors()[1].joules_per_raw_unit, 25.5);
  EXPECT_EQ(static_cast<double>(raw[2]) * source.sensors()[2].joules_per_raw_unit, 3.0);
  EXPECT_EQ(raw[3], 0U);

  fake_.read_error = EIO;
  source.read(raw, errors);
  EXPECT_EQ(errors, (std::vector<int>{EIO, EIO, EIO, EIO}));
}

TEST_F(PerfPowerTest, ClosesItsDescriptors) {
  { const PerfPowerSource source(options(), fake_); }
  EXPECT_EQ(fake_.closed.size(), 4U);
}

TEST_F(PerfPowerTest, DeniedIsUnreadableWithParanoidLevelAndRemedy) {
  write(proc() / "sys/kernel/perf_event_paranoid", "3\n");
  for (const int error : {EACCES, EPERM}) {
    fake_.open_error = error;
    const PerfPowerSource source(options(), fake_);
    EXPECT_TRUE(source.sensors().empty());
    EXPECT_FALSE(has_package_counter(source));
    const SensorStatus* status = status_of(source, "perf.package-1");
    ASSERT_NE(status, nullptr);
    EXPECT_EQ(status->state, SensorStatus::State::Unreadable);
    EXPECT_TRUE(contains(status->reason, error == EACCES ? "EACCES" : "EPERM")) << status->reason;
    EXPECT_TRUE(contains(status->reason, "perf_event_paranoid is 3")) << status->reason;
    EXPECT_TRUE(contains(status->reason, "Debian")) << status->reason;
    EXPECT_TRUE(contains(status->remedy, "sudo setcap cap_perfmon=ep $(command -v wattprint)"))
        << status->remedy;
    EXPECT_TRUE(contains(status->remedy, "sysctl kernel.perf_event_paranoid=0")) << status->remedy;
    EXPECT_TRUE(contains(status->remedy, "side channel")) << status->remedy;
  }
}

TEST_F(PerfPowerTest, UnsupportedEventIsAnError) {
  for (const int error : {ENOENT, EINVAL}) {
    fake_.open_error = error;
    const PerfPowerSource source(options(), fake_);
    const SensorStatus* status = status_of(source, "perf.package-0.dram");
    ASSERT_NE(status, nullptr);
    EXPECT_EQ(status->state, SensorStatus::State::Error);
    EXPECT_TRUE(contains(status->reason, "does not count this event on CPU 0")) << status->reason;
  }
}

TEST_F(PerfPowerTest, FailedFirstReadClosesAndIsAnError) {
  fake_.read_error = ENODEV;
  const PerfPowerSource source(options(), fake_);
  EXPECT_TRUE(source.sensors().empty());
  EXPECT_EQ(fake_.closed.size(), 4U);
  EXPECT_EQ(status_of(source, "perf.package-0")->state, SensorStatus::State::Error);
}

TEST_F(PerfPowerTest, EventWithoutScaleOrInOtherUnitsIsRefused) {
  event("energy-pkg", "event=0x02", nullptr);
  event("energy-ram", "event=0x03", kScale, "Watts\n");
  event("energy-psys", "event=0x05");
  const PerfPowerSource source(options(), fake_);
  const SensorStatus* pkg = status_of(source, "perf.package-1");
  ASSERT_NE(pkg, nullptr);
  EXPECT_EQ(pkg->state, SensorStatus::State::Error);
  EXPECT_TRUE(contains(pkg->reason, "energy-pkg.scale is missing")) << pkg->reason;
  const SensorStatus* ram = status_of(source, "perf.package-0.dram");
  ASSERT_NE(ram, nullptr);
  EXPECT_EQ(ram->state, SensorStatus::State::Error);
  EXPECT_TRUE(contains(ram->reason, "'Watts', not Joules")) << ram->reason;
  // Only psys, on the first CPU of the mask, was opened.
  ASSERT_EQ(fake_.opened.size(), 1U);
  EXPECT_EQ(fake_.opened[0].config, 5U);
  ASSERT_EQ(source.sensors().size(), 1U);
  EXPECT_EQ(source.sensors()[0].name, "perf.psys");
  EXPECT_EQ(source.sensors()[0].component, Component::Psys);
}

TEST_F(PerfPowerTest, NoPmuIsAbsent) {
  fs::remove_all(pmu());
  const PerfPowerSource source(options(), fake_);
  EXPECT_FALSE(source.pmu_present());
  ASSERT_EQ(source.statuses().size(), 1U);
  EXPECT_EQ(source.statuses()[0].name, "perf");
  EXPECT_EQ(source.statuses()[0].state, SensorStatus::State::Absent);
  EXPECT_TRUE(fake_.opened.empty());
}

TEST_F(PerfPowerTest, MalformedCpumaskIsAnError) {
  write(pmu() / "cpumask", "zero\n");
  const PerfPowerSource source(options(), fake_);
  EXPECT_EQ(source.statuses().at(0).state, SensorStatus::State::Error);
  EXPECT_TRUE(contains(source.statuses()[0].reason, "cpumask")) << source.statuses()[0].reason;
}

/// A powercap stand-in: one package counter, readable or not.
class StubPowercap final : public EnergyCounterSource {
 public:
  explicit StubPowercap(bool readable,
                        const std::string& path = "/sys/class/powercap/intel-rapl:0/energy_uj") {
    if (readable) {
      sensors_.push_back(SensorInfo{"rapl.package-0", "rapl", Component::CpuPackage, path, 1000, 1e-6, {}});
      statuses_.push_back({"rapl.package-0", SensorStatus::State::Ok, path, "", ""});
    } else {
      statuses_.push_back({"rapl.package-0", SensorStatus::State::Unreadable, path, "root only", "be root"});
    }
  }
  [[nodiscard]] const std::vector<SensorStatus>& statuses() const override { return statuses_; }
  [[nodiscard]] const std::vector<SensorInfo>& sensors() const override { return sensors_; }
  void read(std::vector<std::uint64_t>& /*raw*/, std::vector<int>& /*errors*/) noexcept override {}

 private:
  std::vector<SensorStatus> statuses_;
  std::vector<SensorInfo> sensors_;
};

TEST_F(PerfPowerTest, FallbackKeepsReadablePowercapWithoutOpeningPerf) {
  std::vector<SensorStatus> statuses;
  const auto chosen =
      fall_back_to_perf_power(std::make_unique<StubPowercap>(true), options(), fake_, statuses);
  EXPECT_EQ(chosen->sensors().at(0).family, "rapl");
  EXPECT_TRUE(fake_.opened.empty());
  EXPECT_TRUE(statuses.empty());
}

TEST_F(PerfPowerTest, FallbackUsesPerfWhenPowercapIsUnreadable) {
  std::vector<SensorStatus> statuses;
  const auto chosen =
      fall_back_to_perf_power(std::make_unique<StubPowercap>(false), options(), fake_, statuses);
  ASSERT_EQ(chosen->sensors().size(), 4U);
  EXPECT_EQ(chosen->sensors()[0].family, "perf");
  ASSERT_EQ(statuses.size(), 4U);
  EXPECT_TRUE(contains(statuses[0].path, "perf power PMU (CAP_PERFMON)")) << statuses[0].path;
}

TEST_F(PerfPowerTest, FallbackKeepsPowercapWhenPerfIsDeniedToo) {
  fake_.open_error = EACCES;
  std::vector<SensorStatus> statuses;
  const auto chosen =
      fall_back_to_perf_power(std::make_unique<StubPowercap>(false), options(), fake_, statuses);
  EXPECT_EQ(chosen->statuses().at(0).name, "rapl.package-0");
  ASSERT_EQ(statuses.size(), 4U);
  EXPECT_EQ(statuses[0].state, SensorStatus::State::Unreadable);
}

TEST_F(PerfPowerTest, AccessRowsNameStateAndRemedy) {
  // (a) a root-only energy_uj, then one its group may read, for a process in that group.
  const fs::path energy = dir_.path() / "energy_uj";
  write(energy, "1\n");
  ASSERT_EQ(::chmod(energy.c_str(), 0400), 0);
  AccessWay direct = powercap_access(StubPowercap(false, energy.string()), proc());
  EXPECT_EQ(direct.state, "denied");
  EXPECT_TRUE(contains(direct.detail, "mode 0400")) << direct.detail;
  EXPECT_TRUE(contains(direct.detail, "its group cannot read it")) << direct.detail;
  EXPECT_TRUE(contains(direct.remedy, "sudo chmod a+r")) << direct.remedy;
  const gid_t group = 4242;
  ASSERT_EQ(::chown(energy.c_str(), static_cast<uid_t>(-1), group), 0) << "needs root";
  ASSERT_EQ(::chmod(energy.c_str(), 0440), 0);
  direct = powercap_access(StubPowercap(false, energy.string()), proc());
  EXPECT_TRUE(contains(direct.detail, "you are not in that group")) << direct.detail;
  EXPECT_TRUE(contains(direct.remedy, "sudo usermod -aG 4242 $USER")) << direct.remedy;
  write(proc() / "self/status", "Gid:\t1\t1\t1\t1\nGroups:\t7 4242\nCapEff:\t0\n");
  direct = powercap_access(StubPowercap(false, energy.string()), proc());
  EXPECT_TRUE(contains(direct.detail, "you are in that group")) << direct.detail;
  EXPECT_EQ(powercap_access(StubPowercap(true), proc()).state, "ok");

  // (b) perf denied at paranoid 3, without CAP_PERFMON.
  write(proc() / "sys/kernel/perf_event_paranoid", "3\n");
  fake_.open_error = EACCES;
  const AccessWay perf = perf_access(PerfPowerSource(options(), fake_), proc());
  EXPECT_EQ(perf.state, "denied");
  EXPECT_TRUE(contains(perf.detail, "kernel.perf_event_paranoid 3")) << perf.detail;
  EXPECT_TRUE(contains(perf.detail, "CAP_PERFMON in the effective set: no")) << perf.detail;
  EXPECT_TRUE(contains(perf.remedy, "setcap cap_perfmon=ep")) << perf.remedy;

  // (d) the rules: not installed, then installed.
  const AccessProbeOptions probe{sys(), proc(), dir_.path() / "udev", dir_.path() / "tmpfiles"};
  AccessWay rules = rules_access(probe);
  EXPECT_EQ(rules.state, "not installed");
  EXPECT_TRUE(contains(rules.remedy, "packaging/70-wattprint-powercap.rules")) << rules.remedy;
  EXPECT_TRUE(contains(rules.remedy, "packaging/wattprint-powercap.conf")) << rules.remedy;
  write(dir_.path() / "tmpfiles/wattprint-powercap.conf", "z ...\n");
  rules = rules_access(probe);
  EXPECT_EQ(rules.state, "installed");
  EXPECT_TRUE(contains(rules.detail, "wattprint-powercap.conf")) << rules.detail;
}

}  // namespace
}  // namespace wattprint
