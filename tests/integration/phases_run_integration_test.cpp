// Phases through the real binary: marks from the output regex, from `wattprint mark` in a child and a
// grandchild, and from the Python module, in one run; per-phase energy against the fake tree's ground truth;
// the output passed through unchanged; a marker storm; the per-sample CSV.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "fakes/fake_powercap.hpp"
#include "integration/harness.hpp"

namespace wattprint::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class PhasesRun : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto bin = wattprint_bin_from_env();
    if (!bin) GTEST_SKIP() << "WATTPRINT_BIN is not set";
    bin_ = *bin;
  }
  ProcessResult run(const FakePowercapTree& tree, std::vector<std::string> options, const std::string& script,
                    std::vector<std::string> extra_env = {}) const {
    SpawnOptions o;
    o.args = {"run",        "--sysfs-root", tree.sysfs_root().string(), "--json", json_path().string(),
              "--interval", "0.05"};
    o.args.insert(o.args.end(), options.begin(), options.end());
    o.args.insert(o.args.end(), {"--", "/bin/sh", "-c", script});
    o.home = home_.path();
    o.cwd = home_.path();
    o.extra_env = std::move(extra_env);
    o.extra_env.push_back("WP=" + bin_.string());
    return run_process(bin_, o);
  }
  [[nodiscard]] fs::path json_path() const { return home_.path() / "report.json"; }
  fs::path bin_;
  TempDir home_{"wattprint-phases"};
};

std::string describe(const ProcessResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\n--- stdout:\n" + r.out + "\n--- stderr:\n" + r.err;
}

TEST_F(PhasesRun, MarksFromTheOutputAChildAndAGrandchildInOneRun) {
  FakePowercapTree tree({FakeZone("intel-rapl:0", "package-0", 40.0)});
  tree.start(std::chrono::milliseconds(5));
  // Epochs from the output; `train` from a child shell; `eval` from a grandchild (a shell in a shell).
  const std::string script =
      "for e in 1 2 3; do echo \"Epoch $e/3\"; "
      "sh -c '\"$WP\" mark train; sleep 0.3; \"$WP\" mark --end train'; "
      "sh -c 'sh -c \"\\\"\\$WP\\\" mark eval; sleep 0.15\"'; done; printf 'done, no newline'";
  const ProcessResult r = run(tree, {"--mark-regex", "Epoch (\\d+)", "--pue", "1.5"}, script);
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  // The command's output reached stdout unchanged.
  EXPECT_EQ(r.out, "Epoch 1/3\nEpoch 2/3\nEpoch 3/3\ndone, no newline");
  const json report = read_json(json_path());
  const json& phases = report.at("phases");
  ASSERT_EQ(phases.size(), 9U) << phases.dump(2);
  std::vector<std::string> paths;
  for (const json& p : phases) paths.push_back(p.at("path").get<std::string>());
  EXPECT_EQ(paths, (std::vector<std::string>{"epoch 1", "epoch 1/train 1", "epoch 1/eval 1", "epoch 2",
                                             "epoch 2/train 2", "epoch 2/eval 2", "epoch 3",
                                             "epoch 3/train 3", "epoch 3/eval 3"}));
  const double duration = report.at("duration_s").get<double>();
  for (const json& p : phases) {
    const double start = p.at("start_s").get<double>();
    const double end = p.at("end_s").get<double>();
    EXPECT_LE(0.0, start);
    EXPECT_LT(start, end);
    EXPECT_LE(end, duration + 1e-9);
    if (p.at("name") == "train") {
      EXPECT_EQ(p.at("ended_by"), "mark");
      // sleep 0.3 plus the start-up of the `wattprint mark --end` process (longer under sanitizers)
      EXPECT_GE(end - start, 0.29) << p.dump();
      EXPECT_LT(end - start, 1.5) << p.dump();
    }
    // The package's 40 W over the phase, measured: the process method needs the command's CPU share, so
    // the whole-machine package energy is checked through the estimate-free path: energy ∝ duration.
    EXPECT_TRUE(p.at("methods").contains("server-minus-idle"));
  }
  EXPECT_EQ(phases[0].at("ended_by"), "next");
  EXPECT_EQ(phases[6].at("ended_by"), "run-end");
  EXPECT_EQ(phases[2].at("ended_by"), "parent");
  EXPECT_EQ(report.at("phase_summary").at("epoch").at("estimate").at("count"), 3);
  EXPECT_EQ(report.at("phase_marks").at("accepted"), 3 + 6 + 3);
  EXPECT_EQ(report.at("phase_marks").at("malformed"), 0);
  // The summary shows the per-epoch table.
  EXPECT_NE(r.err.find("epoch mean (×3)"), std::string::npos) << r.err;
}

