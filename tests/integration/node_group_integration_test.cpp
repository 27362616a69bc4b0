// One measurer per node (docs/clusters.md) through the real binary: three `wattprint run` of the same
// fake Slurm job step start together on this host; one measures, the two others join it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fakes/fake_powercap.hpp"
#include "integration/harness.hpp"

namespace wattprint::testing {
namespace {

namespace fs = std::filesystem;

// Each rank: says it started, waits until all three have (so no rank can end before the others joined),
// burns `cpu` seconds of CPU, exits with `status`.
constexpr const char* kRank = R"(
import os, sys, time
barrier, rank, cpu, status = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
open(os.path.join(barrier, "started-" + rank), "w").close()
deadline = time.monotonic() + 60
while len([n for n in os.listdir(barrier) if n.startswith("started-")]) < 3 and time.monotonic() < deadline:
    time.sleep(0.01)
start = time.process_time()
x = 0
while time.process_time() - start < cpu:
    x += 1
sys.exit(status)
)";

TEST(NodeGroupIntegration, ThreeRanksOnOneNodeGiveOneReportCoveringAllRanks) {
  const auto bin = wattprint_bin_from_env();
  if (!bin) GTEST_SKIP() << "WATTPRINT_BIN is not set";
  FakePowercapTree tree({FakeZone("intel-rapl:0", "package-0", 40.0)});
  tree.start();
  TempDir home("wattprint-home");
  TempDir runtime("wattprint-runtime");
  ::chmod(runtime.path().c_str(), 0700);
  const fs::path barrier = home.path() / "barrier";
  fs::create_directory(barrier);
  const fs::path reports = home.path() / "reports";
  fs::create_directory(reports);
  constexpr double kCpuPerRankS = 1.0;
  std::vector<std::unique_ptr<Process>> ranks;
  for (int rank = 0; rank < 3; ++rank) {
    SpawnOptions o;
    o.home = home.path();
    o.cwd = home.path();
    o.timeout = std::chrono::milliseconds(120'000);
    o.extra_env = {"SLURM_JOB_ID=777",
                   "SLURM_STEP_ID=0",
                   "SLURM_JOB_NODELIST=" + std::string("localhost"),
                   "SLURM_NTASKS=3",
                   "SLURM_PROCID=" + std::to_string(rank),
                   "SLURM_LOCALID=" + std::to_string(rank),
                   "XDG_RUNTIME_DIR=" + runtime.path().string()};
    o.args = {"run",
              "--sysfs-root",
              tree.sysfs_root().string(),
              "--no-store",
              "--interval",
              "0.1",
              "--json",
              (reports / "report-%p.json").string(),
              "--",
              "/usr/bin/python3",
              "-c",
              kRank,
              barrier.string(),
              std::to_string(rank),
              std::to_string(kCpuPerRankS),
              std::to_string(10 + rank)};
    ranks.push_back(std::make_unique<Process>(*bin, o));
  }
  int members = 0;
  for (int rank = 0; rank < 3; ++rank) {
    const ProcessResult r = ranks[static_cast<std::size_t>(rank)]->wait();
    EXPECT_EQ(r.exit_code, 10 + rank) << r.err;  // every rank exits with its own command's status
    if (r.err.find("measures node") != std::string::npos) {
      ++members;
      EXPECT_NE(r.err.find("this rank (pid " + std::to_string(ranks[static_cast<std::size_t>(rank)]->pid())),
                std::string::npos)
          << r.err;
    }
  }
  EXPECT_EQ(members, 2);
  std::vector<fs::path> written;
  for (const auto& entry : fs::directory_iterator(reports)) written.push_back(entry.path());
  ASSERT_EQ(written.size(), 1U) << "exactly one report for the node";
  std::ifstream in(written.front());
  const nlohmann::json report = nlohmann::json::parse(in);
  const double cpu = report.at("cpu_time_s").get<double>();
  // All three ranks' CPU time (each burnt 1 s), plus interpreters' start-up and the members' own bit.
  EXPECT_GE(cpu, 3 * kCpuPerRankS * 0.95) << report.dump(2);
  EXPECT_LE(cpu, 3 * kCpuPerRankS + 1.5) << report.dump(2);
}

}  // namespace
}  // namespace wattprint::testing
