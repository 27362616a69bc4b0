// Plain-text summary rendering with fmt; columns aligned for a terminal.
#include "report/summary_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>

namespace wattprint {

std::string format_duration(double seconds) {
  if (seconds < 60.0) return fmt::format("{:.2f} s", seconds);
  const auto total = static_cast<long long>(std::llround(seconds));
  const long long h = total / 3600;
  const long long m = (total % 3600) / 60;
  const long long s = total % 60;
  if (h == 0) return fmt::format("{}m {:02}s", m, s);
  return fmt::format("{}h {:02}m {:02}s", h, m, s);
}

std::string format_kwh(double kwh) {
  if (kwh == 0.0) return "0";
  if (std::fabs(kwh) >= 0.01) return fmt::format("{:.4f}", kwh);
  if (std::fabs(kwh) >= 1e-6) return fmt::format("{:.6f}", kwh);
  return fmt::format("{:.2e}", kwh);
}

std::string suspend_warning(const SuspendSpan& span) {
  return fmt::format(
      "the machine was suspended for {:.1f} s at t={:.1f} s; that time is not counted as running and its "
      "energy is not billed",
      span.duration_s, span.at_s);
}

namespace {

std::string format_grams(double grams) {
  if (grams == 0.0) return "0";
  if (std::fabs(grams) >= 100.0) return fmt::format("{:.1f}", grams);
  if (std::fabs(grams) >= 0.001) return fmt::format("{:.4f}", grams);
  return fmt::format("{:.2e}", grams);
}

std::string format_joules(double joules) {
  if (std::fabs(joules) >= 1e6) return fmt::format("{:.3f} MJ", joules / 1e6);
  if (std::fabs(joules) >= 1e3) return fmt::format("{:.3f} kJ", joules / 1e3);
  return fmt::format("{:.3f} J", joules);
}

std::string command_line(const std::vector<std::string>& command) {
  std::string text;
  for (const auto& word : command) {
    if (!text.empty()) text += ' ';
    const bool quote = word.empty() || word.find_first_of(" \t'\"$\\") != std::string::npos;
    text += quote ? "'" + word + "'" : word;
  }
  return text;
}

/// Top-level phases shown one by one in the summary; longer runs show the first and last ones.
constexpr std::size_t kPhasesShown = 12;

void render_phases(const RunReport& r, const std::function<void(const std::string&)>& line) {
  const PhaseResults& p = r.phases;
  if (p.phases.empty()) return;
  const Footprint& f = r.footprint;
  line("");
  line("  per phase (energy with PUE; all phases in --json, --html, `wattprint report`):");
  line(fmt::format("  {:<20} {:>10}  {:<18} {:<9} {:>20} {:>17}", "phase", "time", "method", "kind",
                   "kWh (mean ± sd)", "gCO2e"));
  const auto rows = [&](const std::string& label, double seconds, const std::vector<MethodResult>& methods) {
    bool first = true;
    for (const MethodResult& m : methods) {
      if (!m.available) continue;
      line(fmt::format("  {:<20} {:>10}  {:<18} {:<9} {:>20} {:>17}", first ? label : "",
                       first ? format_duration(seconds) : "", m.name, provenance_name(m.provenance),
                       format_kwh(f.kwh_with_pue(m.it_energy)), format_grams(f.co2_grams(m.it_energy))));
      first = false;
    }
    if (first) line(fmt::format("  {:<20} {:>10}  no method available", label, format_duration(seconds)));
  };
  std::vector<const PhaseResult*> top;
  for (const PhaseResult& phase : p.phases) {
    if (phase.phase.depth == 0) top.push_back(&phase);
  }
  for (std::size_t i = 0; i < top.size(); ++i) {
    if (top.size() > kPhasesShown && i == kPhasesShown / 2) {
      line(fmt::format("  … {} more phases …", top.size() - kPhasesShown));
      i = top.size() - kPhasesShown / 2;
    }
    rows(top[i]->phase.label(), top[i]->phase.end_s - top[i]->phase.start_s, top[i]->methods);
  }
  for (const PhaseNameSummary& name : p.summary) {
    bool first = true;
    for (const PhaseMethodStats& m : name.methods) {
      const std::string sd_kwh = m.sd_j ? " ± " + format_kwh(f.kwh_with_pue(Joules{*m.sd_j})) : "";
      const std::string sd_g = m.sd_j ? " ± " + format_grams(f.co2_grams(Joules{*m.sd_j})) : "";
      line(fmt::format("  {:<20} {:>10}  {:<18} {:<9} {:>20} {:>17}",
                       first ? fmt::format("{} mean (×{})", name.name, name.count) : "",
                       first ? format_duration(name.mean_duration_s) : "", m.method,
                       provenance_name(m.provenance), format_kwh(f.kwh_with_pue(Joules{m.mean_j})) + sd_kwh,
                       format_grams(f.co2_grams(Joules{m.mean_j})) + sd_g));
      first = false;
    }
  }
  // Everything outside the top-level phases, added up (start-up, data loading, between epochs).
  if (p.gap_count > 0) rows(fmt::format("outside phases ({})", p.gap_count), p.outside_s, p.outside_total);
}

/// A merged report's nodes: each one's run and its methods' IT energy (as the node's own report said).
void render_nodes(const RunReport& r, const std::function<void(const std::string&)>& line) {
  if (r.nodes.empty()) return;
  line("");
  line(fmt::format("  {} nodes (IT energy kWh per method; M measured, m modelled, - unavailable):",
                   r.nodes.size()));
  std::string header = fmt::format("  {:<16} {:<20} {:>10} {:>5}", "host", "started", "duration", "exit");
  for (const std::string& name : method_names()) header += fmt::format(" {:>19}", name);
  line(header);
  for (const NodeRun& node : r.nodes) {
    std::string row = fmt::format("  {:<16} {:<20} {:>10} {:>5}", node.host, node.started_at,
                                  format_duration(node.duration_s),
                                  node.exit_code ? std::to_string(*node.exit_code) : std::string("?"));
    for (const std::string& name : method_names()) {
      std::string cell = "-";
      for (const NodeMethod& m : node.methods) {
        if (m.method != name || !m.available || !m.it_energy) continue;
        cell = fmt::format("{} {}", format_kwh(to_kilowatt_hours(*m.it_energy)),
                           m.provenance == Provenance::Modelled ? "m" : "M");
      }
      row += fmt::format(" {:>19}", cell);
    }
    line(row);
  }
}

}  // namespace

std::string job_description(const BatchJob& job, const std::string& hostname) {
  std::string text = job.scheduler.empty() ? "job" : job.scheduler;
  if (!job.job_id.empty()) text += " " + job.job_id;
  if (!job.step_id.empty()) text += "." + job.step_id;
  if (!job.array_job_id.empty()) {
    text += fmt::format(" (array {}{})", job.array_job_id,
                        job.array_task_id.empty() ? std::string() : "_" + job.array_task_id);
  }
  if (!job.name.empty()) text += fmt::format(" \"{}\"", job.name);
  if (!job.user.empty()) text += " user " + job.user;
  if (!job.account.empty()) text += " account " + job.account;
  if (!job.partition.empty()) text += " partition " + job.partition;
  if (job.task_rank && job.task_count) {
    text += fmt::format(", task {} of {}", *job.task_rank, *job.task_count);
  } else if (job.task_rank) {
    text += fmt::format(", task {}", *job.task_rank);
  } else if (job.task_count) {
    text += fmt::format(", {} tasks", *job.task_count);
  }
  if (!hostname.empty()) text += " on " + hostname;
  if (!job.nodes.empty()) {
    std::string nodes;
    for (const std::string& node : job.nodes) nodes += (nodes.empty() ? "" : ",") + node;
    text += " (nodes " + nodes + ")";
  }
  if (job.gpus) {
    text += fmt::format(", GPUs {}", job.gpus->empty() ? "none" : *job.gpus);
    if (!job.gpus_source.empty()) text += " from " + job.gpus_source;
  }
  return text;
}

std::string render_summary(const RunReport& r) {
  std::string out;
  const auto line = [&out](const std::string& text) { out += text + '\n'; };
  if (r.kind == "estimate") {
    line(fmt::format("wattprint estimate: {} of runtime", format_duration(r.duration_s)));
  } else {
    line(fmt::format("wattprint{}: {}",
                     r.kind == "merged" ? fmt::format(" merge of {} nodes", r.nodes.size()) : std::string(),
                     command_line(r.command)));
    std::string status;
    if (!r.error.empty()) {
      status = fmt::format("could not start ({}), exit status {}", r.error, r.exit_code.value_or(-1));
    } else if (r.signal) {
      status = fmt::format("killed by signal {} (exit status {})", *r.signal, r.exit_code.value_or(-1));
    } else {
      status = r.exit_code ? fmt::format("exit status {}", *r.exit_code) : std::string("exit status unknown");
    }
    std::string usage = fmt::format("  {} · duration {}", status, format_duration(r.duration_s));
    if (r.cpu_time_s) {
      usage += fmt::format(" · CPU time {} ({:.2f} cores on average)", format_duration(*r.cpu_time_s),
                           r.duration_s > 0 ? *r.cpu_time_s / r.duration_s : 0.0);
    }
    if (r.peak_rss_bytes) {
      usage +=
          fmt::format(" · peak memory {:.2f} GB", static_cast<double>(*r.peak_rss_bytes) / kBytesPerGigabyte);
    }
    line(usage);
  }
  if (r.job) {
    line("  job: " + job_description(*r.job, r.host.hostname));
    if (!r.job->attribution.empty()) line("  job attribution: " + r.job->attribution);
  }
  const CarbonIntensity& ci = r.footprint.carbon_intensity;
  line(fmt::format("  PUE {} ({})", r.footprint.pue, r.footprint.pue_source));
  line(fmt::format("  carbon intensity {:.1f} gCO2e/kWh: {} [{}]", ci.g_per_kwh, ci.source, ci.selected_by));
  line("");
  line(fmt::format("  {:<18} {:<9} {:>14} {:>14} {:>12}", "method", "kind", "IT energy kWh", "with PUE kWh",
                   "gCO2e"));
  for (const MethodResult& m : r.methods) {
    if (m.available) {
      line(fmt::format("  {:<18} {:<9} {:>14} {:>14} {:>12}", m.name, provenance_name(m.provenance),
                       format_kwh(to_kilowatt_hours(m.it_energy)),
                       format_kwh(r.footprint.kwh_with_pue(m.it_energy)),
                       format_grams(r.footprint.co2_grams(m.it_energy))));
    } else {
      line(fmt::format("  {:<18} {:<9} unavailable: {}", m.name, "-", m.reason));
    }
  }
  render_nodes(r, line);
  render_phases(r, line);
  for (const MethodResult& m : r.methods) {
    if (!m.available || m.assumptions.empty()) continue;
    line("");
    line(fmt::format("  {} assumptions:", m.name));
    for (const auto& [name, value] : m.assumptions) line(fmt::format("    {}: {}", name, value));
  }
  if (r.kind == "run" || r.kind == "merged") {
    std::string measured;
    const auto add = [&measured](const char* label, const std::optional<Joules>& e) {
      if (!e) return;
      measured += fmt::format("{}{} {}", measured.empty() ? "" : " · ", label, format_joules(e->value));
    };
    add("CPU packages", r.measured.cpu);
    add("DRAM", r.measured.dram);
    add("GPUs", r.measured.gpu);
    add("server", r.measured.server);
    add("platform (psys, includes the packages)", r.measured.psys);
    line("");
    const std::string scope = r.kind == "merged" ? "every node" : "whole machine";
    const std::string none =
        r.kind == "merged" ? "no energy sensor read on every node" : "no readable energy sensor";
    line(measured.empty() ? fmt::format("  measured, {}: nothing ({})", scope, none)
                          : fmt::format("  measured, {}: {}", scope, measured));
    if (!r.gpus.empty()) {
      line(fmt::format("  GPUs ({}):", r.gpu_selection.rule));
      for (std::size_t i = 0; i < r.gpus.size(); ++i) {
        const GpuEnergy& gpu = r.gpus[i];
        const bool in_run = i < r.gpu_selection.selected.size() && r.gpu_selection.selected[i];
        line(fmt::format("    {} {}.gpu-{} {}: {}, {}{}", in_run ? "in run " : "left out", gpu.device.family,
                         gpu.device.index, gpu.device.name, format_joules(gpu.energy.value),
                         i < r.gpu_selection.reasons.size() ? r.gpu_selection.reasons[i] : "",
                         gpu.mean_utilisation_percent
                             ? fmt::format(", mean utilisation {:.0f}%", *gpu.mean_utilisation_percent)
                             : ""));
      }
    }
  }
  if (r.server) {
    const ServerEnergy& s = *r.server;
    line(fmt::format("  server: {}: {} reading{}{}{}", s.origin, s.readings, s.readings == 1 ? "" : "s",
                     s.failures > 0 ? fmt::format(", {} failed (last: {})", s.failures, s.last_error) : "",
                     s.min_power && s.max_power
                         ? fmt::format(", {:.0f}–{:.0f} W", s.min_power->value, s.max_power->value)
                         : ""));
  }
  for (const std::string& warning : r.warnings) line(fmt::format("  warning: {}", warning));
  bool header = false;
  for (const SensorStatus& s : r.sensor_statuses) {
    if (s.state == SensorStatus::State::Ok) continue;
    if (!header) {
      line("");
      line("  sensors not usable:");
      header = true;
    }
    line(fmt::format("    {}: {}", s.name, s.reason));
    // The same remedy for several zones is said once, after the last of them.
    const auto next =
        std::find_if(&s + 1, r.sensor_statuses.data() + r.sensor_statuses.size(),
                     [](const SensorStatus& other) { return other.state != SensorStatus::State::Ok; });
    const bool same_as_next =
        next != r.sensor_statuses.data() + r.sensor_statuses.size() && next->remedy == s.remedy;
    if (!s.remedy.empty() && !same_as_next) line(fmt::format("      remedy: {}", s.remedy));
  }
  header = false;
  const auto degraded = [&](const std::string& name, const std::vector<DegradedSpan>& spans) {
    for (const DegradedSpan& span : spans) {
      if (!header) {
        line("");
        line("  degraded sensors:");
        header = true;
      }
      line(fmt::format("    {} from {:.2f} s to {:.2f} s: {}", name, span.start_s, span.end_s, span.error));
    }
  };
  for (const SensorEnergy& e : r.sensor_energies) degraded(e.info.name, e.degraded);
  if (r.server) degraded("server (" + r.server->family + ")", r.server->degraded);
  if (!r.suspended.empty()) {
    line("");
    line("  machine suspended (not running time; its energy is not billed):");
    for (const SuspendSpan& span : r.suspended)
      line(fmt::format("    at {:.2f} s for {:.1f} s", span.at_s, span.duration_s));
  }
  return out;
}

}  // namespace wattprint