TEST_F(PhasesRun, PhaseEnergyFollowsAPowerStepOfTheServer) {
  // The server's ACPI power meter reads 100 W during "cold" and 300 W during "hot" (the command sets it in
  // between): each phase's server energy is its power × its duration.
  const fs::path sys = home_.path() / "sys";
  const fs::path meter = sys / "class/hwmon/hwmon2";
  write_text_file(meter / "name", "power_meter\n");
  write_text_file(meter / "power1_average_interval", "100\n");
  write_text_file(meter / "power1_average", "100000000\n");
  const std::string file = (meter / "power1_average").string();
  // The meter changes half a second after the end of "cold" and half a second before the start of "hot":
  // the interpolation between two readings around the step (sparser under load or sanitizers) stays in the
  // time between the phases, whatever the marks' own latency.
  const std::string script =
      "\"$WP\" mark cold; sleep 1; \"$WP\" mark --end cold; sleep 0.5; echo 300000000 > " + file +
      ".tmp && mv " + file + ".tmp " + file +
      "; sleep 0.5; \"$WP\" mark hot; sleep 1; \"$WP\" mark --end hot";
  SpawnOptions o;
  o.args = {"run",    "--sysfs-root",       sys.string(), "--server-interval", "0.1", "--idle-watts", "100",
            "--json", json_path().string(), "--",         "/bin/sh",           "-c",  script};
  o.home = home_.path();
  o.extra_env = {"WP=" + bin_.string()};
  const ProcessResult r = run_process(bin_, o);
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const json report = read_json(json_path());
  const json& phases = report.at("phases");
  ASSERT_EQ(phases.size(), 2U) << phases.dump(2);
  for (const json& p : phases) {
    const double seconds = p.at("duration_s").get<double>();
    const double watts = p.at("name") == "cold" ? 100.0 : 300.0;
    const json& server = p.at("methods").at("server");
    ASSERT_TRUE(server.at("available").get<bool>()) << p.dump(2);
    // ±0.15 s of the 200-W step (one 0.1-s reading and its window) on either side.
    EXPECT_NEAR(server.at("it_energy_j").get<double>(), watts * seconds, 200.0 * 0.15) << p.dump(2);
    const json& above_idle = p.at("methods").at("server-minus-idle");
    EXPECT_NEAR(above_idle.at("it_energy_j").get<double>(), (watts - 100.0) * seconds, 200.0 * 0.15);
  }
  EXPECT_EQ(phases[0].at("ended_by"), "mark");
  EXPECT_EQ(phases[1].at("depth"), 0);
  // Phases and the time outside them add up to the run, for time and for energy.
  double seconds = 0.0;
  double joules = 0.0;
  for (const json& p : phases) {
    if (p.at("depth") != 0) continue;
    seconds += p.at("duration_s").get<double>();
    joules += p.at("methods").at("server").at("it_energy_j").get<double>();
  }
  for (const json& g : report.at("between_phases")) {
    seconds += g.at("duration_s").get<double>();
    joules += g.at("methods").at("server").at("it_energy_j").get<double>();
  }
  EXPECT_NEAR(seconds, report.at("duration_s").get<double>(), 1e-6);
  EXPECT_NEAR(joules, report.at("methods").at("server").at("it_energy_j").get<double>(), 1e-6);
}

