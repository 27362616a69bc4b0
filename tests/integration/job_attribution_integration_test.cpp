// `wattprint run` inside a Slurm job attributes through the job's cgroup, through the real binary. Ground
// truth: a fake machine whose package draws a known power (FakePowercapTree), whose /proc/stat busy time
// and job cgroup CPU time a test thread advances at known rates from one clock, so that the job's share of
// the busy CPU time is a known constant; the command itself (`sleep`) uses almost no CPU, so attribution by
// its process tree gives almost nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cluster/cgroup.hpp"
#include "fakes/fake_cgroup_tree.hpp"
#include "fakes/fake_powercap.hpp"
#include "integration/harness.hpp"
#include "platform/text_file.hpp"

namespace wattprint::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr double kPackageW = 40.0;
constexpr double kDramW = 8.0;
constexpr double kMachineBusyCpuSPerS = 2.0;  // /proc/stat: two cores busy
constexpr double kJobCpuSPerS = 0.5;          // the job's cgroup: half a core
constexpr double kJobCpuShare = kJobCpuSPerS / kMachineBusyCpuSPerS;
constexpr std::uint64_t kMemTotalKb = 16ULL * 1024 * 1024;     // 16 GiB
constexpr std::uint64_t kMemAvailableKb = 8ULL * 1024 * 1024;  // 8 GiB used
constexpr std::uint64_t kJobMemoryBytes = 1ULL << 30;          // 1 GiB: 1/8 of the used memory
constexpr double kJobMemoryShare = 1.0 / 8.0;

/// The fake node: /proc/stat and the job's cgroup CPU time advanced every 50 ms from one clock by a thread
/// of the test (atomic writes: a new file renamed over the old one), which is also the only writer of the
/// cgroup tree once started (so removing the job's group mid-run is asked of it).
class FakeJobNode {
 public:
  FakeJobNode() {
    cgroups_.add_process(424242, job_path_, 1000);
    cgroups_.set_memory_bytes(job_path_, kJobMemoryBytes);
    write_file_atomically(proc_root() / "meminfo", "MemTotal:       " + std::to_string(kMemTotalKb) +
                                                       " kB\nMemFree:         1048576 kB\nMemAvailable:    " +
                                                       std::to_string(kMemAvailableKb) + " kB\n");
    write(0.0);
  }
  ~FakeJobNode() { stop(); }
  FakeJobNode(const FakeJobNode&) = delete;
  FakeJobNode& operator=(const FakeJobNode&) = delete;

