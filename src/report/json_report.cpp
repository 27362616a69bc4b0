// JSON rendering of a run report; energies in joules and kWh, CO2 in grams.
#include "report/json_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <stdexcept>

#include "platform/text_file.hpp"

namespace wattprint {

using nlohmann::json;

std::string iso8601_utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

namespace {

json optional_int(const std::optional<int>& value) { return value ? json(*value) : json(nullptr); }

/// The batch job as the report records it: what the scheduler said, the job's cgroup, and how the run
/// attributed machine-wide energy (the job's cgroup or the command's process tree).
json job_to_json(const BatchJob& job) {
  return {{"scheduler", job.scheduler},
          {"job_id", job.job_id},
          {"step_id", job.step_id},
          {"array_job_id", job.array_job_id},
          {"array_task_id", job.array_task_id},
          {"name", job.name},
          {"user", job.user},
          {"account", job.account},
          {"partition", job.partition},
          {"nodes", job.nodes},
          {"task_count", optional_int(job.task_count)},
          {"task_rank", optional_int(job.task_rank)},
          {"local_rank", optional_int(job.local_rank)},
          {"gpus", job.gpus ? json(*job.gpus) : json(nullptr)},
          {"gpus_source", job.gpus_source},
          {"cgroup", job.cgroup ? json(*job.cgroup) : json(nullptr)},
          {"attribution", job.attribution}};
}

json joules_or_null(const std::optional<Joules>& energy) {
  return energy ? json(energy->value) : json(nullptr);
}

json method_json(const MethodResult& method, const Footprint& footprint) {
  json j;
  j["available"] = method.available;
  j["reason"] = method.available ? json(nullptr) : json(method.reason);
  j["kind"] = method.available ? json(provenance_name(method.provenance)) : json(nullptr);
  j["basis"] = method.basis.empty() ? json(nullptr) : json(method.basis);
  if (method.available) {
    j["it_energy_j"] = method.it_energy.value;
    j["energy_kwh"] = footprint.kwh_with_pue(method.it_energy);
    j["co2_g"] = footprint.co2_grams(method.it_energy);
  } else {
    j["it_energy_j"] = nullptr;
    j["energy_kwh"] = nullptr;
    j["co2_g"] = nullptr;
  }
  j["components"] = {{"cpu_j", joules_or_null(method.components.cpu)},
                     {"dram_j", joules_or_null(method.components.dram)},
                     {"memory_j", joules_or_null(method.components.memory)},
                     {"gpu_j", joules_or_null(method.components.gpu)},
                     {"server_j", joules_or_null(method.components.server)}};
  json assumptions = json::object();
  for (const auto& [name, value] : method.assumptions) assumptions[name] = value;
  j["assumptions"] = assumptions;
  return j;
}

/// A method over a phase: numbers only (the run's entry holds basis and assumptions).
json span_method_json(const MethodResult& method, const Footprint& footprint) {
  json j = method_json(method, footprint);
  j.erase("basis");
  j.erase("assumptions");
  return j;
}

json span_methods_json(const std::vector<MethodResult>& methods, const Footprint& footprint) {
  json j = json::object();
  for (const MethodResult& method : methods) j[method.name] = span_method_json(method, footprint);
  return j;
}

void add_phases(json& j, const RunReport& r) {
  const PhaseResults& p = r.phases;
  const Footprint& f = r.footprint;
  json phases = json::array();
  const std::size_t listed = std::min(p.phases.size(), kMaxListedPhases);
  for (std::size_t k = 0; k < listed; ++k) {
    const PhaseResult& phase = p.phases[k];
    std::string path = phase.phase.label();
    for (std::optional<std::size_t> up = phase.phase.parent; up && *up < p.phases.size();
         up = p.phases[*up].phase.parent) {
      path.insert(0, p.phases[*up].phase.label() + "/");
    }
    phases.push_back({{"name", phase.phase.name},
                      {"index", phase.phase.index},
                      {"label", phase.phase.label()},
                      {"path", path},
                      {"depth", phase.phase.depth},
                      {"parent", phase.phase.parent ? json(*phase.phase.parent) : json(nullptr)},
                      {"start_s", phase.phase.start_s},
                      {"end_s", phase.phase.end_s},
                      {"duration_s", phase.phase.end_s - phase.phase.start_s},
                      {"ended_by", phase.phase.ended_by},
                      {"methods", span_methods_json(phase.methods, f)}});
  }
  j["phases"] = std::move(phases);
  json between = json::array();
  for (std::size_t k = 0; k < std::min(p.between.size(), kMaxListedPhases); ++k) {
    const BetweenPhases& gap = p.between[k];
    between.push_back({{"after", gap.after.empty() ? json(nullptr) : json(gap.after)},
                       {"before", gap.before.empty() ? json(nullptr) : json(gap.before)},
                       {"start_s", gap.start_s},
                       {"end_s", gap.end_s},
                       {"duration_s", gap.end_s - gap.start_s},
                       {"methods", span_methods_json(gap.methods, f)}});
  }
  j["between_phases"] = std::move(between);
  json summary = json::object();
  const auto kwh = [&](double joules) { return f.kwh_with_pue(Joules{joules}); };
  const auto co2 = [&](double joules) { return f.co2_grams(Joules{joules}); };
  for (const PhaseNameSummary& name : p.summary) {
    json methods = json::object();
    for (const PhaseMethodStats& s : name.methods) {
      methods[s.method] = {{"count", s.count},
                           {"mean_kwh", kwh(s.mean_j)},
                           {"sd_kwh", s.sd_j ? json(kwh(*s.sd_j)) : json(nullptr)},
                           {"min_kwh", kwh(s.min_j)},
                           {"max_kwh", kwh(s.max_j)},
                           {"mean_co2_g", co2(s.mean_j)},
                           {"sd_co2_g", s.sd_j ? json(co2(*s.sd_j)) : json(nullptr)},
                           {"min_co2_g", co2(s.min_j)},
                           {"max_co2_g", co2(s.max_j)},
                           {"mean_duration_s", s.mean_duration_s}};
    }
    summary[name.name] = std::move(methods);
  }
  j["phase_summary"] = std::move(summary);
  j["phase_marks"] = {{"accepted", p.marks.accepted},
                      {"dropped", p.marks.dropped},
                      {"malformed", p.malformed_marks},
                      {"unmatched_ends", p.marks.unmatched_ends},
                      {"ignored_begins", p.marks.ignored_begins},
                      {"repeated_begins", p.marks.repeated_begins},
                      {"phases", std::max(p.phase_count, p.phases.size())},
                      {"phases_listed", listed}};
}

/// A merged report's nodes: each node's own run, as its report said (energies in IT joules, before PUE).
json nodes_json(const RunReport& r) {
  json nodes = json::array();
  for (const NodeRun& node : r.nodes) {
    json methods = json::object();
    for (const NodeMethod& m : node.methods) {
      methods[m.method] = {{"available", m.available},
                           {"kind", m.provenance ? json(provenance_name(*m.provenance)) : json(nullptr)},
                           {"it_energy_j", m.it_energy ? json(m.it_energy->value) : json(nullptr)},
                           {"reason", m.reason.empty() ? json(nullptr) : json(m.reason)}};
    }
    nodes.push_back({{"host", node.host},
                     {"run_id", node.run_id.empty() ? json(nullptr) : json(node.run_id)},
                     {"source", node.source},
                     {"started_at", node.started_at},
                     {"duration_s", node.duration_s},
                     {"exit_code", node.exit_code ? json(*node.exit_code) : json(nullptr)},
                     {"signal", node.signal ? json(*node.signal) : json(nullptr)},
                     {"cpu_time_s", node.cpu_time_s ? json(*node.cpu_time_s) : json(nullptr)},
                     {"methods", methods}});
  }
  return nodes;
}

}  // namespace

json to_json(const RunReport& r) {
  json j;
  j["schema_version"] = kReportSchemaVersion;
  j["kind"] = r.kind;
  if (!r.run_id.empty()) j["run_id"] = r.run_id;
  j["tags"] = r.tags;
  j["tool"] = {{"name", "wattprint"}, {"version", r.tool_version}};
  j["command"] = r.command;
  j["exit_code"] = r.exit_code ? json(*r.exit_code) : json(nullptr);
  j["signal"] = r.signal ? json(*r.signal) : json(nullptr);
  if (!r.error.empty()) j["error"] = r.error;
  j["started_at"] = r.started_at;
  j["duration_s"] = r.duration_s;
  j["cpu_time_s"] = r.cpu_time_s ? json(*r.cpu_time_s) : json(nullptr);
  j["peak_memory_bytes"] = r.peak_rss_bytes ? json(*r.peak_rss_bytes) : json(nullptr);
  j["host"] = {{"hostname", r.host.hostname},
               {"cpu_model", r.host.cpu_model},
               {"logical_cpus", r.host.logical_cpus},
               {"sockets", r.host.sockets},
               {"cores_per_socket", r.host.cores_per_socket},
               {"memory_gb", r.host.memory_gb}};
  if (r.job) j["job"] = job_to_json(*r.job);  // absent outside a batch job
  j["pue"] = r.footprint.pue;
  j["pue_source"] = r.footprint.pue_source;
  const CarbonIntensity& ci = r.footprint.carbon_intensity;
  j["carbon_intensity"] = {{"g_per_kwh", ci.g_per_kwh},
                           {"source", ci.source},
                           {"region", ci.region.empty() ? json(nullptr) : json(ci.region)},
                           {"year", ci.year > 0 ? json(ci.year) : json(nullptr)},
                           {"selected_by", ci.selected_by}};
  j["measured"] = {{"cpu_j", joules_or_null(r.measured.cpu)},
                   {"dram_j", joules_or_null(r.measured.dram)},
                   {"gpu_j", joules_or_null(r.measured.gpu)},
                   {"server_j", joules_or_null(r.measured.server)},
                   {"psys_j", joules_or_null(r.measured.psys)}};
  json methods = json::object();
  for (const MethodResult& method : r.methods) methods[method.name] = method_json(method, r.footprint);
  j["methods"] = methods;

  json sensors = json::array();
  for (const SensorStatus& status : r.sensor_statuses) {
    json s{{"name", status.name},
           {"status", state_name(status.state)},
           {"path", status.path},
           {"reason", status.reason.empty() ? json(nullptr) : json(status.reason)},
           {"remedy", status.remedy.empty() ? json(nullptr) : json(status.remedy)},
           {"energy_j", nullptr},
           {"degraded_spans", json::array()}};
    for (const SensorEnergy& energy : r.sensor_energies) {
      if (energy.info.name != status.name) continue;
      s["energy_j"] = energy.energy.value;
      s["component"] = component_name(energy.info.component);
      s["counted_in_total"] = is_additive(energy.info.component);
      for (const DegradedSpan& span : energy.degraded) {
        s["degraded_spans"].push_back(
            {{"start_s", span.start_s}, {"end_s", span.end_s}, {"error", span.error}});
      }
      if (!energy.degraded.empty()) s["status"] = "degraded";
    }
    sensors.push_back(s);
  }
  j["sensors"] = sensors;
  json gpus = json::array();
  for (std::size_t i = 0; i < r.gpus.size(); ++i) {
    const GpuEnergy& gpu = r.gpus[i];
    const GpuDevice& d = gpu.device;
    const bool selected = i < r.gpu_selection.selected.size() && r.gpu_selection.selected[i];
    gpus.push_back({{"name", fmt::format("{}.gpu-{}", d.family, d.index)},
                    {"index", d.index},
                    {"model", d.name},
                    {"uuid", d.uuid},
                    {"pci_bus_id", d.pci_bus_id},
                    {"power_limit_w", d.power_limit ? json(d.power_limit->value) : json(nullptr)},
                    {"energy_method", d.energy_method},
                    {"kind", d.energy_is_counter ? "measured" : "measured (integrated power)"},
                    {"in_run", selected},
                    {"why", i < r.gpu_selection.reasons.size() ? r.gpu_selection.reasons[i] : ""},
                    {"energy_j", gpu.energy.value},
                    {"command_share_j", gpu.attributed.value},
                    {"used_by_command", gpu.used_by_command},
                    {"mean_utilisation_percent",
                     gpu.mean_utilisation_percent ? json(*gpu.mean_utilisation_percent) : json(nullptr)}});
  }
  j["gpus"] = gpus;
  j["gpu_selection"] = r.gpu_selection.rule.empty() ? json(nullptr) : json(r.gpu_selection.rule);
  if (r.server) {
    const ServerEnergy& s = *r.server;
    json spans = json::array();
    for (const DegradedSpan& span : s.degraded) {
      spans.push_back({{"start_s", span.start_s}, {"end_s", span.end_s}, {"error", span.error}});
    }
    const auto watts = [](const std::optional<Watts>& w) { return w ? json(w->value) : json(nullptr); };
    j["server"] = {{"source", s.family},
                   {"origin", s.origin},
                   {"kind", "measured (integrated power)"},
                   {"energy_j", joules_or_null(s.energy)},
                   {"readings", s.readings},
                   {"failed_readings", s.failures},
                   {"last_error", s.last_error.empty() ? json(nullptr) : json(s.last_error)},
                   {"period_s", s.period.count()},
                   {"mean_window_s", s.mean_window.count()},
                   {"min_power_w", watts(s.min_power)},
                   {"max_power_w", watts(s.max_power)},
                   {"degraded_spans", spans}};
  } else {
    j["server"] = nullptr;
  }
  if (r.idle_baseline) {
    j["idle_baseline"] = to_json(*r.idle_baseline);
    j["idle_baseline"].erase("schema_version");
    j["idle_baseline"]["stored_in"] =
        r.idle_baseline->stored_in.empty() ? json(nullptr) : json(r.idle_baseline->stored_in);
  } else {
    j["idle_baseline"] = nullptr;
  }
  j["warnings"] = r.warnings;
  json suspended = json::array();
  for (const SuspendSpan& span : r.suspended) {
    suspended.push_back({{"at_s", span.at_s}, {"duration_s", span.duration_s}});
  }
  j["suspended"] = suspended;
  j["sampling"] = {{"interval_s", r.interval_s}, {"counter_period_s", r.counter_period_s}};
  if (r.monitor) {
    j["monitor"] = {{"cpu_s", r.monitor->cpu_s}, {"peak_rss_bytes", r.monitor->peak_rss_bytes}};
  }
  j["config_files"] = r.config_files;
  add_phases(j, r);
  j["timeline"] = r.timeline ? timeline_to_json(*r.timeline) : json(nullptr);
  if (!r.nodes.empty()) j["nodes"] = nodes_json(r);
  return j;
}

void write_json_report(const RunReport& report, const std::filesystem::path& path) {
  write_file_atomically(path, to_json(report).dump(2) + "\n");
}

}  // namespace wattprint
