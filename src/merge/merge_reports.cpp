// Summing the reports of a multi-node job's nodes into one (docs/clusters.md).
#include "merge/merge_reports.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <functional>
#include <map>
#include <set>

#include "core/error.hpp"
#include "report/report_from_json.hpp"

namespace wattprint {

namespace {

struct Node {
  std::string source;
  std::string job_id;
  RunReport run;
  double start_s = 0.0;  ///< seconds since the epoch
};

std::string joined(const std::vector<std::string>& words, const char* separator = ", ") {
  std::string text;
  for (const std::string& word : words) {
    if (!text.empty()) text += separator;
    text += word;
  }
  return text;
}

/// "2026-11-27T05:44:53Z" (fractions of a second allowed) as seconds since the epoch; nullopt otherwise.
std::optional<double> epoch_seconds(const std::string& iso) {
  std::tm tm{};
  double seconds = 0.0;
  char zone = 0;
  if (std::sscanf(iso.c_str(), "%d-%d-%dT%d:%d:%lf%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &seconds, &zone) != 7 ||
      zone != 'Z') {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  tm.tm_sec = 0;
  const std::time_t minute = timegm(&tm);
  if (minute == static_cast<std::time_t>(-1)) return std::nullopt;
  return static_cast<double>(minute) + seconds;
}

std::string iso8601(double epoch) {
  const auto whole = static_cast<std::time_t>(std::floor(epoch));
  std::tm utc{};
  gmtime_r(&whole, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

std::optional<Joules> sum_present(const std::vector<std::optional<Joules>>& values) {
  std::optional<Joules> total;
  for (const auto& value : values) {
    if (value) total = Joules{total.value_or(Joules{0.0}).value + value->value};
  }
  return total;
}

/// A value every node has, summed; nullopt when any lacks it.
std::optional<Joules> sum_all(const std::vector<std::optional<Joules>>& values) {
  for (const auto& value : values) {
    if (!value) return std::nullopt;
  }
  return sum_present(values);
}

const MethodResult* find_method(const std::vector<MethodResult>& methods, const std::string& name) {
  for (const MethodResult& m : methods) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

/// One method summed over the nodes: `lists[k]` is node k's methods (the whole run's, or one phase's).
MethodResult sum_method(const std::string& name, const std::vector<const std::vector<MethodResult>*>& lists,
                        const std::vector<std::string>& hosts, bool with_basis) {
  MethodResult total;
  total.name = name;
  std::vector<std::string> unavailable;
  std::vector<std::string> measured;
  std::vector<std::string> modelled;
  std::vector<const MethodResult*> found;
  for (std::size_t k = 0; k < lists.size(); ++k) {
    const MethodResult* m = find_method(*lists[k], name);
    found.push_back(m);
    if (m == nullptr || !m->available) {
      unavailable.push_back(fmt::format("{} ({})", hosts[k], m == nullptr ? "not in its report" : m->reason));
    } else {
      (m->provenance == Provenance::Measured ? measured : modelled).push_back(hosts[k]);
    }
  }
  if (!unavailable.empty()) {
    total.available = false;
    total.reason = fmt::format("unavailable on {} of {} nodes, so not summed for the job: {}",
                               unavailable.size(), lists.size(), joined(unavailable, "; "));
    return total;
  }
  total.available = true;
  total.provenance = modelled.empty() ? Provenance::Measured : Provenance::Modelled;
  double it = 0.0;
  std::vector<std::optional<Joules>> cpu, dram, memory, gpu, server;
  for (const MethodResult* m : found) {
    it += m->it_energy.value;
    cpu.push_back(m->components.cpu);
    dram.push_back(m->components.dram);
    memory.push_back(m->components.memory);
    gpu.push_back(m->components.gpu);
    server.push_back(m->components.server);
  }
  total.it_energy = Joules{it};
  total.components = {sum_present(cpu), sum_present(dram), sum_present(memory), sum_present(gpu),
                      sum_present(server)};
  if (!with_basis) return total;
  std::set<std::string> bases;
  for (const MethodResult* m : found) bases.insert(m->basis);
  std::string basis = bases.size() == 1 ? *bases.begin() : std::string("differs per node (see each report)");
  basis = fmt::format("sum over {} nodes; {}", lists.size(), basis);
  if (!measured.empty() && !modelled.empty()) {
    basis = fmt::format("mixed: measured on {}, modelled on {}; counted as modelled; {}", joined(measured),
                        joined(modelled), basis);
  }
  total.basis = basis;
  // Assumptions: one value when every node made the same, else each node's.
  std::vector<std::string> keys;
  for (const MethodResult* m : found) {
    for (const auto& [key, value] : m->assumptions) {
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
    }
  }
  for (const std::string& key : keys) {
    std::vector<std::string> values;
    std::set<std::string> distinct;
    for (std::size_t k = 0; k < found.size(); ++k) {
      std::string value = "(none)";
      for (const auto& [name_, v] : found[k]->assumptions) {
        if (name_ == key) value = v;
      }
      values.push_back(fmt::format("{}: {}", hosts[k], value));
      distinct.insert(value);
    }
    total.assumptions.emplace_back(key, distinct.size() == 1 ? *distinct.begin() : joined(values, "; "));
  }
  return total;
}

std::vector<MethodResult> sum_methods(const std::vector<const std::vector<MethodResult>*>& lists,
                                      const std::vector<std::string>& hosts, bool with_basis) {
  std::vector<MethodResult> methods;
  for (const std::string& name : method_names())
    methods.push_back(sum_method(name, lists, hosts, with_basis));
  return methods;
}

std::string phase_path(const PhaseResults& p, std::size_t k) {
  std::string path = p.phases[k].phase.label();
  for (std::optional<std::size_t> up = p.phases[k].phase.parent; up && *up < p.phases.size();
       up = p.phases[*up].phase.parent) {
    path.insert(0, p.phases[*up].phase.label() + "/");
  }
  return path;
}

void merge_phases(const std::vector<Node>& nodes, const std::vector<std::string>& hosts, double job_start,
                  RunReport& merged) {
  // Paths in order of first appearance over the nodes; node k's phase at each path.
  std::vector<std::string> paths;
  std::vector<std::map<std::string, std::size_t>> at(nodes.size());
  for (std::size_t k = 0; k < nodes.size(); ++k) {
    const PhaseResults& p = nodes[k].run.phases;
    for (std::size_t i = 0; i < p.phases.size(); ++i) {
      const std::string path = phase_path(p, i);
      if (at[k].emplace(path, i).second && std::find(paths.begin(), paths.end(), path) == paths.end())
        paths.push_back(path);
    }
  }
  std::map<std::string, std::size_t> merged_position;
  for (const std::string& path : paths) {
    std::vector<std::string> missing;
    for (std::size_t k = 0; k < nodes.size(); ++k) {
      if (at[k].count(path) == 0) missing.push_back(hosts[k]);
    }
    if (!missing.empty()) {
      merged.warnings.push_back(fmt::format(
          "merge: phase '{}' is missing on {}: it is left out of the job's phases", path, joined(missing)));
      continue;
    }
    const std::size_t slash = path.rfind('/');
    std::optional<std::size_t> parent;
    if (slash != std::string::npos) {
      const auto up = merged_position.find(path.substr(0, slash));
      if (up == merged_position.end()) continue;  // its parent was left out, and so is it
      parent = up->second;
    }
    PhaseResult result;
    std::vector<const std::vector<MethodResult>*> lists;
    double start = std::numeric_limits<double>::max();
    double end = std::numeric_limits<double>::lowest();
    for (std::size_t k = 0; k < nodes.size(); ++k) {
      const PhaseResult& phase = nodes[k].run.phases.phases[at[k].at(path)];
      lists.push_back(&phase.methods);
      const double offset = nodes[k].start_s - job_start;
      start = std::min(start, offset + phase.phase.start_s);
      end = std::max(end, offset + phase.phase.end_s);
      if (k == 0) result.phase = phase.phase;
    }
    result.phase.parent = parent;
    result.phase.start_s = start;
    result.phase.end_s = end;
    result.phase.ended_by = "merged";
    result.methods = sum_methods(lists, hosts, false);
    merged_position[path] = merged.phases.phases.size();
    merged.phases.phases.push_back(std::move(result));
  }
  merged.phases.phase_count = merged.phases.phases.size();
  merged.phases.summary = summarise_phases(merged.phases.phases);
  for (const Node& node : nodes) {
    merged.phases.marks.accepted += node.run.phases.marks.accepted;
    merged.phases.marks.dropped += node.run.phases.marks.dropped;
    merged.phases.malformed_marks += node.run.phases.malformed_marks;
  }
}

std::string job_id_of(const nlohmann::json& report) {
  const auto job = report.find("job");
  if (job == report.end() || !job->is_object()) return "";
  const auto id = job->find("job_id");
  return id != job->end() && id->is_string() ? id->get<std::string>() : "";
}

/// A run id for the merged report that is the same whenever the same node runs are merged (so importing the
/// merged file twice is recognised), shaped like a UUID.
std::string merged_run_id(const std::vector<Node>& nodes) {
  std::vector<std::string> ids;
  ids.reserve(nodes.size());
  for (const Node& node : nodes) ids.push_back(node.run.run_id + "@" + node.run.host.hostname);
  std::sort(ids.begin(), ids.end());
  std::uint64_t a = 14695981039346656037ULL;
  std::uint64_t b = 1099511628211ULL * 31U;
  for (const std::string& id : ids) {
    for (const char c : id + "\n") {
      a = (a ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
      b = (b ^ static_cast<unsigned char>(c)) * 1099511628211ULL + 0x9e3779b97f4a7c15ULL;
    }
  }
  const std::string hex = fmt::format("{:016x}{:016x}", a, b);
  return fmt::format("{}-{}-8{}-{}-{}", hex.substr(0, 8), hex.substr(8, 4), hex.substr(13, 3),
                     hex.substr(16, 4), hex.substr(20, 12));
}

}  // namespace

RunReport merge_node_reports(const std::vector<NodeReport>& inputs, const MergeFootprint& footprint) {
  if (inputs.empty())
    throw UsageError("merge: no report given (usage: wattprint merge report-*.json --json job.json)");
  RunReport merged;
  merged.kind = "merged";
  std::vector<Node> nodes;
  std::set<std::string> seen_runs;
  for (const NodeReport& input : inputs) {
    Node node;
    node.source = input.source;
    node.job_id = job_id_of(input.json);
    try {
      node.run = run_report_from_json(input.json);
    } catch (const std::exception& e) {
      throw UsageError(fmt::format("merge: {}: {}", input.source, e.what()));
    }
    if (node.run.kind != "run") {
      throw UsageError(
          fmt::format("merge: {} is a report of kind '{}', not of one node's run: give the files "
                      "`wattprint run --json` wrote on each node",
                      input.source, node.run.kind));
    }
    const std::string key = node.run.run_id.empty() ? "file " + input.source : node.run.run_id;
    if (!seen_runs.insert(key).second) {
      merged.warnings.push_back(
          fmt::format("merge: {} is the same run ({}) as an earlier file: counted once", input.source, key));
      continue;
    }
    const auto start = epoch_seconds(node.run.started_at);
    if (!start) {
      throw UsageError(
          fmt::format("merge: {}: started_at '{}' is not an ISO 8601 UTC time: the wall span of the "
                      "job cannot be computed",
                      input.source, node.run.started_at));
    }
    node.start_s = *start;
    nodes.push_back(std::move(node));
  }
  std::vector<std::string> hosts;
  hosts.reserve(nodes.size());
  for (const Node& node : nodes) hosts.push_back(node.run.host.hostname);
  std::map<std::string, int> host_count;
  for (const std::string& host : hosts) ++host_count[host];
  for (const auto& [host, count] : host_count) {
    if (count > 1) {
      merged.warnings.push_back(
          fmt::format("merge: {} runs come from {}: if they ran at the same time their machine-wide methods "
                      "count the node "
                      "{} times (use one measurer per node: docs/clusters.md)",
                      count, host, count));
    }
  }

  // The footprint: one PUE and one grid intensity for the whole job.
  const Footprint& first = nodes.front().run.footprint;
  merged.footprint = first;
  std::vector<std::string> pues;
  std::vector<std::string> intensities;
  bool same_pue = true;
  bool same_intensity = true;
  for (std::size_t k = 0; k < nodes.size(); ++k) {
    const Footprint& f = nodes[k].run.footprint;
    pues.push_back(fmt::format("{} {}", hosts[k], f.pue));
    intensities.push_back(fmt::format("{} {} g/kWh", hosts[k], f.carbon_intensity.g_per_kwh));
    same_pue = same_pue && f.pue == first.pue;
    same_intensity = same_intensity && f.carbon_intensity.g_per_kwh == first.carbon_intensity.g_per_kwh;
  }
  if (footprint.pue) {
    merged.footprint.pue = *footprint.pue;
    merged.footprint.pue_source = footprint.pue_source;
  } else if (!same_pue) {
    throw UsageError(
        fmt::format("merge: the reports use different PUEs ({}): give --pue P to use one for the "
                    "whole job",
                    joined(pues)));
  }
  if (footprint.carbon_intensity) {
    merged.footprint.carbon_intensity = *footprint.carbon_intensity;
  } else if (!same_intensity) {
    throw UsageError(
        fmt::format("merge: the reports use different grid intensities ({}): give --country CODE "
                    "or --carbon-intensity G to use one for the whole job",
                    joined(intensities)));
  }

  std::set<std::string> job_ids;
  for (const Node& node : nodes) job_ids.insert(node.job_id.empty() ? "(none)" : node.job_id);
  if (job_ids.size() > 1) {
    merged.warnings.push_back(fmt::format("merge: the reports come from different jobs ({}): merged anyway",
                                          joined({job_ids.begin(), job_ids.end()})));
  }

  // Time: the wall span from the first start to the last end.
  double job_start = std::numeric_limits<double>::max();
  double job_end = std::numeric_limits<double>::lowest();
  for (const Node& node : nodes) {
    job_start = std::min(job_start, node.start_s);
    job_end = std::max(job_end, node.start_s + node.run.duration_s);
  }
  const RunReport& lead = nodes.front().run;
  merged.run_id = merged_run_id(nodes);
  merged.tags = lead.tags;
  merged.tool_version = lead.tool_version;
  merged.command = lead.command;
  merged.job = lead.job;
  if (merged.job) {
    merged.job->task_rank.reset();
    merged.job->local_rank.reset();
    merged.job->cgroup.reset();
  }
  merged.started_at = iso8601(job_start);
  merged.duration_s = job_end - job_start;
  merged.interval_s = lead.interval_s;
  merged.counter_period_s = lead.counter_period_s;

  std::optional<double> cpu_time = 0.0;
  std::set<std::string> models;
  std::set<std::string> files;
  for (std::size_t k = 0; k < nodes.size(); ++k) {
    const RunReport& r = nodes[k].run;
    if (r.command != lead.command) {
      merged.warnings.push_back(fmt::format("merge: {} ran a different command than {}", hosts[k], hosts[0]));
    }
    if (!merged.exit_code || (*merged.exit_code == 0 && r.exit_code && *r.exit_code != 0))
      merged.exit_code = r.exit_code;
    if (!merged.signal) merged.signal = r.signal;
    if (!r.error.empty()) merged.error += (merged.error.empty() ? "" : "; ") + hosts[k] + ": " + r.error;
    cpu_time = cpu_time && r.cpu_time_s ? std::optional<double>(*cpu_time + *r.cpu_time_s) : std::nullopt;
    if (r.peak_rss_bytes)
      merged.peak_rss_bytes = std::max(merged.peak_rss_bytes.value_or(0), *r.peak_rss_bytes);
    merged.host.logical_cpus += r.host.logical_cpus;
    merged.host.sockets += r.host.sockets;
    merged.host.memory_gb += r.host.memory_gb;
    merged.host.cores_per_socket = std::max(merged.host.cores_per_socket, r.host.cores_per_socket);
    models.insert(r.host.cpu_model);
    for (const std::string& w : r.warnings) merged.warnings.push_back(hosts[k] + ": " + w);
    for (const std::string& file : r.config_files) files.insert(file);
    for (SensorStatus status : r.sensor_statuses) {
      status.name = hosts[k] + ":" + status.name;
      merged.sensor_statuses.push_back(status);
    }
    for (SensorEnergy energy : r.sensor_energies) {
      energy.info.name = hosts[k] + ":" + energy.info.name;
      merged.sensor_energies.push_back(energy);
    }
    if (r.monitor) {
      MonitorCost cost = merged.monitor.value_or(MonitorCost{});
      cost.cpu_s += r.monitor->cpu_s;
      cost.peak_rss_bytes = std::max(cost.peak_rss_bytes, r.monitor->peak_rss_bytes);
      merged.monitor = cost;
    }
    NodeRun detail;
    detail.host = hosts[k];
    detail.run_id = r.run_id;
    detail.source = nodes[k].source;
    detail.started_at = r.started_at;
    detail.duration_s = r.duration_s;
    detail.exit_code = r.exit_code;
    detail.signal = r.signal;
    detail.cpu_time_s = r.cpu_time_s;
    for (const std::string& name : method_names()) {
      NodeMethod method;
      method.method = name;
      if (const MethodResult* m = find_method(r.methods, name)) {
        method.available = m->available;
        if (m->available) {
          method.provenance = m->provenance;
          method.it_energy = m->it_energy;
        } else {
          method.reason = m->reason;
        }
      } else {
        method.reason = "not in the node's report";
      }
      detail.methods.push_back(method);
    }
    merged.nodes.push_back(std::move(detail));
  }
  merged.cpu_time_s = cpu_time;
  merged.host.hostname = joined(hosts, ",");
  merged.host.cpu_model = joined({models.begin(), models.end()}, " / ");
  merged.config_files.assign(files.begin(), files.end());

  std::vector<std::optional<Joules>> cpu, dram, gpu, server, psys;
  std::vector<const std::vector<MethodResult>*> lists;
  for (const Node& node : nodes) {
    cpu.push_back(node.run.measured.cpu);
    dram.push_back(node.run.measured.dram);
    gpu.push_back(node.run.measured.gpu);
    server.push_back(node.run.measured.server);
    psys.push_back(node.run.measured.psys);
    lists.push_back(&node.run.methods);
  }
  merged.measured = {sum_all(cpu), sum_all(dram), sum_all(gpu), sum_all(server), sum_all(psys)};
  merged.methods = sum_methods(lists, hosts, true);
  for (const MethodResult& m : merged.methods) {
    if (m.available && m.basis.rfind("mixed:", 0) == 0) {
      merged.warnings.push_back(fmt::format("merge: method {} is {}", m.name,
                                            m.basis.substr(0, m.basis.find(';', m.basis.find(';') + 1))));
    }
  }
  merge_phases(nodes, hosts, job_start, merged);
  return merged;
}

}  // namespace wattprint