  void start() {
    powercap_.start();
    const auto started = std::chrono::steady_clock::now();
    writer_ = std::thread([this, started] {
      while (!stopping_.load()) {
        write(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        if (remove_requested_.load() && !removed_.load()) {
          cgroups_.remove_group(job_path_);
          removed_.store(true);
        }
        std::this_thread::sleep_for(50ms);
      }
    });
  }
  void stop() {
    stopping_.store(true);
    if (writer_.joinable()) writer_.join();
    if (powercap_.running()) powercap_.stop();
  }
  /// The job's group disappears at the writer's next tick (as when the job's cgroup is torn down).
  void remove_job_group() { remove_requested_.store(true); }
  [[nodiscard]] bool job_group_removed() const { return removed_.load(); }

  [[nodiscard]] fs::path sysfs_root() const { return powercap_.sysfs_root(); }
  [[nodiscard]] fs::path cgroup_root() const { return cgroups_.root(); }
  [[nodiscard]] fs::path proc_root() const { return cgroups_.proc_root(); }
  [[nodiscard]] const std::string& job_path() const { return job_path_; }

 private:
  void write(double elapsed_s) {
    // Machine first, then the job: a reader in between sees the job one step behind, caught up next time.
    const auto busy_ticks = static_cast<std::uint64_t>(
        std::llround(elapsed_s * kMachineBusyCpuSPerS * static_cast<double>(ticks_per_second_)));
    write_file_atomically(proc_root() / "stat", "cpu  " + std::to_string(1'000'000 + busy_ticks) +
                                                    " 0 0 5000000 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\n");
    if (!removed_.load()) {
      cgroups_.set_cpu_usec(
          job_path_, 7'000'000 + static_cast<std::uint64_t>(std::llround(elapsed_s * kJobCpuSPerS * 1e6)));
    }
  }

  FakePowercapTree powercap_{
      {FakeZone("intel-rapl:0", "package-0", kPackageW), FakeZone("intel-rapl:0:0", "dram", kDramW)}};
  FakeCgroupTree cgroups_{CgroupVersion::V2};
  std::string job_path_ = cgroups_.add_slurm_job(1000, "4242");
  long ticks_per_second_ = ::sysconf(_SC_CLK_TCK);
  std::thread writer_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> remove_requested_{false};
  std::atomic<bool> removed_{false};
};

class JobAttribution : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto bin = wattprint_bin_from_env();
    if (!bin) GTEST_SKIP() << "WATTPRINT_BIN is not set: point it at the wattprint executable";
    bin_ = *bin;
    fs::create_directories(home_.path() / "runtime");
    fs::permissions(home_.path() / "runtime", fs::perms::owner_all, fs::perm_options::replace);
  }

  /// A recorded-looking Slurm task environment (job 4242, step 0, two tasks on one node) plus the fake
  /// node's roots; `job_cgroup` is WATTPRINT_JOB_CGROUP.
  [[nodiscard]] SpawnOptions options(const std::string& job_cgroup,
                                     const std::vector<std::string>& command) const {
    SpawnOptions o;
    o.args = {"run",
              "--sysfs-root",
              node_.sysfs_root().string(),
              "--json",
              report_path().string(),
              "--interval",
              "0.25",
              "--"};
    o.args.insert(o.args.end(), command.begin(), command.end());
    o.home = home_.path();
    o.extra_env = {"SLURM_JOB_ID=4242", "SLURM_JOBID=4242", "SLURM_STEP_ID=0", "SLURM_STEPID=0",
                   "SLURM_JOB_USER=alice", "SLURM_JOB_NAME=train", "SLURM_JOB_ACCOUNT=physics",
                   "SLURM_JOB_PARTITION=cpu", "SLURM_JOB_NODELIST=node01", "SLURM_NODELIST=node01",
                   "SLURM_NTASKS=2", "SLURM_NPROCS=2", "SLURM_PROCID=0", "SLURM_LOCALID=0",
                   "SLURM_CLUSTER_NAME=study",
                   // One measurer per node: its rendezvous in this test's own directory.
                   "XDG_RUNTIME_DIR=" + (home_.path() / "runtime").string(),
                   "WATTPRINT_CGROUP_ROOT=" + node_.cgroup_root().string(),
                   "WATTPRINT_PROC_ROOT=" + node_.proc_root().string(), "WATTPRINT_JOB_CGROUP=" + job_cgroup};
    return o;
  }

  json run(const SpawnOptions& o) {
    const ProcessResult result = run_process(bin_, o);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return read_json(report_path());
  }

  [[nodiscard]] fs::path report_path() const { return home_.path() / "report.json"; }

  fs::path bin_;
  TempDir home_{"wattprint-job"};
  FakeJobNode node_;
};

double number(const json& report, const char* pointer) {
  return report.at(json::json_pointer(pointer)).get<double>();
}

void expect_slurm_job(const json& report) {
  const json& job = report.at("job");
  EXPECT_EQ(job.at("scheduler"), "slurm");
  EXPECT_EQ(job.at("job_id"), "4242");
  EXPECT_EQ(job.at("step_id"), "0");
  EXPECT_EQ(job.at("user"), "alice");
  EXPECT_EQ(job.at("task_count"), 2);
}

TEST_F(JobAttribution, ProcessMethodTakesTheJobCgroupsShareOfTheMachine) {
  node_.start();
  const json report = run(options(node_.job_path(), {"sleep", "3"}));
  node_.stop();

  expect_slurm_job(report);
  const json& job = report.at("job");
  EXPECT_EQ(job.at("cgroup"), node_.job_path());
  const std::string attribution = job.at("attribution").get<std::string>();
  EXPECT_EQ(attribution.rfind("job cgroup " + node_.job_path(), 0), 0U) << attribution;
  EXPECT_NE(attribution.find("WATTPRINT_JOB_CGROUP"), std::string::npos) << attribution;
  EXPECT_EQ(attribution.find("process tree"), std::string::npos) << attribution;

  // The package drew 40 W for the run (measured, within the counters' reading period).
  const double package_j = number(report, "/measured/cpu_j");
  const double duration_s = number(report, "/duration_s");
  EXPECT_NEAR(package_j, kPackageW * duration_s, kPackageW * duration_s * 0.1);

  // The job's share of the busy CPU time is 0.25 in every interval: the process method's CPU part is a
  // quarter of the package energy. By the process tree, `sleep` would get about nothing.
  const double process_cpu_j = number(report, "/methods/process/components/cpu_j");
  EXPECT_NEAR(process_cpu_j, kJobCpuShare * package_j, kJobCpuShare * package_j * 0.15)
      << "share " << process_cpu_j / package_j;
  // The job's memory is 1 GiB of the 8 GiB used, constant: exactly an eighth of the DRAM energy.
  const double dram_j = number(report, "/measured/dram_j");
  EXPECT_NEAR(number(report, "/methods/process/components/dram_j"), kJobMemoryShare * dram_j,
              kJobMemoryShare * dram_j * 0.01);

  const json& process = report.at("/methods/process"_json_pointer);
  const std::string basis = process.at("basis").get<std::string>();
  EXPECT_NE(basis.find("job cgroup " + node_.job_path()), std::string::npos) << basis;
  const std::string attributed_to = process.at("assumptions").at("attributed to").get<std::string>();
  EXPECT_EQ(attributed_to.rfind("job cgroup " + node_.job_path() + " for ", 0), 0U) << attributed_to;
  EXPECT_EQ(attributed_to.find("process tree"), std::string::npos) << attributed_to;
}

