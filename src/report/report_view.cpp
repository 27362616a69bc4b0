// Extraction of a report's JSON form into what the renderers show (report_view.hpp).
#include "report/report_view.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "report/report_from_json.hpp"
#include "report/summary_text.hpp"

namespace wattprint::report_view {

using nlohmann::json;

namespace {

const json& member(const json& object, const char* key) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  const auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::optional<double> number(const json& object, const char* key) {
  const json& value = member(object, key);
  if (!value.is_number()) return std::nullopt;
  return value.get<double>();
}

std::optional<long long> integer(const json& object, const char* key) {
  const json& value = member(object, key);
  if (value.is_number_integer()) return value.get<long long>();
  if (value.is_number_float()) return std::llround(value.get<double>());
  return std::nullopt;
}

std::string text(const json& object, const char* key) {
  const json& value = member(object, key);
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number()) return value.dump();
  return {};
}

std::string value_text(const json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

std::string command_line(const std::vector<std::string>& command) {
  std::string line;
  for (const auto& word : command) {
    if (!line.empty()) line += ' ';
    const bool quote = word.empty() || word.find_first_of(" \t'\"$\\") != std::string::npos;
    line += quote ? "'" + word + "'" : word;
  }
  return line;
}

/// The method names of a `methods` object, the five first in their order, then any other.
std::vector<std::string> method_names(const json& methods) {
  std::vector<std::string> names;
  for (const std::string_view name : kMethodOrder) names.emplace_back(name);
  if (methods.is_object()) {
    for (const auto& [name, value] : methods.items()) {
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
  }
  return names;
}

std::vector<MethodRow> read_methods(const json& methods) {
  std::vector<MethodRow> rows;
  for (const std::string& name : method_names(methods)) {
    const json& m = member(methods, name.c_str());
    MethodRow row;
    row.name = name;
    if (!m.is_object()) {
      row.reason = "not in this report";
      rows.push_back(row);
      continue;
    }
    row.available = member(m, "available").is_boolean() && member(m, "available").get<bool>();
    row.kind = text(m, "kind");
    row.reason = text(m, "reason");
    if (!row.available && row.reason.empty()) row.reason = "not available";
    row.it_energy_j = number(m, "it_energy_j");
    row.energy_kwh = number(m, "energy_kwh");
    row.co2_g = number(m, "co2_g");
    const json& c = member(m, "components");
    row.cpu_j = number(c, "cpu_j");
    row.dram_j = number(c, "dram_j");
    row.memory_j = number(c, "memory_j");
    row.gpu_j = number(c, "gpu_j");
    row.server_j = number(c, "server_j");
    const json& assumptions = member(m, "assumptions");
    if (assumptions.is_object()) {
      for (const auto& [key, value] : assumptions.items())
        row.assumptions.emplace_back(key, value_text(value));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string hardware_line(const json& report) {
  const json& host = member(report, "host");
  std::vector<std::string> parts;
  const std::string cpu = text(host, "cpu_model");
  const auto sockets = integer(host, "sockets");
  const auto cores = integer(host, "cores_per_socket");
  const auto logical = integer(host, "logical_cpus");
  if (!cpu.empty()) {
    std::string part = sockets && *sockets > 1 ? fmt::format("{} × {}", *sockets, cpu) : cpu;
    std::vector<std::string> details;
    if (cores) details.push_back(fmt::format("{} cores{}", *cores, sockets && *sockets > 1 ? " each" : ""));
    if (logical) details.push_back(fmt::format("{} logical CPUs", *logical));
    if (!details.empty()) part += " (" + fmt::format("{}", fmt::join(details, ", ")) + ")";
    parts.push_back(part);
  }
  // The run's GPUs, by model, in order of first appearance.
  std::vector<std::pair<std::string, int>> models;
  const json& gpus = member(report, "gpus");
  if (gpus.is_array()) {
    for (const json& gpu : gpus) {
      if (member(gpu, "in_run").is_boolean() && !member(gpu, "in_run").get<bool>()) continue;
      const std::string model = text(gpu, "model").empty() ? text(gpu, "name") : text(gpu, "model");
      auto it = std::find_if(models.begin(), models.end(), [&](const auto& m) { return m.first == model; });
      if (it == models.end()) {
        models.emplace_back(model, 1);
      } else {
        ++it->second;
      }
    }
  }
  for (const auto& [model, count] : models) parts.push_back(fmt::format("{} × {}", count, model));
  if (const auto memory = number(host, "memory_gb"))
    parts.push_back(fmt::format("{:.1f} GB of memory", *memory));
  return fmt::format("{}", fmt::join(parts, "; "));
}

std::string join_names(const std::vector<std::string>& names) {
  return fmt::format("{}", fmt::join(names, ", "));
}

void add_assumptions(View& view, const json& report) {
  auto& a = view.assumptions;
  a.emplace_back("PUE", view.pue == 1.0 && view.pue_source.empty()
                            ? "1.0 (IT equipment only)"
                            : fmt::format("{} ({})", format_number(view.pue), view.pue_source));
  if (view.carbon_g_per_kwh) {
    std::string ci = fmt::format("{} gCO2e/kWh", format_number(*view.carbon_g_per_kwh));
    if (!view.carbon_source.empty()) ci += " (" + view.carbon_source + ")";
    if (!view.carbon_selected_by.empty()) ci += ", selected by " + view.carbon_selected_by;
    a.emplace_back("Carbon intensity", ci);
  }
  const json& idle = member(report, "idle_baseline");
  if (const auto server_w = number(idle, "server_w")) {
    std::string baseline = fmt::format("{} server power", format_watts(*server_w));
    const std::string how = text(idle, "how");
    if (!how.empty()) baseline += " (" + how + ")";
    if (!text(idle, "measured_at").empty()) baseline += ", measured " + text(idle, "measured_at");
    a.emplace_back("Idle baseline", baseline);
  } else if (view.kind != "estimate") {
    a.emplace_back("Idle baseline", "none");
  }
  std::vector<std::string> sensors;
  const json& sensor_list = member(report, "sensors");
  if (sensor_list.is_array()) {
    for (const json& s : sensor_list) {
      const std::string status = text(s, "status");
      if (status == "ok") sensors.push_back(text(s, "name"));
      if (status == "degraded") sensors.push_back(text(s, "name") + " (degraded)");
    }
  }
  const json& gpus = member(report, "gpus");
  if (gpus.is_array()) {
    for (const json& gpu : gpus) {
      if (!member(gpu, "in_run").is_boolean() || !member(gpu, "in_run").get<bool>()) continue;
      std::string g = text(gpu, "name");
      if (!text(gpu, "model").empty()) g += " (" + text(gpu, "model");
      if (!text(gpu, "energy_method").empty()) g += ", " + text(gpu, "energy_method");
      if (!text(gpu, "model").empty()) g += ")";
      sensors.push_back(g);
    }
  }
  const json& server = member(report, "server");
  if (server.is_object()) {
    std::string s = "server: " + text(server, "origin");
    if (const auto readings = integer(server, "readings")) {
      s += fmt::format(" ({} readings", *readings);
      if (const auto period = number(server, "period_s")) s += " every " + format_number(*period) + " s";
      if (const auto failed = integer(server, "failed_readings"); failed && *failed > 0)
        s += fmt::format(", {} failed", *failed);
      s += ")";
    }
    sensors.push_back(s);
  }
  if (view.kind != "estimate") a.emplace_back("Sensors used", sensors.empty() ? "none" : join_names(sensors));
  if (!view.measured_methods.empty()) a.emplace_back("Measured", join_names(view.measured_methods));
  if (!view.modelled_methods.empty()) a.emplace_back("Modelled", join_names(view.modelled_methods));
  const json& suspended = member(report, "suspended");
  if (suspended.is_array() && !suspended.empty()) {
    std::vector<std::string> spans;
    for (const json& span : suspended) {
      spans.push_back(fmt::format("{:.1f} s at t={:.1f} s", number(span, "duration_s").value_or(0.0),
                                  number(span, "at_s").value_or(0.0)));
    }
    a.emplace_back("Machine suspended", join_names(spans) + " (not counted as running; energy not billed)");
  }
  const json& sampling = member(report, "sampling");
  if (const auto interval = number(sampling, "interval_s")) {
    a.emplace_back("Sampling", fmt::format("every {} s", format_number(*interval)));
  }
  for (const MethodRow& m : view.run.methods) {
    for (const auto& [name, value] : m.assumptions) a.emplace_back(m.name + ": " + name, value);
  }
}

}  // namespace

std::string node_cell(const std::optional<std::pair<double, std::string>>& method) {
  if (!method) return "–";
  return fmt::format("{} ({})", format_kwh_value(method->first), method->second);
}

View make_view(const json& report) {
  View v;
  v.schema_version = static_cast<int>(integer(report, "schema_version").value_or(0));
  v.kind = text(report, "kind");
  v.tool_version = text(member(report, "tool"), "version");
  const json& command = member(report, "command");
  if (command.is_array()) {
    for (const json& word : command) v.command.push_back(value_text(word));
  }
  v.command_text = command_line(v.command);
  v.exit_code = integer(report, "exit_code");
  v.started_at = text(report, "started_at");
  v.duration_s = number(report, "duration_s").value_or(0.0);
  v.hostname = text(member(report, "host"), "hostname");
  v.hardware = hardware_line(report);
  if (const auto job = report.find("job"); job != report.end() && job->is_object()) {
    try {
      const BatchJob batch_job = batch_job_from_json(*job);
      v.job = job_description(batch_job, v.hostname);
      v.job_attribution = batch_job.attribution;
    } catch (const std::exception&) {
      v.job = "a batch job (its description in the report is malformed)";
    }
  }
  v.pue = number(report, "pue").value_or(1.0);
  v.pue_source = text(report, "pue_source");
  const json& ci = member(report, "carbon_intensity");
  v.carbon_g_per_kwh = number(ci, "g_per_kwh");
  v.carbon_source = text(ci, "source");
  const std::string region = text(ci, "region");
  if (!region.empty() && v.carbon_source.find(region) == std::string::npos) {
    v.carbon_source += v.carbon_source.empty() ? region : ", " + region;
  }
  v.carbon_selected_by = text(ci, "selected_by");

  v.run.name = "run";
  v.run.label = "whole run";
  v.run.path = "whole run";
  v.run.end_s = v.duration_s;
  v.run.methods = read_methods(member(report, "methods"));
  for (const MethodRow& m : v.run.methods) {
    if (!m.available) {
      v.unavailable_methods.push_back(m.name);
    } else if (m.kind == "modelled") {
      v.modelled_methods.push_back(m.name);
    } else {
      v.measured_methods.push_back(m.name);
    }
  }

  const json& phases = member(report, "phases");
  if (phases.is_array()) {
    for (const json& p : phases) {
      Span span;
      span.name = text(p, "name");
      span.index = integer(p, "index");
      span.label = text(p, "label");
      if (span.label.empty())
        span.label = span.index ? fmt::format("{} {}", span.name, *span.index) : span.name;
      span.path = text(p, "path").empty() ? span.label : text(p, "path");
      span.depth = static_cast<int>(integer(p, "depth").value_or(0));
      span.start_s = number(p, "start_s").value_or(0.0);
      span.end_s = number(p, "end_s").value_or(span.start_s);
      span.methods = read_methods(member(p, "methods"));
      v.phases.push_back(std::move(span));
    }
  }
  const json& between = member(report, "between_phases");
  if (between.is_array()) {
    for (const json& b : between) {
      Span span;
      const std::string after = text(b, "after");
      const std::string before = text(b, "before");
      if (after.empty() && before.empty()) {
        span.name = "outside phases";
      } else if (after.empty()) {
        span.name = "before " + before;
      } else if (before.empty()) {
        span.name = "after " + after;
      } else {
        span.name = "between ";
        span.name.append(after).append(" and ").append(before);
      }
      span.label = span.name;
      span.path = span.name;
      span.start_s = number(b, "start_s").value_or(0.0);
      span.end_s = number(b, "end_s").value_or(span.start_s);
      span.methods = read_methods(member(b, "methods"));
      v.between.push_back(std::move(span));
    }
  }
  const json& summary = member(report, "phase_summary");
  if (summary.is_object()) {
    std::vector<std::string> names;
    for (const Span& p : v.phases) {
      if (std::find(names.begin(), names.end(), p.name) == names.end()) names.push_back(p.name);
    }
    for (const auto& [name, value] : summary.items()) {
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
    for (const std::string& name : names) {
      const json& per_method = member(summary, name.c_str());
      if (!per_method.is_object()) continue;
      for (const std::string& method : method_names(per_method)) {
        const json& s = member(per_method, method.c_str());
        if (!s.is_object()) continue;
        SummaryRow row;
        row.phase = name;
        row.method = method;
        row.count = integer(s, "count").value_or(0);
        row.mean_kwh = number(s, "mean_kwh");
        row.sd_kwh = number(s, "sd_kwh");
        row.min_kwh = number(s, "min_kwh");
        row.max_kwh = number(s, "max_kwh");
        row.mean_co2_g = number(s, "mean_co2_g");
        row.sd_co2_g = number(s, "sd_co2_g");
        row.min_co2_g = number(s, "min_co2_g");
        row.max_co2_g = number(s, "max_co2_g");
        row.mean_duration_s = number(s, "mean_duration_s");
        v.summary.push_back(row);
      }
    }
  }
  const json& warnings = member(report, "warnings");
  if (warnings.is_array()) {
    for (const json& w : warnings) v.warnings.push_back(value_text(w));
  }
  const json& nodes = member(report, "nodes");
  if (nodes.is_array()) {
    for (const json& n : nodes) {
      NodeRow row;
      row.host = text(n, "host");
      row.started_at = text(n, "started_at");
      row.duration_s = number(n, "duration_s").value_or(0.0);
      row.exit_code = integer(n, "exit_code");
      row.cpu_time_s = number(n, "cpu_time_s");
      const json& methods = member(n, "methods");
      for (const std::string_view name : kMethodOrder) {
        const json& m = member(methods, std::string(name).c_str());
        const auto joules = number(m, "it_energy_j");
        if (joules && m.is_object() && m.value("available", false)) {
          row.methods.emplace_back(std::make_pair(*joules / 3.6e6, text(m, "kind")));
        } else {
          row.methods.emplace_back(std::nullopt);
        }
      }
      v.nodes.push_back(std::move(row));
    }
  }
  const json& timeline = member(report, "timeline");
  if (timeline.is_object() && member(timeline, "series").is_array() &&
      member(timeline, "start_s").is_array()) {
    Timeline t;
    for (const json& s : member(timeline, "start_s"))
      t.start_s.push_back(s.is_number() ? s.get<double>() : 0.0);
    const json& ends = member(timeline, "end_s");
    for (std::size_t i = 0; i < t.start_s.size(); ++i) {
      t.end_s.push_back(ends.is_array() && i < ends.size() && ends[i].is_number() ? ends[i].get<double>()
                                                                                  : t.start_s[i]);
    }
    const auto values = [&](const char* key, std::size_t series) {
      std::vector<std::optional<double>> out(t.start_s.size());
      const json& all = member(timeline, key);
      if (!all.is_array() || series >= all.size() || !all[series].is_array()) return out;
      const json& row = all[series];
      for (std::size_t i = 0; i < out.size() && i < row.size(); ++i) {
        if (row[i].is_number()) out[i] = row[i].get<double>();
      }
      return out;
    };
    const json& series = member(timeline, "series");
    for (std::size_t i = 0; i < series.size(); ++i) {
      TimelineSeries s;
      s.name = text(series[i], "name");
      s.component = text(series[i], "component");
      s.mean_w = values("mean_w", i);
      s.min_w = values("min_w", i);
      s.max_w = values("max_w", i);
      t.series.push_back(std::move(s));
    }
    v.timeline = std::move(t);
  }
  add_assumptions(v, report);
  return v;
}

namespace {

/// At least three significant digits below 0.01: 4 decimals from 0.01, 6 from 0.001, below that
/// scientific ("5.79e-06"), so that two small values that differ by 10 % never print the same.
std::string small_value(double value) {
  if (value == 0.0) return "0";
  const double magnitude = std::fabs(value);
  if (magnitude >= 0.01) return fmt::format("{:.4f}", value);
  if (magnitude >= 0.001) return fmt::format("{:.6f}", value);
  return fmt::format("{:.2e}", value);
}

}  // namespace

std::string format_kwh_value(double kwh) { return small_value(kwh); }

std::string format_grams_value(double grams) {
  if (std::fabs(grams) >= 100.0) return fmt::format("{:.1f}", grams);
  return small_value(grams);
}

std::string format_watts(double watts) {
  if (std::fabs(watts - std::round(watts)) < 0.05) return fmt::format("{:.0f} W", watts);
  return fmt::format("{:.1f} W", watts);
}

std::string format_number(double value) { return fmt::format("{}", value); }

std::string format_duration_text(double seconds) { return format_duration(seconds); }

std::string latex_escape(std::string_view in) {
  static const std::map<std::string_view, std::string_view> kUnicode = {{"×", "\\texttimes{}"},
                                                                        {"−", "\\textminus{}"},
                                                                        {"±", "\\textpm{}"},
                                                                        {"–", "--"},
                                                                        {"—", "---"},
                                                                        {"…", "\\ldots{}"},
                                                                        {"≥", "$\\geq$"},
                                                                        {"≤", "$\\leq$"},
                                                                        {"→", "$\\rightarrow$"},
                                                                        {"÷", "\\textdiv{}"},
                                                                        {"·", "\\textperiodcentered{}"},
                                                                        {"µ", "\\textmu{}"},
                                                                        {"²", "\\textsuperscript{2}"},
                                                                        {"°", "\\textdegree{}"}};
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    switch (c) {
      case '\\':
        out += "\\textbackslash{}";
        continue;
      case '{':
        out += "\\{";
        continue;
      case '}':
        out += "\\}";
        continue;
      case '_':
        out += "\\_";
        continue;
      case '%':
        out += "\\%";
        continue;
      case '&':
        out += "\\&";
        continue;
      case '#':
        out += "\\#";
        continue;
      case '$':
        out += "\\$";
        continue;
      case '~':
        out += "\\textasciitilde{}";
        continue;
      case '^':
        out += "\\textasciicircum{}";
        continue;
      case '<':
        out += "\\textless{}";
        continue;
      case '>':
        out += "\\textgreater{}";
        continue;
      case '-':  // "--" would print as a dash: --pue stays two hyphens
        out += i + 1 < in.size() && in[i + 1] == '-' ? "-{}" : "-";
        continue;
      default:
        break;
    }
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += ' ';
      continue;
    }
    if ((static_cast<unsigned char>(c) & 0x80U) != 0) {
      bool replaced = false;
      for (const auto& [sign, command] : kUnicode) {
        if (in.substr(i, sign.size()) == sign) {
          out += command;
          i += sign.size() - 1;
          replaced = true;
          break;
        }
      }
      if (replaced) continue;
    }
    out += c;
  }
  return out;
}

std::string html_escape(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (const char c : in) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string csv_field(std::string_view in) {
  if (in.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(in);
  std::string out = "\"";
  for (const char c : in) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

std::string markdown_cell(std::string_view in) {
  std::string out;
  for (const char c : in) {
    if (c == '|' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace wattprint::report_view
