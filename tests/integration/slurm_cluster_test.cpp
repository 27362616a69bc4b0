// `srun wattprint run` on a real one-node Slurm cluster (slurmctld, slurmd, munge from Debian, started by
// tests/cluster/slurm_cluster.sh in a directory of the test's own), over a live fake RAPL tree.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fakes/fake_powercap.hpp"
#include "fakes/require_simulators.hpp"
#include "integration/harness.hpp"

namespace wattprint::testing {
namespace {

namespace fs = std::filesystem;

bool on_path(const std::string& tool) {
  for (const char* dir : {"/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
    if (::access((fs::path(dir) / tool).c_str(), X_OK) == 0) return true;
  }
  return false;
}

std::string short_hostname() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  std::string host = name;
  return host.substr(0, host.find('.'));
}

/// The cluster, started once for all the tests of this file.
class SlurmCluster : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string why_not;
    if (::geteuid() != 0) why_not = "a Slurm cluster needs root (slurmd starts jobs as their users)";
    for (const char* tool : {"munged", "slurmctld", "slurmd", "srun", "sinfo"}) {
      if (why_not.empty() && !on_path(tool))
        why_not = std::string(tool) + " is not installed (slurm-wlm, munge)";
    }
    if (why_not.empty() && !wattprint_bin_from_env()) why_not = "WATTPRINT_BIN is not set";
    if (!why_not.empty()) {
      skip_reason_ = new std::string(why_not);
      return;
    }
    dir_ = new TempDir("wattprint-slurm");
    SpawnOptions options;
    options.args = {"start", (dir_->path() / "cluster").string()};
    options.home = dir_->path();
    options.timeout = std::chrono::seconds(90);
    const ProcessResult started =
        run_process(fs::path(WATTPRINT_SOURCE_DIR) / "tests/cluster/slurm_cluster.sh", options);
    if (started.exit_code != 0) {
      start_error_ = new std::string("slurm_cluster.sh start failed: " + started.err + started.out);
    }
  }
  static void TearDownTestSuite() {
    if (dir_ != nullptr) {
      SpawnOptions options;
      options.args = {"stop", (dir_->path() / "cluster").string()};
      options.home = dir_->path();
      run_process(fs::path(WATTPRINT_SOURCE_DIR) / "tests/cluster/slurm_cluster.sh", options);
    }
    delete dir_;
    delete skip_reason_;
    delete start_error_;
    dir_ = nullptr;
    skip_reason_ = nullptr;
    start_error_ = nullptr;
  }
  void SetUp() override {
    if (skip_reason_ != nullptr) {
      if (required_by_environment()) FAIL() << "WATTPRINT_REQUIRE_SIMULATORS is set but " << *skip_reason_;
      GTEST_SKIP() << *skip_reason_;
    }
    ASSERT_EQ(start_error_, nullptr) << *start_error_;
  }

  /// Runs srun with `args` in the cluster; the tasks get wattprint's environment (PATH, HOME, SLURM_CONF).
  static ProcessResult srun(const std::vector<std::string>& args, const fs::path& cwd) {
    SpawnOptions options;
    options.args = args;
    options.home = dir_->path();
    options.cwd = cwd;
    options.extra_env = {"SLURM_CONF=" + (dir_->path() / "cluster/slurm.conf").string()};
    options.timeout = std::chrono::seconds(100);
    return run_process("/usr/bin/srun", options);
  }

  static inline TempDir* dir_ = nullptr;
  static inline std::string* skip_reason_ = nullptr;
  static inline std::string* start_error_ = nullptr;
};

// Each rank burns a fixed amount of CPU time (not wall time), so the sum is known whatever the load.
constexpr double kCpuPerRankS = 0.6;
const std::string kBurn =
    "import time, os\n"
    "t = time.process_time()\n"
    "while time.process_time() - t < " +
    std::to_string(kCpuPerRankS) +
    ":\n"
    "    pass\n"
    "raise SystemExit(3 if os.environ['SLURM_PROCID'] == '1' else 0)\n";

