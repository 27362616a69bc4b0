// The command's process tree as `wattprint run` accounts it: children that exit during the run, orphans
// re-parented to wattprint (a child subreaper), and peak memory. Ground truth: workloads that burn an exact
// amount of CPU time (Python's process_time) or hold an exact amount of memory.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "integration/harness.hpp"

namespace wattprint::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Burns exactly `seconds` of CPU time (user + system) in one process, then exits.
std::string burn(double seconds) {
  return "python3 -c 'import time\nwhile time.process_time() < " + std::to_string(seconds) + ": pass'";
}

class ProcessTree : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto bin = wattprint_bin_from_env();
    if (!bin) GTEST_SKIP() << "WATTPRINT_BIN is not set: point it at the wattprint executable";
    bin_ = *bin;
  }

  json run(const std::vector<std::string>& options, const std::string& shell_command) {
    SpawnOptions o;
    o.args = {"run", "--sysfs-root", home_.path().string(), "--json", (home_.path() / "r.json").string()};
    o.args.insert(o.args.end(), options.begin(), options.end());
    o.args.insert(o.args.end(), {"--", "sh", "-c", shell_command});
    o.home = home_.path();
    const ProcessResult result = run_process(bin_, o);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return read_json(home_.path() / "r.json");
  }

  fs::path bin_;
  TempDir home_{"wattprint-tree"};
};

// A long interval: no sample is taken while the children live, so their time must come from the
// accounting of exited processes (the parent's cutime, wattprint's wait4), not from live samples.
TEST_F(ProcessTree, ChildrenThatExitDuringTheRunKeepTheirCpuTime) {
  const json report = run({"--interval", "30"}, burn(0.6) + " & " + burn(0.6) + " & wait");
  const double cpu = report.at("cpu_time_s").get<double>();
  EXPECT_GE(cpu, 1.2 - 0.02);  // two children of 0.6 s each; one tick (10 ms) of rounding each
  EXPECT_LE(cpu, 1.2 + 0.5);   // plus the shell and the interpreters' start-up
}

TEST_F(ProcessTree, OrphansStayInTheTree) {
  // The subshell starts the burner in the background and exits at once: the burner is orphaned and, with
  // wattprint a child subreaper, re-parented to wattprint rather than to init. The command outlives it.
  const json report = run({"--interval", "30"}, "(" + burn(0.8) + " &); sleep 2.5");
  const double cpu = report.at("cpu_time_s").get<double>();
  EXPECT_GE(cpu, 0.8 - 0.02);
  EXPECT_LE(cpu, 0.8 + 0.5);
}

TEST_F(ProcessTree, PeakMemoryOfTheTreeFeedsTheEstimate) {
  const json report = run({"--interval", "0.1"},
                          "python3 -c 'import time\nx = bytearray(200 * 1024 * 1024)\ntime.sleep(1.0)'");
  const double peak = report.at("peak_memory_bytes").get<double>();
  EXPECT_GE(peak, 200.0 * 1024 * 1024);
  EXPECT_LE(peak, 300.0 * 1024 * 1024);
  // estimate: memory GB (2^30 bytes) × 0.3725 W/GB × duration
  const double expected = peak / (1024.0 * 1024 * 1024) * 0.3725 * report.at("duration_s").get<double>();
  EXPECT_NEAR(report.at("/methods/estimate/components/memory_j"_json_pointer).get<double>(), expected,
              expected * 1e-9);
}

TEST_F(ProcessTree, MemoryGbFlagReplacesThePeakInTheEstimate) {
  const json report = run({"--memory-gb", "24", "--interval", "0.5"}, "sleep 0.5");
  const double expected = 24 * 0.3725 * report.at("duration_s").get<double>();
  EXPECT_NEAR(report.at("/methods/estimate/components/memory_j"_json_pointer).get<double>(), expected,
              expected * 1e-9);
}

}  // namespace
}  // namespace wattprint::testing