TEST_F(JobAttribution, GroupRemovedMidRunFallsBackToTheProcessTreeForTheRest) {
  node_.start();
  // The command says when it runs (the sampler is started by then); the group goes 1.5 s later, well
  // before the end.
  const fs::path started = home_.path() / "started";
  Process wattprint(bin_,
                    options(node_.job_path(), {"sh", "-c", "touch '" + started.string() + "'; sleep 4"}));
  ASSERT_TRUE(wait_for_file(started)) << "the command did not start";
  std::this_thread::sleep_for(1500ms);
  node_.remove_job_group();
  const ProcessResult result = wattprint.wait();
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(node_.job_group_removed());
  node_.stop();
  const json report = read_json(report_path());

  expect_slurm_job(report);
  const json& job = report.at("job");
  EXPECT_EQ(job.at("cgroup"), node_.job_path());
  const std::string attribution = job.at("attribution").get<std::string>();
  EXPECT_EQ(attribution.rfind("job cgroup " + node_.job_path(), 0), 0U) << attribution;
  EXPECT_NE(attribution.find("; the process tree for "), std::string::npos) << attribution;
  EXPECT_NE(attribution.find("(the group could not be read)"), std::string::npos) << attribution;

  const json& process = report.at("/methods/process"_json_pointer);
  const std::string attributed_to = process.at("assumptions").at("attributed to").get<std::string>();
  EXPECT_NE(attributed_to.find("the command's process tree for the other"), std::string::npos)
      << attributed_to;

  // A quarter of the energy while the group existed (1.5 s or a little more of about 4 s), about nothing
  // after: with generous bounds for a loaded machine, clearly neither all nor none of the run by the group.
  const double package_j = number(report, "/measured/cpu_j");
  const double share = number(report, "/methods/process/components/cpu_j") / package_j;
  EXPECT_GT(share, kJobCpuShare * 0.15) << "the group's intervals are missing";
  EXPECT_LT(share, kJobCpuShare * 0.8) << "the intervals after the removal were still attributed to the job";
}

TEST_F(JobAttribution, MissingGroupIsReportedAndTheProcessTreeAttributes) {
  node_.start();
  const std::string missing = "/system.slice/slurmstepd.scope/job_9999";
  const json report = run(options(missing, {"sleep", "2"}));
  node_.stop();

  expect_slurm_job(report);
  const json& job = report.at("job");
  EXPECT_EQ(job.at("cgroup"), missing);
  const std::string attribution = job.at("attribution").get<std::string>();
  EXPECT_EQ(attribution.rfind("process tree: the job's cgroup " + missing, 0), 0U) << attribution;
  EXPECT_NE(attribution.find("no readable CPU time"), std::string::npos) << attribution;

  // `sleep` and wattprint's own sampling: well under 5 % of a machine busy on two cores.
  const double package_j = number(report, "/measured/cpu_j");
  EXPECT_GT(package_j, 0.0);
  EXPECT_LT(number(report, "/methods/process/components/cpu_j"), 0.05 * package_j);
  const json& process = report.at("/methods/process"_json_pointer);
  EXPECT_EQ(process.at("basis").get<std::string>().find("job cgroup"), std::string::npos);
  EXPECT_FALSE(process.at("assumptions").contains("attributed to"));
}

}  // namespace
}  // namespace wattprint::testing
