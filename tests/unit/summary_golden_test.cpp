// The end-of-run summary and the JSON phases of a run with epochs, against golden files
// (tests/golden/summary_phases.txt, phases_report.json). WATTPRINT_UPDATE_GOLDEN=1 rewrites them after an
// intended change; review the diff before committing.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "methods/all_methods.hpp"
#include "phases/phase_results.hpp"
#include "report/json_report.hpp"
#include "report/summary_text.hpp"

namespace wattprint {
namespace {

/// A 100-s run at a constant 150 W package and 250 W server, with 3 epochs (train and eval nested in each)
/// whose lengths differ, an idle baseline of 156 W.
RunReport run_with_epochs() {
  RunMeasurement m;
  m.duration_s = 100.0;
  m.tree_cpu_s = 200.0;
  m.peak_tree_rss_bytes = 4ULL << 30;
  m.have_package = true;
  const auto at = [](double t) {
    RunCheckpoint c;
    c.at_s = t;
    c.tree_cpu_s = 2.0 * t;
    c.machine_busy_s = 2.5 * t;
    c.package = Joules{150.0 * t};
    c.attributed_package = Joules{120.0 * t};
    c.server = Joules{250.0 * t};
    return c;
  };
  m.package = at(100).package;
  m.attributed_package = at(100).attributed_package;
  m.machine_busy_s = 250.0;
  m.final_checkpoint = at(100.0);
  ServerEnergy server;
  server.family = "ipmi-dcmi";
  server.origin = "bmc.example:623";
  server.energy = Joules{25000.0};
  server.readings = 21;
  m.server = server;
  PhaseTracker t;
  const double starts[] = {5.0, 35.0, 70.0};
  const double lengths[] = {28.0, 31.0, 25.0};
  for (int e = 0; e < 3; ++e) {
    const double s = starts[e];
    t.begin("epoch", s);
    t.begin("train", s);
    t.end("train", s + lengths[e] - 4.0);
    t.begin("eval", s + lengths[e] - 4.0);
    t.end("epoch", s + lengths[e]);
  }
  t.finish(100.0);
  m.phases = t.phases();
  for (const double b : t.boundaries()) m.boundaries.push_back(at(b));

  RunReport r;
  r.tool_version = "0.5.0";
  r.command = {"python", "train.py"};
  r.exit_code = 0;
  r.started_at = "2026-11-27T05:44:53Z";
  r.duration_s = m.duration_s;
  r.cpu_time_s = m.tree_cpu_s;
  r.peak_rss_bytes = m.peak_tree_rss_bytes;
  r.host.hostname = "node1";
  r.footprint.pue = 1.65;
  r.footprint.pue_source = "--pue";
  r.footprint.carbon_intensity.g_per_kwh = 57.1;
  r.footprint.carbon_intensity.source = "ADEME 2018";
  r.footprint.carbon_intensity.selected_by = "--country FR";
  MethodInputs inputs;
  inputs.estimate.cpu.model = "Intel Xeon Gold 6126";
  inputs.estimate.cpu.watts_per_core = 10.0;
  inputs.estimate.cpu.source = "embedded table";
  inputs.estimate.memory_gb = 4.0;
  inputs.estimate.memory_source = "peak resident memory";
  inputs.gpu_reason = "no readable GPU";
  IdleBaseline idle;
  idle.host = "node1";
  idle.server_w = 156.0;
  idle.how = "--idle-watts 156";
  inputs.idle_baseline = idle;
  r.idle_baseline = idle;
  r.methods = compute_methods(m, inputs);
  r.phases = compute_phase_results(m, inputs);
  return r;
}

std::string golden_path(const std::string& name) { return std::string(WATTPRINT_GOLDEN_DIR) + "/" + name; }

void expect_golden(const std::string& name, const std::string& actual) {
  const std::string path = golden_path(name);
  if (const char* update = std::getenv("WATTPRINT_UPDATE_GOLDEN");
      update != nullptr && std::string(update) == "1") {
    std::ofstream(path) << actual;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in) << "missing golden file " << path << " (WATTPRINT_UPDATE_GOLDEN=1 writes it)";
  std::stringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(actual, expected.str()) << "differs from " << path;
}

TEST(SummaryGolden, PerEpochTableWithMeansAndTimeOutsidePhases) {
  expect_golden("summary_phases.txt", render_summary(run_with_epochs()));
}

TEST(SummaryGolden, JsonPhasesAndSummary) {
  nlohmann::json j = to_json(run_with_epochs());
  nlohmann::json phases;
  for (const char* key : {"phases", "between_phases", "phase_summary", "phase_marks"}) phases[key] = j[key];
  expect_golden("phases_report.json", phases.dump(2) + "\n");
}

TEST(SummaryGolden, PhaseNumbersAreTheMethodsOverEachSpan) {
  const nlohmann::json j = to_json(run_with_epochs());
  ASSERT_EQ(j["phases"].size(), 9U);
  const auto& epoch2 = j["phases"][3];
  EXPECT_EQ(epoch2["label"], "epoch 2");
  EXPECT_DOUBLE_EQ(epoch2["duration_s"].get<double>(), 31.0);
  // server: 250 W × 31 s; server-minus-idle: (250 − 156) W × 31 s; kWh with PUE 1.65; gCO2 at 57.1 g/kWh.
  EXPECT_NEAR(epoch2["methods"]["server"]["it_energy_j"].get<double>(), 7750.0, 1e-6);
  EXPECT_NEAR(epoch2["methods"]["server-minus-idle"]["it_energy_j"].get<double>(), 94.0 * 31.0, 1e-6);
  EXPECT_NEAR(epoch2["methods"]["server"]["energy_kwh"].get<double>(), 7750.0 / 3.6e6 * 1.65, 1e-12);
  EXPECT_NEAR(epoch2["methods"]["server"]["co2_g"].get<double>(), 7750.0 / 3.6e6 * 1.65 * 57.1, 1e-9);
  EXPECT_EQ(j["phases"][4]["path"], "epoch 2/train 2");
  EXPECT_EQ(j["phases"][4]["parent"], 3);
  EXPECT_FALSE(j["phases"][3]["methods"]["gpu"]["available"].get<bool>());
  // Means over 28, 31 and 25 s at 250 W: mean 7000 J, sample sd 250 × 3 = 750 J.
  const auto& s = j["phase_summary"]["epoch"]["server"];
  EXPECT_EQ(s["count"], 3);
  EXPECT_NEAR(s["mean_kwh"].get<double>(), 7000.0 / 3.6e6 * 1.65, 1e-12);
  EXPECT_NEAR(s["sd_kwh"].get<double>(), 750.0 / 3.6e6 * 1.65, 1e-12);
  EXPECT_NEAR(s["min_co2_g"].get<double>(), 6250.0 / 3.6e6 * 1.65 * 57.1, 1e-9);
  EXPECT_FALSE(j["phase_summary"]["epoch"].contains("gpu"));
  // Time outside epochs: [0, 5], [33, 35], [66, 70], [95, 100] = 16 s at 250 W.
  double between_j = 0.0;
  for (const auto& gap : j["between_phases"])
    between_j += gap["methods"]["server"]["it_energy_j"].get<double>();
  EXPECT_EQ(j["between_phases"].size(), 4U);
  EXPECT_NEAR(between_j, 250.0 * 16.0, 1e-6);
}

}  // namespace
}  // namespace wattprint
