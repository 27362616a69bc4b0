// `wattprint merge` (src/merge): node reports with known numbers summed into one job report; the golden
// summary of a 2-node merge (tests/golden/merge_two_nodes.txt, WATTPRINT_UPDATE_GOLDEN=1 rewrites it).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "merge/merge_reports.hpp"
#include "report/json_report.hpp"
#include "report/report_formats.hpp"
#include "report/report_from_json.hpp"
#include "report/summary_text.hpp"

namespace wattprint {
namespace {

MethodResult method(const std::string& name, std::optional<double> joules, Provenance kind,
                    const std::string& reason = "") {
  MethodResult m;
  m.name = name;
  m.available = joules.has_value();
  m.reason = joules ? "" : reason;
  m.provenance = kind;
  m.basis = name + " basis";
  if (joules) {
    m.it_energy = Joules{*joules};
    m.components.cpu = Joules{*joules / 2.0};
  }
  return m;
}

struct NodeNumbers {
  std::string host;
  std::string run_id;
  std::string started_at;
  double duration_s = 100.0;
  double cpu_time_s = 0.0;
  double estimate_j = 0.0;
  double process_j = 0.0;
  std::optional<double> gpu_j;
  double server_j = 0.0;
  double pue = 1.5;
  int epochs = 3;
};

/// A node's report with known numbers: every epoch k (1-based) lasts 20 s from 10 k s, its process
/// energy is k × 100 J + (host's process_j / 1000).
nlohmann::json node_report(const NodeNumbers& n, Provenance process_kind = Provenance::Measured) {
  RunReport r;
  r.run_id = n.run_id;
  r.tool_version = "0.5.0";
  r.command = {"python", "train.py"};
  r.exit_code = 0;
  r.started_at = n.started_at;
  r.duration_s = n.duration_s;
  r.cpu_time_s = n.cpu_time_s;
  r.host.hostname = n.host;
  r.host.cpu_model = "Intel Xeon Gold 6126";
  r.host.sockets = 2;
  r.host.cores_per_socket = 12;
  r.host.logical_cpus = 48;
  r.host.memory_gb = 192.0;
  r.footprint.pue = n.pue;
  r.footprint.pue_source = "--pue";
  r.footprint.carbon_intensity.g_per_kwh = 57.1;
  r.footprint.carbon_intensity.source = "ADEME 2018";
  r.footprint.carbon_intensity.selected_by = "--country FR";
  r.measured.cpu = Joules{n.process_j * 2.0};
  r.methods = {method("estimate", n.estimate_j, Provenance::Modelled),
               method("process", n.process_j, process_kind),
               method("gpu", n.gpu_j, Provenance::Measured, "no readable GPU"),
               method("server", n.server_j, Provenance::Measured),
               method("server-minus-idle", n.server_j - 100.0 * n.duration_s, Provenance::Measured)};
  r.methods[0].assumptions = {{"CPU power", "10 W per core (embedded table)"}};
  r.warnings = {"a warning of " + n.host};
  for (int k = 1; k <= n.epochs; ++k) {
    PhaseResult p;
    p.phase.name = "epoch";
    p.phase.index = k;
    p.phase.start_s = 10.0 * k;
    p.phase.end_s = 10.0 * k + 20.0;
    p.phase.open = false;
    p.phase.ended_by = "mark";
    p.methods = {method("estimate", 10.0 * k, Provenance::Modelled),
                 method("process", 100.0 * k + n.process_j / 1000.0, process_kind),
                 method("gpu", std::nullopt, Provenance::Measured, "unavailable for the whole run"),
                 method("server", 200.0 * k, Provenance::Measured),
                 method("server-minus-idle", 50.0 * k, Provenance::Measured)};
    r.phases.phases.push_back(p);
  }
  r.phases.phase_count = r.phases.phases.size();
  r.phases.summary = summarise_phases(r.phases.phases);
  nlohmann::json j = to_json(r);
  j["job"] = {{"scheduler", "slurm"}, {"job_id", "4242"}};
  return j;
}

NodeNumbers node1() {
  return {"node1",
          "11111111-1111-4111-8111-111111111111",
          "2026-11-27T05:44:53Z",
          100.0,
          400.0,
          90000.0,
          30000.0,
          std::nullopt,
          50000.0,
          1.5,
          3};
}
NodeNumbers node2() {
  return {"node2",
          "22222222-2222-4222-8222-222222222222",
          "2026-11-27T05:45:03Z",
          95.0,
          380.0,
          85000.0,
          28000.0,
          std::nullopt,
          48000.0,
          1.5,
          3};
}

const MethodResult& find(const RunReport& r, const std::string& name) {
  for (const MethodResult& m : r.methods) {
    if (m.name == name) return m;
  }
  throw std::runtime_error("no method " + name);
}

void expect_golden(const std::string& name, const std::string& actual) {
  const std::string path = std::string(WATTPRINT_GOLDEN_DIR) + "/" + name;
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

TEST(Merge, TwoNodesSumEachMethodAndKeepTheNodes) {
  const RunReport m = merge_node_reports(
      {{"report-node1.json", node_report(node1())}, {"report-node2.json", node_report(node2())}}, {});
  EXPECT_EQ(m.kind, "merged");
  EXPECT_EQ(find(m, "estimate").it_energy.value, 175000.0);
  EXPECT_EQ(find(m, "estimate").provenance, Provenance::Modelled);
  EXPECT_EQ(find(m, "process").it_energy.value, 58000.0);
  EXPECT_EQ(find(m, "process").provenance, Provenance::Measured);
  EXPECT_EQ(find(m, "process").components.cpu->value, 29000.0);
  EXPECT_EQ(find(m, "server").it_energy.value, 98000.0);
  // server-minus-idle: (50000 − 100 × 100) + (48000 − 100 × 95)
  EXPECT_EQ(find(m, "server-minus-idle").it_energy.value, 78500.0);
  EXPECT_FALSE(find(m, "gpu").available);
  EXPECT_NE(find(m, "gpu").reason.find("node1 (no readable GPU); node2 (no readable GPU)"),
            std::string::npos);
  EXPECT_EQ(m.measured.cpu->value, 116000.0);
  // Wall span: node2 starts 10 s after node1 and lasts 95 s → 105 s; CPU time summed.
  EXPECT_EQ(m.started_at, "2026-11-27T05:44:53Z");
  EXPECT_DOUBLE_EQ(m.duration_s, 105.0);
  EXPECT_DOUBLE_EQ(*m.cpu_time_s, 780.0);
  ASSERT_EQ(m.nodes.size(), 2U);
  EXPECT_EQ(m.nodes[1].host, "node2");
  EXPECT_EQ(m.nodes[1].source, "report-node2.json");
  EXPECT_EQ(m.nodes[1].methods[1].it_energy->value, 28000.0);
  // Epoch 2 summed: process 200 + 30 and 200 + 28; it spans node1's [20, 40] and node2's [30, 50].
  ASSERT_EQ(m.phases.phases.size(), 3U);
  const PhaseResult& epoch2 = m.phases.phases[1];
  EXPECT_EQ(epoch2.phase.label(), "epoch 2");
  EXPECT_DOUBLE_EQ(epoch2.methods[1].it_energy.value, 458.0);
  EXPECT_DOUBLE_EQ(epoch2.phase.start_s, 20.0);
  EXPECT_DOUBLE_EQ(epoch2.phase.end_s, 50.0);
  EXPECT_NE(std::find(m.warnings.begin(), m.warnings.end(), "node2: a warning of node2"), m.warnings.end());
  expect_golden("merge_two_nodes.txt", render_summary(m));
}

TEST(Merge, TheMergedJsonReadsBackAndRendersWithItsNodes) {
  const RunReport m =
      merge_node_reports({{"a.json", node_report(node1())}, {"b.json", node_report(node2())}}, {});
  const nlohmann::json j = to_json(m);
  EXPECT_EQ(j["kind"], "merged");
  ASSERT_EQ(j["nodes"].size(), 2U);
  EXPECT_EQ(j["nodes"][0]["methods"]["process"]["it_energy_j"], 30000.0);
  EXPECT_NO_THROW(check_report(j, "merged"));
  const RunReport back = run_report_from_json(j);
  ASSERT_EQ(back.nodes.size(), 2U);
  EXPECT_EQ(back.nodes[0].methods[0].method, "estimate");
  EXPECT_EQ(render_summary(back), render_summary(m));
  const std::string md = render_report(j, ReportFormat::Markdown);
  EXPECT_NE(md.find("Per node (2 nodes"), std::string::npos) << md;
  EXPECT_NE(md.find("| node2 |"), std::string::npos) << md;
  EXPECT_NE(render_report(j, ReportFormat::Html).find("id=\"nodes\""), std::string::npos);
  EXPECT_NE(render_report(j, ReportFormat::Latex).find("Per node (2 nodes)"), std::string::npos);
  // The same merge gives the same run id (importing it twice is recognised).
  EXPECT_EQ(
      m.run_id,
      merge_node_reports({{"b.json", node_report(node2())}, {"a.json", node_report(node1())}}, {}).run_id);
}

TEST(Merge, DifferentPuesAreRefusedUnlessOneIsGiven) {
  NodeNumbers other = node2();
  other.pue = 1.2;
  const std::vector<NodeReport> nodes{{"a.json", node_report(node1())}, {"b.json", node_report(other)}};
  try {
    merge_node_reports(nodes, {});
    FAIL() << "expected a UsageError";
  } catch (const UsageError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("node1 1.5, node2 1.2"), std::string::npos) << message;
    EXPECT_NE(message.find("--pue"), std::string::npos) << message;
  }
  MergeFootprint given;
  given.pue = 1.3;
  given.pue_source = "--pue";
  const RunReport m = merge_node_reports(nodes, given);
  EXPECT_EQ(m.footprint.pue, 1.3);
  EXPECT_DOUBLE_EQ(to_json(m)["methods"]["process"]["energy_kwh"].get<double>(), 58000.0 / 3.6e6 * 1.3);
}

TEST(Merge, APhaseMissingOnOneNodeIsLeftOutAndNamed) {
  NodeNumbers short_run = node2();
  short_run.epochs = 2;
  const RunReport m =
      merge_node_reports({{"a.json", node_report(node1())}, {"b.json", node_report(short_run)}}, {});
  ASSERT_EQ(m.phases.phases.size(), 2U);
  EXPECT_EQ(m.phases.phases[1].phase.label(), "epoch 2");
  EXPECT_NE(std::find(m.warnings.begin(), m.warnings.end(),
                      "merge: phase 'epoch 3' is missing on node2: it is left out of the job's phases"),
            m.warnings.end());
  ASSERT_EQ(m.phases.summary.size(), 1U);
  EXPECT_EQ(m.phases.summary[0].count, 2U);
}

TEST(Merge, TheSameRunTwiceIsCountedOnce) {
  const RunReport m = merge_node_reports({{"a.json", node_report(node1())},
                                          {"b.json", node_report(node2())},
                                          {"copy-of-a.json", node_report(node1())}},
                                         {});
  EXPECT_EQ(m.nodes.size(), 2U);
  EXPECT_EQ(find(m, "process").it_energy.value, 58000.0);
  const bool warned = std::any_of(m.warnings.begin(), m.warnings.end(), [](const std::string& w) {
    return w.find("copy-of-a.json is the same run") != std::string::npos;
  });
  EXPECT_TRUE(warned);
}

TEST(Merge, MeasuredOnOneNodeAndModelledOnAnotherIsModelledAndSaysMixed) {
  const RunReport m = merge_node_reports(
      {{"a.json", node_report(node1())}, {"b.json", node_report(node2(), Provenance::Modelled)}}, {});
  const MethodResult& process = find(m, "process");
  EXPECT_EQ(process.provenance, Provenance::Modelled);
  EXPECT_EQ(process.it_energy.value, 58000.0);
  EXPECT_EQ(process.basis.rfind("mixed: measured on node1, modelled on node2", 0), 0U) << process.basis;
}

TEST(Merge, AMethodOnSomeNodesOnlyIsUnavailableForTheJob) {
  NodeNumbers with_gpu = node1();
  with_gpu.gpu_j = 7000.0;
  const RunReport m =
      merge_node_reports({{"a.json", node_report(with_gpu)}, {"b.json", node_report(node2())}}, {});
  EXPECT_FALSE(find(m, "gpu").available);
  EXPECT_EQ(find(m, "gpu").reason,
            "unavailable on 1 of 2 nodes, so not summed for the job: node2 (no readable GPU)");
  EXPECT_EQ(m.nodes[0].methods[2].it_energy->value, 7000.0);  // the detail is kept
}

TEST(Merge, DifferentJobsWarnAndAMergedReportIsNotMergedAgain) {
  nlohmann::json other = node_report(node2());
  other["job"]["job_id"] = "9999";
  const RunReport m = merge_node_reports({{"a.json", node_report(node1())}, {"b.json", other}}, {});
  const bool warned = std::any_of(m.warnings.begin(), m.warnings.end(), [](const std::string& w) {
    return w.find("different jobs (4242, 9999)") != std::string::npos;
  });
  EXPECT_TRUE(warned);
  EXPECT_THROW(merge_node_reports({{"job.json", to_json(m)}}, {}), UsageError);
  EXPECT_THROW(merge_node_reports({}, {}), UsageError);
}

}  // namespace
}  // namespace wattprint
