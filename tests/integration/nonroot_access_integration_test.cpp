// `wattprint sensors` run as user nobody on a fake tree with root-only energy_uj and a fake perf power PMU:
// the section "Reading CPU energy without root" names the denied direct read, the perf state and the
// remedies.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fakes/fake_powercap.hpp"
#include "integration/harness.hpp"

namespace wattprint::testing {
namespace {

namespace fs = std::filesystem;

constexpr uid_t kNobody = 65534;
constexpr gid_t kNogroup = 65534;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

/// The output line that starts (after the indent) with `name`, or "" when none.
std::string row(const std::string& text, const std::string& name) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("  " + name + " ", 0) == 0) return line;
  }
  return "";
}

/// The text of the section, from its title to the end of the output.
std::string section(const std::string& out) {
  const auto at = out.find("Reading CPU energy without root");
  return at == std::string::npos ? std::string() : out.substr(at);
}

TEST(NonRootAccess, SensorsAsNobodyNamesTheDeniedReadAndTheRemedies) {
  const auto bin = wattprint_bin_from_env();
  if (!bin) GTEST_SKIP() << "WATTPRINT_BIN is not set";
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run the binary as nobody against a root-only tree";
  FakePowercapTree tree({FakeZone("intel-rapl:0", "package-0", 10.0).with_mode(0400),
                         FakeZone("intel-rapl:0:0", "dram", 2.0).with_mode(0400)});
  // A power PMU whose type no kernel has: perf_event_open fails whatever the host allows.
  const fs::path pmu = tree.sysfs_root() / "bus/event_source/devices/power";
  write_text_file(pmu / "type", "40000\n");
  write_text_file(pmu / "cpumask", "0\n");
  write_text_file(pmu / "events/energy-pkg", "event=0x02\n");
  write_text_file(pmu / "events/energy-pkg.scale", "2.3283064365386962890625e-10\n");
  write_text_file(pmu / "events/energy-pkg.unit", "Joules\n");

  TempDir bin_dir("wattprint-bin");
  fs::permissions(bin_dir.path(), fs::perms(0755));
  const fs::path bin_copy = bin_dir.path() / "wattprint";
  fs::copy_file(*bin, bin_copy);
  fs::permissions(bin_copy, fs::perms(0755));
  TempDir home("wattprint-home");
  home.chown_to(kNobody, kNogroup);
  SpawnOptions o;
  o.args = {"sensors", "--sysfs-root", tree.sysfs_root().string()};
  o.home = home.path();
  o.uid = kNobody;
  o.gid = kNogroup;
  const ProcessResult r = run_process(bin_copy, o);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_FALSE(contains(r.out, "not read by this version")) << r.out;

  const std::string text = section(r.out);
  ASSERT_FALSE(text.empty()) << "no section in:\n" << r.out;
  const std::string direct = row(text, "powercap");
  EXPECT_TRUE(contains(direct, "denied")) << text;
  EXPECT_TRUE(contains(direct, "intel-rapl:0") && contains(direct, "mode 0400")) << text;
  EXPECT_TRUE(contains(direct, "its group cannot read it")) << text;
  EXPECT_TRUE(contains(text, "sudo chmod a+r /sys/class/powercap/intel-rapl:*/energy_uj")) << text;

  const std::string perf = row(text, "perf");
  ASSERT_FALSE(perf.empty()) << text;
  EXPECT_FALSE(contains(perf, " ok ")) << text;
  EXPECT_TRUE(contains(perf, "PMU present")) << text;
  EXPECT_TRUE(contains(perf, "CAP_PERFMON in the effective set: no")) << text;
  std::ifstream paranoid_file("/proc/sys/kernel/perf_event_paranoid");
  int paranoid = 0;
  if (paranoid_file >> paranoid) {
    EXPECT_TRUE(contains(perf, "kernel.perf_event_paranoid " + std::to_string(paranoid))) << text;
  }

  const std::string rules = row(text, "rules");
  ASSERT_FALSE(rules.empty()) << text;
  if (!fs::exists("/etc/udev/rules.d/70-wattprint-powercap.rules") &&
      !fs::exists("/etc/tmpfiles.d/wattprint-powercap.conf")) {
    EXPECT_TRUE(contains(rules, "not installed")) << text;
    EXPECT_TRUE(
        contains(text, "sudo install -m 0644 packaging/70-wattprint-powercap.rules /etc/udev/rules.d/"))
        << text;
    EXPECT_TRUE(contains(text, "sudo groupadd -f wattprint")) << text;
  }
  // The main table lists the perf counter itself, refused.
  EXPECT_TRUE(contains(r.out, "perf.package-0")) << r.out;
}

}  // namespace
}  // namespace wattprint::testing
