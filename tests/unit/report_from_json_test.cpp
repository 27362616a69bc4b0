// A report's JSON read back into its RunReport (src/report/report_from_json.hpp): the summary `wattprint
// show` prints is the one printed at the end of the run, byte for byte, and writing the report read back
// gives the same JSON.
#include "report/report_from_json.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "methods/all_methods.hpp"
#include "phases/phase_results.hpp"
#include "report/json_report.hpp"
#include "report/summary_text.hpp"

namespace wattprint {
namespace {

using nlohmann::json;

std::string golden_path(const std::string& name) { return std::string(WATTPRINT_GOLDEN_DIR) + "/" + name; }

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot read " << path;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

json golden_json(const std::string& name) { return json::parse(read_text(golden_path(name))); }

/// Equal JSON values; numbers exactly, except under phase_summary (stored in kWh with PUE, read back in
/// joules) or when `tolerant`, where they may differ by 1e-9 relative. `added_keys`: `actual` may hold keys
/// `expected` lacks (a hand-made fixture leaves out some).
void expect_same_json(const json& expected, const json& actual, const std::string& path = "",
                      bool tolerant = false, bool added_keys = false) {
  if (expected.is_number() && actual.is_number()) {
    const double a = expected.get<double>();
    const double b = actual.get<double>();
    if (tolerant) {
      EXPECT_LE(std::fabs(a - b), 1e-9 * std::max(std::fabs(a), std::fabs(b)))
          << path << ": " << a << " vs " << b;
    } else {
      EXPECT_EQ(a, b) << path;
    }
    return;
  }
  ASSERT_EQ(expected.type_name(), std::string(actual.type_name())) << path;
  if (expected.is_object()) {
    for (const auto& [key, value] : expected.items()) {
      ASSERT_TRUE(actual.contains(key)) << path << "." << key << " missing";
      expect_same_json(value, actual.at(key), path + "." + key, tolerant || key == "phase_summary",
                       added_keys);
    }
    for (const auto& [key, value] : actual.items()) {
      EXPECT_TRUE(added_keys || expected.contains(key)) << path << "." << key << " added";
    }
  } else if (expected.is_array()) {
    ASSERT_EQ(expected.size(), actual.size()) << path;
    for (std::size_t i = 0; i < expected.size(); ++i) {
      expect_same_json(expected[i], actual[i], path + "[" + std::to_string(i) + "]", tolerant, added_keys);
    }
  } else {
    EXPECT_EQ(expected, actual) << path;
  }
}

void expect_round_trip(const RunReport& r) {
  const json written = to_json(r);
  const RunReport back = run_report_from_json(written);
  EXPECT_EQ(render_summary(back), render_summary(r));
  expect_same_json(written, to_json(back));
  // Through the text as stored, too (doubles survive dump and parse exactly).
  EXPECT_EQ(render_summary(run_report_from_json(json::parse(written.dump(2)))), render_summary(r));
}

/// The measurement of a run with RAPL packages and DRAM, two GPUs (one in the run), a server with failed
/// readings, and `epochs` epochs (train and eval nested in each) separated by gaps. Everything grows
/// linearly in time with distinct slopes, so every phase has its own numbers.
struct Scenario {
  RunMeasurement m;
  MethodInputs inputs;
};

RunCheckpoint checkpoint_at(double t) {
  RunCheckpoint c;
  c.at_s = t;
  c.tree_cpu_s = 3.0 * t;
  c.machine_busy_s = 3.5 * t;
  c.package = Joules{140.0 * t};
  c.dram = Joules{22.0 * t};
  c.psys = Joules{190.0 * t};
  c.attributed_package = Joules{110.0 * t};
  c.attributed_dram = Joules{9.0 * t};
  c.gpu_energy = {Joules{61.0 * t}, Joules{31.0 * t}};
  c.gpu_attributed = {Joules{58.5 * t}, Joules{0.0}};
  c.server = Joules{420.0 * t};
  return c;
}

Scenario rich_scenario(int epochs) {
  Scenario s;
  RunMeasurement& m = s.m;
  const double duration = 40.0 * epochs + 17.0;
  m.duration_s = duration;
  m.tree_cpu_s = 3.0 * duration;
  m.peak_tree_rss_bytes = 12133282611ULL;
  m.have_package = true;
  m.have_dram = true;
  const RunCheckpoint end = checkpoint_at(duration);
  m.package = end.package;
  m.dram = end.dram;
  m.psys = end.psys;
  m.attributed_package = end.attributed_package;
  m.attributed_dram = end.attributed_dram;
  m.machine_busy_s = end.machine_busy_s;
  m.counter_period_s = 0.5;
  m.final_checkpoint = end;
  for (unsigned i = 0; i < 2; ++i) {
    GpuEnergy gpu;
    gpu.device.family = "nvml";
    gpu.device.index = i;
    gpu.device.name = i == 0 ? "NVIDIA H100 80GB HBM3" : "Tesla T4";
    gpu.device.uuid = i == 0 ? "GPU-6f1c2a4e" : "GPU-0b3d";
    gpu.device.pci_bus_id = i == 0 ? "00000000:3B:00.0" : "00000000:5E:00.0";
    if (i == 0) gpu.device.power_limit = Watts{700.0};
    gpu.device.energy_method = i == 0 ? "total energy counter" : "instantaneous power, integrated";
    gpu.device.energy_is_counter = i == 0;
    gpu.energy = end.gpu_energy[i];
    gpu.attributed = end.gpu_attributed[i];
    gpu.used_by_command = i == 0;
    if (i == 0) gpu.mean_utilisation_percent = 81.4;
    if (i == 0) gpu.sampled_every_5s = Joules{61.0 * duration * 1.03};
    m.gpus.push_back(gpu);
  }
  ServerEnergy server;
  server.family = "ipmi-dcmi";
  server.origin = "ipmi-dcmi lanplus bmc-node07.example.org:623";
  server.energy = end.server;
  server.readings = 373;
  server.failures = 2;
  server.last_error = "no answer from the BMC within 5 s";
  server.min_power = Watts{248.0};
  server.max_power = Watts{468.0};
  server.period = Seconds{5.0};
  server.mean_window = Seconds{1.0};
  server.degraded.push_back({120.0, 131.5, "no answer from the BMC within 5 s"});
  m.server = server;
  PhaseTracker t;
  for (int e = 0; e < epochs; ++e) {
    const double start = 10.0 + 40.0 * e;
    const double length = 30.0 + (e % 3);  // lengths differ: a standard deviation
    t.begin("epoch", start);
    t.begin("train", start);
    t.end("train", start + length - 5.0);
    t.begin("eval", start + length - 5.0);
    t.end("epoch", start + length);
  }
  t.begin("export", 40.0 * epochs + 12.0);
  t.finish(duration);
  m.phases = t.phases();
  for (const double b : t.boundaries()) m.boundaries.push_back(checkpoint_at(b));
  m.marks.accepted = static_cast<std::uint64_t>(4 * epochs + 1);
  m.marks.unmatched_ends = 1;
  m.marks.repeated_begins = 2;

  MethodInputs& in = s.inputs;
  in.estimate.cpu.model = "Intel(R) Xeon(R) Silver 4110 CPU @ 2.10GHz";
  in.estimate.cpu.watts_per_core = 10.625;
  in.estimate.cpu.source = "embedded table";
  in.estimate.cores_source = "CPU time of the command ÷ wall time";
  in.estimate.memory_gb = 11.3;
  in.estimate.memory_source = "peak resident memory of the command";
  in.estimate.gpus = 1;
  in.estimate.gpu.model = "NVIDIA H100 80GB HBM3";
  in.estimate.gpu.watts = 700.0;
  in.estimate.gpu.source = "embedded table";
  in.gpu_selection.selected = {true, false};
  in.gpu_selection.reasons = {"CUDA_VISIBLE_DEVICES=0", "not in CUDA_VISIBLE_DEVICES"};
  in.gpu_selection.rule = "CUDA_VISIBLE_DEVICES=0";
  IdleBaseline idle;
  idle.host = "node07";
  idle.measured_at = "2026-11-19T22:00:00Z";
  idle.duration_s = 60.0;
  idle.how = "wattprint idle --duration 60";
  idle.busy_cores = 0.12;
  idle.server_w = 156.0;
  idle.server_source = "redfish https://bmc-node07.example.org";  // not the run's: an extra assumption
  idle.cpu_package_w = 41.5;
  idle.dram_w = 7.25;
  idle.gpus.push_back({"NVIDIA H100 80GB HBM3", "GPU-6f1c2a4e", 61.0});
  idle.stored_in = "/var/lib/wattprint/idle/node07.json";
  in.idle_baseline = idle;
  return s;
}

RunReport report_of(const Scenario& s) {
  RunReport r;
  r.tool_version = "0.6.0";
  r.run_id = "5b0c7c64-2d1e-4f4e-9a57-0c1d2e3f4a5b";
  r.tags = {{"gpu", "t4"}, {"model", "resnet50"}, {"note", "with spaces, \"quotes\""}};
  r.command = {"python", "train.py", "--data", "/scratch/my data", "it's"};
  r.exit_code = 0;
  r.started_at = "2026-11-20T09:14:03Z";
  r.duration_s = s.m.duration_s;
  r.cpu_time_s = s.m.tree_cpu_s;
  r.peak_rss_bytes = s.m.peak_tree_rss_bytes;
  r.host = {"node07", "Intel(R) Xeon(R) Silver 4110 CPU @ 2.10GHz", 32, 2, 8, 187.6};
  r.footprint.pue = 1.65;
  r.footprint.pue_source = "config /etc/wattprint/config.toml";
  r.footprint.carbon_intensity = {57.1, "ADEME 2018", "FR", 2018, "--country FR"};
  r.measured.cpu = s.m.package;
  r.measured.dram = s.m.dram;
  r.measured.gpu = s.m.gpus[0].energy;
  r.measured.server = s.m.server->energy;
  r.measured.psys = s.m.psys;
  std::string below_idle;
  r.methods = compute_methods(s.m, s.inputs, &below_idle);
  r.sensor_statuses = {
      {"rapl.package-0", SensorStatus::State::Ok, "/sys/class/powercap/intel-rapl:0/energy_uj", "", ""},
      {"rapl.package-0.dram", SensorStatus::State::Ok, "/sys/class/powercap/intel-rapl:0:0/energy_uj", "",
       ""},
      {"rapl.package-1", SensorStatus::State::Unreadable, "/sys/class/powercap/intel-rapl:1/energy_uj",
       "readable by root only", "run as root, or: sudo chmod o+r /sys/class/powercap/*/energy_uj"},
      {"rapl.package-1.dram", SensorStatus::State::Unreadable, "/sys/class/powercap/intel-rapl:1:0/energy_uj",
       "readable by root only", "run as root, or: sudo chmod o+r /sys/class/powercap/*/energy_uj"},
      {"rapl.psys", SensorStatus::State::Absent, "/sys/class/powercap/intel-rapl:2", "no psys zone", ""},
      {"nvml", SensorStatus::State::Error, "libnvidia-ml.so.1", "NVML_ERROR_UNKNOWN", "reset the GPU"},
      {"nvml.gpu-0", SensorStatus::State::Ok, "NVML device 0", "", ""},
  };
  SensorEnergy package;
  package.info.name = "rapl.package-0";
  package.info.component = Component::CpuPackage;
  package.energy = s.m.package;
  package.degraded.push_back({12.25, 13.5, "Input/output error"});
  package.degraded.push_back({70.0, 70.75, "Input/output error"});
  SensorEnergy dram;
  dram.info.name = "rapl.package-0.dram";
  dram.info.component = Component::Dram;
  dram.energy = s.m.dram;
  SensorEnergy gpu;
  gpu.info.name = "nvml.gpu-0";
  gpu.info.component = Component::Gpu;
  gpu.energy = s.m.gpus[0].energy;
  r.sensor_energies = {package, dram, gpu};
  r.gpus = s.m.gpus;
  r.gpu_selection = s.inputs.gpu_selection;
  r.server = s.m.server;
  r.server->boundary_energy_j.clear();
  r.idle_baseline = s.inputs.idle_baseline;
  r.warnings = {"the server did not answer 2 of 375 readings: its power was integrated across the gaps",
                "nvml.gpu-0 ran at its power limit (700 W) for 12% of the run"};
  if (!below_idle.empty()) r.warnings.push_back(below_idle);
  r.interval_s = 1.0;
  r.counter_period_s = 0.5;
  r.monitor = MonitorCost{4.82, 14811136};
  r.config_files = {"/etc/wattprint/config.toml", "/home/u/.config/wattprint/config.toml"};
  r.phases = compute_phase_results(s.m, s.inputs);
  r.phases.malformed_marks = 3;
  Timeline timeline;
  timeline.series = {{"package-0", "package", "measured", "powercap intel-rapl:0"},
                     {"server", "server", "measured", "ipmi-dcmi"}};
  timeline.start_s = {0.0, 64.0, 128.0};
  timeline.end_s = {64.0, 128.0, s.m.duration_s};
  timeline.mean_w = {{140.0, 141.5, std::nullopt}, {420.0, std::nullopt, 419.0}};
  timeline.min_w = {{120.0, 130.0, std::nullopt}, {400.0, std::nullopt, 401.0}};
  timeline.max_w = {{150.0, 160.0, std::nullopt}, {440.0, std::nullopt, 439.0}};
  timeline.cpu_cores = {3.0, 2.9, 3.1};
  r.timeline = timeline;
  return r;
}

/// A 100-s run with 3 epochs: the fixture of tests/unit/summary_golden_test.cpp (tests/golden/
/// summary_phases.txt and phases_report.json), built the same way.
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

TEST(ReportFromJson, RichMeasuredRunWithNestedPhasesRoundTrips) {
  const RunReport r = report_of(rich_scenario(3));
  // The fixture covers what the summary shows: all five methods, assumptions out of alphabetical order,
  // sensors not usable with a shared remedy, degraded sensors and server, GPUs in and out of the run.
  const std::string text = render_summary(r);
  ASSERT_NE(text.find("idle baseline source"), std::string::npos) << text;
  ASSERT_NE(text.find("power sampled every 5 s"), std::string::npos) << text;
  ASSERT_NE(text.find("sensors not usable"), std::string::npos) << text;
  ASSERT_NE(text.find("server (ipmi-dcmi) from 120.00 s"), std::string::npos) << text;
  ASSERT_NE(text.find("left out nvml.gpu-1"), std::string::npos) << text;
  ASSERT_NE(text.find("outside phases (4)"), std::string::npos) << text;
  expect_round_trip(r);
  const RunReport back = run_report_from_json(to_json(r));
  ASSERT_EQ(back.methods.size(), 5U);
  for (std::size_t k = 0; k < 5; ++k) EXPECT_EQ(back.methods[k].name, method_names()[k]);
  EXPECT_EQ(back.methods[0].assumptions, r.methods[0].assumptions);
  EXPECT_EQ(back.run_id, r.run_id);
  EXPECT_EQ(back.tags, r.tags);
  EXPECT_EQ(back.methods[2].assumptions, r.methods[2].assumptions);
  EXPECT_EQ(back.methods[4].assumptions, r.methods[4].assumptions);
  ASSERT_EQ(back.phases.phases.size(), r.phases.phases.size());
  EXPECT_EQ(back.phases.phases[1].phase.parent, std::optional<std::size_t>(0));
  EXPECT_EQ(back.phases.phases[1].phase.depth, 1U);
  EXPECT_EQ(back.phases.phases[2].phase.ended_by, r.phases.phases[2].phase.ended_by);
  EXPECT_EQ(back.phases.gap_count, r.phases.gap_count);
  EXPECT_EQ(back.phases.outside_s, r.phases.outside_s);
  ASSERT_EQ(back.phases.outside_total.size(), r.phases.outside_total.size());
  for (std::size_t k = 0; k < r.phases.outside_total.size(); ++k) {
    EXPECT_EQ(back.phases.outside_total[k].available, r.phases.outside_total[k].available);
    EXPECT_EQ(back.phases.outside_total[k].it_energy.value, r.phases.outside_total[k].it_energy.value);
  }
  ASSERT_EQ(back.phases.summary.size(), 4U);  // epoch, train, eval, export: order of first appearance
  EXPECT_EQ(back.phases.summary[0].name, "epoch");
  EXPECT_EQ(back.phases.summary[2].name, "eval");
  EXPECT_EQ(back.phases.summary[3].name, "export");
  EXPECT_EQ(back.phases.summary[0].count, 3U);
  EXPECT_EQ(back.phases.summary[0].methods[0].provenance, Provenance::Modelled);
  EXPECT_NEAR(*back.phases.summary[0].methods[3].sd_j, *r.phases.summary[0].methods[3].sd_j, 1e-6);
  EXPECT_EQ(back.phases.marks.unmatched_ends, 1U);
  EXPECT_EQ(back.phases.malformed_marks, 3U);
  EXPECT_EQ(back.sensor_statuses[0].state, SensorStatus::State::Ok);  // "degraded" in the JSON
  EXPECT_EQ(back.sensor_energies[0].degraded.size(), 2U);
  EXPECT_EQ(back.gpus[1].device.family, "nvml");
  EXPECT_FALSE(back.gpus[1].device.energy_is_counter);
  ASSERT_TRUE(back.idle_baseline);
  EXPECT_EQ(back.idle_baseline->stored_in, "/var/lib/wattprint/idle/node07.json");
  ASSERT_TRUE(back.timeline);
  EXPECT_FALSE(back.timeline->mean_w[0][2]);
}

TEST(ReportFromJson, MoreThanTwelveTopLevelPhasesAreElidedTheSameWay) {
  const RunReport r = report_of(rich_scenario(14));
  ASSERT_NE(render_summary(r).find("… 3 more phases …"), std::string::npos) << render_summary(r);
  expect_round_trip(r);
}

TEST(ReportFromJson, MoreThanTenGpusKeepTheirAssumptionOrder) {
  Scenario s = rich_scenario(1);
  // 12 GPUs, all in the run: "nvml.gpu-10" sorts before "nvml.gpu-2" in the JSON object.
  for (unsigned i = 2; i < 12; ++i) {
    GpuEnergy gpu = s.m.gpus[0];
    gpu.device.index = i;
    s.m.gpus.push_back(gpu);
  }
  s.inputs.gpu_selection.selected.assign(12, true);
  s.inputs.gpu_selection.reasons.assign(12, "--gpus all");
  s.inputs.gpu_selection.rule = "--gpus all";
  s.m.final_checkpoint.gpu_energy.resize(12, Joules{1.0});
  s.m.final_checkpoint.gpu_attributed.resize(12, Joules{1.0});
  const RunReport r = report_of(s);
  const std::string text = render_summary(r);
  ASSERT_LT(text.find("nvml.gpu-2:"), text.find("nvml.gpu-10:")) << text;
  expect_round_trip(r);
}

TEST(ReportFromJson, UnavailableMethodsAndAFailedCommand) {
  RunReport r;
  r.tool_version = "0.6.0";
  r.command = {"./missing-binary"};
  r.exit_code = 127;
  r.error = "No such file or directory";
  r.started_at = "2026-11-20T09:14:03Z";
  r.duration_s = 0.004;
  r.footprint.pue = 1.0;
  r.footprint.pue_source = "default: IT equipment only";
  r.footprint.carbon_intensity = {475.0, "Our World in Data (Ember), 2023", "WORLD", 2023, "default"};
  RunMeasurement m;
  MethodInputs in;
  in.not_started = "the command did not start";
  in.rapl_reason = "no readable RAPL package counter (run as root)";
  in.gpu_reason = "no readable GPU";
  in.server_reason = "no usable server power source";
  in.no_baseline_reason = "no idle baseline: run `wattprint idle` first";
  r.methods = compute_methods(m, in);
  r.sensor_statuses = {{"rapl", SensorStatus::State::Absent, "/sys/class/powercap", "no RAPL on this machine",
                        "use a machine with Intel or AMD RAPL"}};
  expect_round_trip(r);
  const std::string text = render_summary(run_report_from_json(to_json(r)));
  EXPECT_NE(text.find("could not start (No such file or directory), exit status 127"), std::string::npos)
      << text;
  EXPECT_NE(text.find("unavailable: no usable server power source"), std::string::npos) << text;

  // Killed by a signal: no CPU time or memory known, no phases.
  r.error.clear();
  r.exit_code = 137;
  r.signal = 9;
  r.cpu_time_s.reset();
  expect_round_trip(r);
  EXPECT_NE(render_summary(run_report_from_json(to_json(r))).find("killed by signal 9 (exit status 137)"),
            std::string::npos);
  // No exit status at all.
  r.exit_code.reset();
  r.signal.reset();
  expect_round_trip(r);
}

TEST(ReportFromJson, SuspendSpansRoundTrip) {
  RunReport r;
  r.tool_version = "0.6.0";
  r.command = {"./train"};
  r.exit_code = 0;
  r.started_at = "2026-11-20T09:14:03Z";
  r.duration_s = 120.0;
  r.suspended = {{12.25, 30.5}, {80.0, 2.0}};
  for (const SuspendSpan& span : r.suspended) r.warnings.push_back(suspend_warning(span));
  expect_round_trip(r);
  const json j = to_json(r);
  ASSERT_EQ(j["suspended"].size(), 2U);
  EXPECT_DOUBLE_EQ(j["suspended"][0]["at_s"].get<double>(), 12.25);
  EXPECT_DOUBLE_EQ(j["suspended"][0]["duration_s"].get<double>(), 30.5);
  const RunReport back = run_report_from_json(j);
  ASSERT_EQ(back.suspended.size(), 2U);
  EXPECT_DOUBLE_EQ(back.suspended[1].at_s, 80.0);
  EXPECT_DOUBLE_EQ(back.suspended[1].duration_s, 2.0);
  const std::string text = render_summary(back);
  EXPECT_NE(
      text.find("warning: the machine was suspended for 30.5 s at t=12.2 s; that time is not counted as "
                "running and its energy is not billed"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("machine suspended (not running time; its energy is not billed):\n    at 12.25 s for "
                      "30.5 s\n    at 80.00 s for 2.0 s"),
            std::string::npos)
      << text;
  // Reports written before suspends were recorded have no "suspended": none.
  json old = j;
  old.erase("suspended");
  EXPECT_TRUE(run_report_from_json(old).suspended.empty());
  old["suspended"] = json::array({{{"at_s", "soon"}}});
  EXPECT_THROW(run_report_from_json(old), std::runtime_error);
}

TEST(ReportFromJson, Estimate) {
  RunReport r;
  r.kind = "estimate";
  r.tool_version = "0.6.0";
  r.started_at = "2026-11-20T09:14:03Z";
  r.duration_s = 7200.0;
  r.footprint.pue = 1.4;
  r.footprint.pue_source = "--pue";
  r.footprint.carbon_intensity = {380.0, "UBA 2022", "DE", 2022, "--country DE"};
  EstimateInputs in;
  in.runtime = Seconds{7200.0};
  in.cores_used = 16.0;
  in.cores_source = "--cores";
  in.cpu.watts_per_core = 12.0;
  in.cpu.source = "Green Algorithms default";
  in.memory_gb = 64.0;
  in.memory_source = "--memory-gb (booked)";
  in.gpus = 2;
  in.gpu.watts = 300.0;
  in.gpu.source = "--gpu-watts";
  r.methods.push_back(estimate_method(in));
  for (const char* name : {"process", "gpu", "server", "server-minus-idle"}) {
    MethodResult m;
    m.name = name;
    m.reason = "an estimate measures nothing";
    r.methods.push_back(m);
  }
  expect_round_trip(r);
  const RunReport back = run_report_from_json(to_json(r));
  EXPECT_EQ(back.kind, "estimate");
  EXPECT_EQ(back.methods[0].assumptions.back().first, "GPUs");
}

TEST(ReportFromJson, UnknownMethodsComeAfterTheFive) {
  RunReport r = run_with_epochs();
  MethodResult extra;
  extra.name = "analytic";
  extra.available = true;
  extra.provenance = Provenance::Modelled;
  extra.it_energy = Joules{1234.5};
  extra.assumptions = {{"zeta", "1"}, {"alpha", "2"}};
  r.methods.push_back(extra);
  const RunReport back = run_report_from_json(to_json(r));
  ASSERT_EQ(back.methods.size(), 6U);
  EXPECT_EQ(back.methods[5].name, "analytic");
  // Unknown assumption names: the JSON's order (alphabetical).
  EXPECT_EQ(back.methods[5].assumptions.front().first, "alpha");
  expect_same_json(to_json(r), to_json(back));
}

TEST(ReportFromJson, ReproducesTheGoldenSummary) {
  const std::string golden = read_text(golden_path("summary_phases.txt"));
  const RunReport r = run_with_epochs();
  ASSERT_EQ(render_summary(r), golden) << "the fixture of summary_golden_test.cpp changed: update it here";
  EXPECT_EQ(render_summary(run_report_from_json(to_json(r))), golden);
  // The golden phases (phases_report.json) put in place of the run's own give the same summary.
  json j = to_json(r);
  for (const char* key : {"phases", "between_phases", "phase_summary", "phase_marks"}) j.erase(key);
  const json phases = golden_json("phases_report.json");
  for (const auto& [key, value] : phases.items()) j[key] = value;
  EXPECT_EQ(render_summary(run_report_from_json(j)), golden);
}

TEST(ReportFromJson, GoldenReportWithPhasesAndTimeline) {
  const json j = golden_json("report_phases.json");
  const RunReport r = run_report_from_json(j);
  const std::string text = render_summary(r);
  // Numbers from the file, formatted by hand: process 406932.9016 J = 0.1130 kWh IT, 0.1865 kWh with PUE
  // 1.65, 10.6498 g; the server's 373 readings between 248 and 468 W; epoch 1 lasted 602.6 s.
  EXPECT_NE(text.find("wattprint: python train.py"), std::string::npos) << text;
  EXPECT_NE(text.find("PUE 1.65 (--pue)"), std::string::npos) << text;
  EXPECT_NE(text.find("carbon intensity 57.1 gCO2e/kWh: ADEME 2018 [--carbon-intensity ADEME-2018-FR]"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  process            measured          0.1130         0.1865      10.6498"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("373 readings, 2 failed (last: no answer from the BMC within 5 s), 248–468 W"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("epoch 1                 10m 03s"), std::string::npos) << text;
  // epoch mean: 0.03809597512 kWh ± 0.0002402520161 for the estimate, as stored.
  EXPECT_NE(text.find("epoch mean (×3)"), std::string::npos) << text;
  EXPECT_NE(text.find("0.0381 ± 0.000240"), std::string::npos) << text;
  EXPECT_NE(
      text.find("in run  nvml.gpu-0 Tesla T4: 113.535 kJ, CUDA_VISIBLE_DEVICES=0, mean utilisation 81%"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("rapl.psys: no platform (psys) zone on this machine"), std::string::npos) << text;
  ASSERT_TRUE(r.timeline);
  EXPECT_EQ(r.timeline->start_s.size(), j["timeline"]["start_s"].size());
  EXPECT_EQ(r.phases.phases.size(), j["phases"].size());
  EXPECT_EQ(r.phases.gap_count, j["between_phases"].size());
  // Writing it again gives the file back, save what to_json derives differently from a hand-made fixture.
  const json again = to_json(r);
  for (const char* key : {"methods", "measured", "gpus", "server", "idle_baseline", "timeline", "phases",
                          "between_phases", "phase_summary", "phase_marks", "carbon_intensity", "host"}) {
    SCOPED_TRACE(key);
    expect_same_json(j[key], again[key], key, true, true);
  }
}

TEST(ReportFromJson, GoldenSchemaOneReport) {
  const json j = golden_json("report_v1.json");
  ASSERT_EQ(j["schema_version"], 1);
  const RunReport r = run_report_from_json(j);
  EXPECT_TRUE(r.phases.phases.empty());
  EXPECT_FALSE(r.timeline);
  const std::string text = render_summary(r);
  EXPECT_EQ(text.find("per phase"), std::string::npos) << text;
  const double process_j = j["methods"]["process"]["it_energy_j"].get<double>();
  EXPECT_NE(text.find(fmt::format("  process            measured  {:>14} {:>14}",
                                  format_kwh(process_j / 3.6e6), format_kwh(process_j / 3.6e6 * 1.65))),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("duration 5m 00s"), std::string::npos) << text;
  EXPECT_NE(text.find("peak memory 11.30 GB"), std::string::npos) << text;
}

TEST(ReportFromJson, AbsentAndNullFieldsReadAsUnknown) {
  const RunReport r = run_report_from_json(json::object());
  EXPECT_EQ(r.kind, "run");
  EXPECT_FALSE(r.exit_code);
  EXPECT_TRUE(r.methods.empty());
  EXPECT_DOUBLE_EQ(r.footprint.pue, 1.0);
  const RunReport n =
      run_report_from_json(json{{"exit_code", nullptr},
                                {"cpu_time_s", nullptr},
                                {"server", nullptr},
                                {"timeline", nullptr},
                                {"idle_baseline", nullptr},
                                {"carbon_intensity", {{"region", nullptr}, {"year", nullptr}}}});
  EXPECT_FALSE(n.cpu_time_s);
  EXPECT_FALSE(n.server);
  EXPECT_FALSE(n.idle_baseline);
  EXPECT_EQ(n.footprint.carbon_intensity.year, 0);
  EXPECT_NO_THROW(render_summary(n));
}

std::string error_of(const json& j) {
  try {
    run_report_from_json(j);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ReportFromJson, WrongTypesNameTheField) {
  const json good = to_json(report_of(rich_scenario(2)));
  const auto with = [&](const json::json_pointer& at, const json& value) {
    json j = good;
    j[at] = value;
    return error_of(j);
  };
  EXPECT_EQ(error_of(json::array()), "report: expected a JSON object");
  EXPECT_EQ(with("/duration_s"_json_pointer, "long"), "report: duration_s: expected a number");
  EXPECT_EQ(with("/exit_code"_json_pointer, 1.5), "report: exit_code: expected an integer");
  EXPECT_EQ(with("/peak_memory_bytes"_json_pointer, -1),
            "report: peak_memory_bytes: expected a non-negative integer");
  EXPECT_EQ(with("/command/1"_json_pointer, 3), "report: command[1]: expected a string");
  EXPECT_EQ(with("/host"_json_pointer, "node07"), "report: host: expected an object");
  EXPECT_EQ(with("/carbon_intensity/g_per_kwh"_json_pointer, "57"),
            "report: carbon_intensity.g_per_kwh: expected a number");
  EXPECT_EQ(with("/methods/gpu/available"_json_pointer, "yes"),
            "report: methods.gpu.available: expected true or false");
  EXPECT_EQ(with("/methods/server/components/server_j"_json_pointer, "1"),
            "report: methods.server.components.server_j: expected a number");
  EXPECT_EQ(with("/methods/estimate/assumptions/runtime"_json_pointer, 3),
            "report: methods.estimate.assumptions.runtime: expected a string");
  EXPECT_EQ(with("/methods/estimate/kind"_json_pointer, "guessed"),
            "report: methods.estimate.kind: expected \"measured\" or \"modelled\"");
  EXPECT_EQ(with("/sensors/2/status"_json_pointer, 0), "report: sensors[2].status: expected a string");
  EXPECT_EQ(with("/sensors/0/degraded_spans/0/start_s"_json_pointer, "12"),
            "report: sensors[0].degraded_spans[0].start_s: expected a number");
  EXPECT_EQ(with("/gpus/0/in_run"_json_pointer, 1), "report: gpus[0].in_run: expected true or false");
  EXPECT_EQ(with("/server/readings"_json_pointer, "373"),
            "report: server.readings: expected a non-negative integer");
  EXPECT_EQ(with("/warnings"_json_pointer, "one"), "report: warnings: expected an array");
  EXPECT_EQ(with("/phases/1/parent"_json_pointer, "0"),
            "report: phases[1].parent: expected a non-negative integer");
  EXPECT_EQ(with("/phases/0/methods/server/it_energy_j"_json_pointer, true),
            "report: phases[0].methods.server.it_energy_j: expected a number");
  EXPECT_EQ(with("/between_phases/0"_json_pointer, 5), "report: between_phases[0]: expected an object");
  EXPECT_EQ(with("/phase_summary/epoch/server/sd_kwh"_json_pointer, "0.1"),
            "report: phase_summary.epoch.server.sd_kwh: expected a number");
  EXPECT_EQ(with("/phase_marks/accepted"_json_pointer, -3),
            "report: phase_marks.accepted: expected a non-negative integer");
  EXPECT_EQ(with("/schema_version"_json_pointer, 3).rfind("report: schema_version: 3 is not one", 0), 0U);
  EXPECT_EQ(with("/idle_baseline/server_w"_json_pointer, -5.0).rfind("report: idle_baseline: ", 0), 0U);
  EXPECT_EQ(with("/timeline/start_s"_json_pointer, 1).rfind("report: timeline: ", 0), 0U);
  // An integral float is an integer; a null is unknown.
  EXPECT_EQ(run_report_from_json(json::parse(R"({"exit_code": 2.0, "signal": null})")).exit_code, 2);
}

}  // namespace
}  // namespace wattprint