TEST_F(PhasesRun, AMarkerStormNeitherBlocksTheCommandNorLosesMarks) {
  FakePowercapTree tree({FakeZone("intel-rapl:0", "package-0", 10.0)});
  tree.start(std::chrono::milliseconds(5));
  // 20,000 lines matching the regex in one burst, plus 50 `wattprint mark` processes in parallel.
  const std::string script =
      "seq 1 20000 | sed 's/^/step /'; "
      "i=0; while [ $i -lt 50 ]; do \"$WP\" mark burst & i=$((i+1)); done; wait";
  const ProcessResult r = run(tree, {"--mark-regex", "tick=^step (\\d+)$"}, script);
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const json report = read_json(json_path());
  EXPECT_EQ(report.at("phase_marks").at("accepted"), 20050);
  EXPECT_EQ(report.at("phase_marks").at("dropped"), 0);
  EXPECT_EQ(report.at("phase_marks").at("phases"), 20050);
  // The report lists the first 10,000 phases; the statistics count them all.
  EXPECT_EQ(report.at("phase_marks").at("phases_listed"), 10000);
  EXPECT_EQ(report.at("phases").size(), 10000U);
  EXPECT_EQ(report.at("phase_summary").at("tick").at("estimate").at("count"), 20000);
  EXPECT_EQ(report.at("phase_summary").at("burst").at("estimate").at("count"), 50);
  // The ticks keep their captured numbers, in order.
  EXPECT_EQ(report.at("phases")[0].at("label"), "tick 1");
  EXPECT_EQ(report.at("phases")[9999].at("label"), "tick 10000");
  // Every output line still reached stdout.
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 20000);
}

TEST_F(PhasesRun, CsvHasOneRowPerSampleWithPowerEnergyShareAndPhase) {
  FakePowercapTree tree({FakeZone("intel-rapl:0", "package-0", 30.0)});
  tree.start(std::chrono::milliseconds(5));
  const fs::path csv = home_.path() / "samples.csv";
  const ProcessResult r = run(tree, {"--csv", csv.string()},
                              "sleep 0.3; \"$WP\" mark epoch; sleep 0.6; \"$WP\" mark --end epoch");
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  std::ifstream in(csv);
  std::string header;
  ASSERT_TRUE(std::getline(in, header));
  EXPECT_EQ(header.rfind("time_s,interval_s,", 0), 0U) << header;
  EXPECT_NE(header.find("_power_w"), std::string::npos) << header;
  EXPECT_NE(header.find("_energy_j"), std::string::npos) << header;
  EXPECT_NE(header.find("cpu_share"), std::string::npos) << header;
  std::string line;
  std::size_t rows = 0;
  std::size_t in_epoch = 0;
  double last_energy = -1.0;
  while (std::getline(in, line)) {
    ++rows;
    if (line.find("epoch 1") != std::string::npos) ++in_epoch;
    std::stringstream cells(line);
    std::string time, interval, power, energy;
    std::getline(cells, time, ',');
    std::getline(cells, interval, ',');
    std::getline(cells, power, ',');
    std::getline(cells, energy, ',');
    const double e = std::stod(energy);
    EXPECT_GE(e, last_energy);  // cumulative
    last_energy = e;
    if (std::stod(interval) > 0.02) {
      EXPECT_NEAR(std::stod(power), 30.0, 6.0) << line;
    }
  }
  const json report = read_json(json_path());
  const double duration = report.at("duration_s").get<double>();
  // One row per 0.05-s interval (give or take the first and last), and as many in the epoch as it lasted
  // (0.6 s plus the latency of `wattprint mark --end`, longer under sanitizers).
  EXPECT_NEAR(static_cast<double>(rows), duration / 0.05, 3.0);
  ASSERT_EQ(report.at("phases").size(), 1U);
  EXPECT_NEAR(static_cast<double>(in_epoch), report.at("phases")[0].at("duration_s").get<double>() / 0.05,
              2.0);
  EXPECT_NE(r.err.find("samples written to"), std::string::npos);
}

TEST_F(PhasesRun, OutsideARunMarkingIsANoOpWithAWarning) {
  SpawnOptions o;
  o.args = {"mark", "epoch"};
  o.home = home_.path();
  const ProcessResult r = run_process(bin_, o);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.err.find("not inside"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace wattprint::testing