TEST_F(SlurmCluster, ThreeRanksOnOneNodeGiveOneReportThatCoversThemAll) {
  FakePowercapTree rapl({FakeZone("intel-rapl:0", "package-0", 40.0)});
  rapl.start();
  TempDir out("wattprint-slurm-out");
  const fs::path bin = *wattprint_bin_from_env();
  const ProcessResult result =
      srun({"--overcommit", "-n", "3", "-J", "wattprint-test", bin.string(), "run", "--sysfs-root",
            rapl.sysfs_root().string(), "--no-store", "--interval", "0.2", "--json",
            (out.path() / "report-%h.json").string(), "--", "/usr/bin/python3", "-c", kBurn},
           out.path());
  rapl.stop();
  EXPECT_EQ(result.exit_code, 3) << "srun gives the highest task status (rank 1 exits 3)\n" << result.err;

  std::vector<fs::path> reports;
  for (const auto& entry : fs::directory_iterator(out.path())) reports.push_back(entry.path());
  ASSERT_EQ(reports.size(), 1U) << "one measurer on the node, one report\n" << result.err;
  EXPECT_EQ(reports[0].filename(), "report-" + short_hostname() + ".json");

  const nlohmann::json report = read_json(reports[0]);
  ASSERT_TRUE(report.contains("job")) << report.dump(2);
  const nlohmann::json& job = report["job"];
  EXPECT_EQ(job.value("scheduler", ""), "slurm");
  EXPECT_FALSE(job.value("job_id", "").empty());
  EXPECT_EQ(job.value("step_id", ""), "0");
  EXPECT_EQ(job.value("name", ""), "wattprint-test");
  EXPECT_EQ(job.value("task_count", 0), 3);
  EXPECT_EQ(job["nodes"], nlohmann::json::array({short_hostname()}));
  // The measurer followed every rank on the node: more CPU time than one rank can have used.
  const double cpu_s = report.value("cpu_time_s", 0.0);
  EXPECT_GT(cpu_s, 2.5 * kCpuPerRankS) << "CPU time of the three ranks, not of the measurer's alone";
  EXPECT_LT(cpu_s, 3 * kCpuPerRankS + 2.0);
  // The package counter was read (measured) for the node.
  const nlohmann::json& process = report["methods"]["process"];
  EXPECT_TRUE(process.value("available", false)) << process.dump(2);
  EXPECT_EQ(process.value("kind", ""), "measured");

  // `wattprint merge` of the node reports gives the job's report.
  SpawnOptions merge;
  merge.args = {"merge", reports[0].string(), "--json", (out.path() / "job.json").string()};
  merge.home = out.path();
  const ProcessResult merged = run_process(bin, merge);
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  const nlohmann::json job_report = read_json(out.path() / "job.json");
  EXPECT_EQ(job_report.value("kind", ""), "merged");
  ASSERT_EQ(job_report["nodes"].size(), 1U);
}

TEST_F(SlurmCluster, EveryRankMeasuresWhenAskedTo) {
  FakePowercapTree rapl({FakeZone("intel-rapl:0", "package-0", 40.0)});
  rapl.start();
  TempDir out("wattprint-slurm-out");
  const fs::path bin = *wattprint_bin_from_env();
  const ProcessResult result =
      srun({"--overcommit", "-n", "2", bin.string(), "run", "--sysfs-root", rapl.sysfs_root().string(),
            "--no-store", "--one-per-node", "off", "--json", (out.path() / "report-%h-%t.json").string(),
            "--", "/bin/true"},
           out.path());
  rapl.stop();
  EXPECT_EQ(result.exit_code, 0) << result.err;
  for (const std::string rank : {"0", "1"}) {
    const fs::path report = out.path() / ("report-" + short_hostname() + "-" + rank + ".json");
    ASSERT_TRUE(fs::exists(report)) << report << "\n" << result.err;
    EXPECT_EQ(read_json(report)["job"].value("task_rank", -1), std::stoi(rank));
  }
}

}  // namespace
}  // namespace wattprint::testing
