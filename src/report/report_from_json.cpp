// A report's JSON (docs/report-schema.md) read back into the RunReport to_json() wrote it from. What JSON
// objects lose (their key order) is restored from the order the run produces: the methods in
// method_names() order, each method's assumptions in the order the method adds them, the phase statistics
// in order of first appearance. What to_json() leaves out is rebuilt as compute_phase_results() builds it
// (the time outside phases) or left at its default (fields no renderer reads).
#include "report/report_from_json.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace wattprint {

using nlohmann::json;

namespace {

[[noreturn]] void wrong(const std::string& field, std::string_view expected) {
  throw std::runtime_error(fmt::format("report: {}: expected {}", field, expected));
}

std::string join(const std::string& prefix, std::string_view key) {
  return prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
}

std::string element(const std::string& field, std::size_t i) { return fmt::format("{}[{}]", field, i); }

/// The member `key` of `object`; nullptr when absent or null (unknown).
const json* find(const json& object, std::string_view key) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<std::string> opt_string(const json& object, std::string_view key, const std::string& prefix) {
  const json* value = find(object, key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) wrong(join(prefix, key), "a string");
  return value->get<std::string>();
}

std::string string_or_empty(const json& object, std::string_view key, const std::string& prefix) {
  return opt_string(object, key, prefix).value_or("");
}

std::optional<double> opt_number(const json& object, std::string_view key, const std::string& prefix) {
  const json* value = find(object, key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_number()) wrong(join(prefix, key), "a number");
  return value->get<double>();
}

double number_or(const json& object, std::string_view key, const std::string& prefix, double otherwise) {
  return opt_number(object, key, prefix).value_or(otherwise);
}

std::optional<Joules> opt_joules(const json& object, std::string_view key, const std::string& prefix) {
  const auto value = opt_number(object, key, prefix);
  return value ? std::optional<Joules>(Joules{*value}) : std::nullopt;
}

std::optional<Watts> opt_watts(const json& object, std::string_view key, const std::string& prefix) {
  const auto value = opt_number(object, key, prefix);
  return value ? std::optional<Watts>(Watts{*value}) : std::nullopt;
}

/// An integer of type T (a float with an integral value is accepted: other writers may produce 3.0).
template <typename T>
std::optional<T> opt_integer(const json& object, std::string_view key, const std::string& prefix) {
  const json* value = find(object, key);
  if (value == nullptr) return std::nullopt;
  const std::string field = join(prefix, key);
  const char* expected = std::is_signed_v<T> ? "an integer" : "a non-negative integer";
  if (value->is_number_unsigned()) {
    const auto u = value->get<std::uint64_t>();
    if (!std::in_range<T>(u)) wrong(field, expected);
    return static_cast<T>(u);
  }
  if (value->is_number_integer()) {
    const auto i = value->get<std::int64_t>();
    if (!std::in_range<T>(i)) wrong(field, expected);
    return static_cast<T>(i);
  }
  if (value->is_number_float()) {
    const double d = value->get<double>();
    constexpr double kLimit = 9.0e18;  // exactly convertible to int64 below this
    if (!(std::fabs(d) < kLimit) || std::trunc(d) != d) wrong(field, expected);
    const auto i = static_cast<std::int64_t>(d);
    if (!std::in_range<T>(i)) wrong(field, expected);
    return static_cast<T>(i);
  }
  wrong(field, expected);
}

template <typename T>
T integer_or(const json& object, std::string_view key, const std::string& prefix, T otherwise) {
  return opt_integer<T>(object, key, prefix).value_or(otherwise);
}

bool bool_or(const json& object, std::string_view key, const std::string& prefix, bool otherwise) {
  const json* value = find(object, key);
  if (value == nullptr) return otherwise;
  if (!value->is_boolean()) wrong(join(prefix, key), "true or false");
  return value->get<bool>();
}

/// The object at `key`; nullptr when absent or null.
const json* opt_object(const json& object, std::string_view key, const std::string& prefix) {
  const json* value = find(object, key);
  if (value != nullptr && !value->is_object()) wrong(join(prefix, key), "an object");
  return value;
}

/// The array at `key`; an empty array when absent or null.
const json& array_or_empty(const json& object, std::string_view key, const std::string& prefix) {
  static const json kEmpty = json::array();
  const json* value = find(object, key);
  if (value == nullptr) return kEmpty;
  if (!value->is_array()) wrong(join(prefix, key), "an array");
  return *value;
}

std::vector<std::string> strings(const json& object, std::string_view key, const std::string& prefix) {
  const json& array = array_or_empty(object, key, prefix);
  std::vector<std::string> out;
  out.reserve(array.size());
  for (std::size_t i = 0; i < array.size(); ++i) {
    if (!array[i].is_string()) wrong(element(join(prefix, key), i), "a string");
    out.push_back(array[i].get<std::string>());
  }
  return out;
}

/// Checks that array element `i` is an object and returns it.
const json& object_element(const json& array, std::size_t i, const std::string& field) {
  if (!array[i].is_object()) wrong(element(field, i), "an object");
  return array[i];
}

std::vector<DegradedSpan> degraded_spans(const json& object, const std::string& prefix) {
  const std::string field = join(prefix, "degraded_spans");
  const json& array = array_or_empty(object, "degraded_spans", prefix);
  std::vector<DegradedSpan> spans;
  for (std::size_t i = 0; i < array.size(); ++i) {
    const json& span = object_element(array, i, field);
    const std::string at = element(field, i);
    spans.push_back({number_or(span, "start_s", at, 0.0), number_or(span, "end_s", at, 0.0),
                     string_or_empty(span, "error", at)});
  }
  return spans;
}

std::vector<SuspendSpan> suspend_spans(const json& report) {
  const json& array = array_or_empty(report, "suspended", "");
  std::vector<SuspendSpan> spans;
  for (std::size_t i = 0; i < array.size(); ++i) {
    const json& span = object_element(array, i, "suspended");
    const std::string at = element("suspended", i);
    spans.push_back({number_or(span, "at_s", at, 0.0), number_or(span, "duration_s", at, 0.0)});
  }
  return spans;
}

/// The keys of a JSON object in `canonical` order first (those present), then the others in the object's
/// own (alphabetical) order.
std::vector<std::string> ordered_keys(const json& object, const std::vector<std::string>& canonical) {
  std::vector<std::string> keys;
  for (const std::string& name : canonical) {
    if (object.contains(name)) keys.push_back(name);
  }
  for (const auto& [name, value] : object.items()) {
    if (std::find(canonical.begin(), canonical.end(), name) == canonical.end()) keys.push_back(name);
  }
  return keys;
}

Provenance provenance_from(const std::string& kind, const std::string& field) {
  if (kind == "measured") return Provenance::Measured;
  if (kind == "modelled") return Provenance::Modelled;
  wrong(field, R"("measured" or "modelled")");
}

/// The order in which the methods add their assumptions (src/methods/*.cpp); a GPU's entry
/// ("nvml.gpu-0") comes in the order of the report's GPUs. Names not listed keep the JSON order, after.
std::vector<std::string> assumption_order(const std::string& method, const std::vector<GpuEnergy>& gpus) {
  if (method == "estimate") {
    return {"runtime", "cores used", "CPU power per core", "CPU usage factor", "memory", "GPUs"};
  }
  if (method == "process") return {"attributed to", "CPU", "DRAM"};
  if (method == "gpu") {
    std::vector<std::string> order{"GPUs of the run",
                                   "power sampled every 5 s (the study's nvidia-smi method) would give"};
    for (const GpuEnergy& gpu : gpus)
      order.push_back(fmt::format("{}.gpu-{}", gpu.device.family, gpu.device.index));
    return order;
  }
  if (method == "server") return {"source", "readings"};
  if (method == "server-minus-idle") {
    return {"idle server power", "idle baseline source", "server energy", "warning"};
  }
  return {};
}

MethodResult read_method(const std::string& name, const json& j, const std::string& field,
                         const std::vector<GpuEnergy>& gpus) {
  if (!j.is_object()) wrong(field, "an object");
  MethodResult m;
  m.name = name;
  m.available = bool_or(j, "available", field, false);
  m.reason = string_or_empty(j, "reason", field);
  if (const auto kind = opt_string(j, "kind", field))
    m.provenance = provenance_from(*kind, join(field, "kind"));
  m.basis = string_or_empty(j, "basis", field);
  m.it_energy = Joules{number_or(j, "it_energy_j", field, 0.0)};
  if (const json* c = opt_object(j, "components", field)) {
    const std::string at = join(field, "components");
    m.components.cpu = opt_joules(*c, "cpu_j", at);
    m.components.dram = opt_joules(*c, "dram_j", at);
    m.components.memory = opt_joules(*c, "memory_j", at);
    m.components.gpu = opt_joules(*c, "gpu_j", at);
    m.components.server = opt_joules(*c, "server_j", at);
  }
  if (const json* a = opt_object(j, "assumptions", field)) {
    const std::string at = join(field, "assumptions");
    for (const std::string& key : ordered_keys(*a, assumption_order(name, gpus))) {
      const json& value = a->at(key);
      if (!value.is_string()) wrong(join(at, key), "a string");
      m.assumptions.emplace_back(key, value.get<std::string>());
    }
  }
  return m;
}

/// A `methods` object, in method_names() order, then any other method.
std::vector<MethodResult> read_methods(const json& object, std::string_view key, const std::string& prefix,
                                       const std::vector<GpuEnergy>& gpus) {
  const json* methods = opt_object(object, key, prefix);
  std::vector<MethodResult> out;
  if (methods == nullptr) return out;
  const std::string field = join(prefix, key);
  for (const std::string& name : ordered_keys(*methods, method_names())) {
    out.push_back(read_method(name, methods->at(name), join(field, name), gpus));
  }
  return out;
}

SensorStatus::State state_from(const std::string& status, const std::string& field) {
  // "degraded" is written over "ok" for a usable sensor whose reads failed for a while.
  if (status == "ok" || status == "degraded") return SensorStatus::State::Ok;
  if (status == "absent") return SensorStatus::State::Absent;
  if (status == "unreadable") return SensorStatus::State::Unreadable;
  if (status == "error") return SensorStatus::State::Error;
  wrong(field, R"("ok", "absent", "unreadable", "error" or "degraded")");
}

Component component_from(const std::string& name, const std::string& field) {
  for (const Component c : {Component::CpuPackage, Component::Dram, Component::CpuCore, Component::Uncore,
                            Component::Psys, Component::Gpu}) {
    if (name == component_name(c)) return c;
  }
  wrong(field, R"("package", "dram", "core", "uncore", "psys" or "gpu")");
}

void read_sensors(const json& j, RunReport& r) {
  const json& sensors = array_or_empty(j, "sensors", "");
  for (std::size_t i = 0; i < sensors.size(); ++i) {
    const json& s = object_element(sensors, i, "sensors");
    const std::string at = element("sensors", i);
    SensorStatus status;
    status.name = string_or_empty(s, "name", at);
    if (const auto state = opt_string(s, "status", at)) status.state = state_from(*state, join(at, "status"));
    status.path = string_or_empty(s, "path", at);
    status.reason = string_or_empty(s, "reason", at);
    status.remedy = string_or_empty(s, "remedy", at);
    r.sensor_statuses.push_back(status);
    const auto energy = opt_number(s, "energy_j", at);
    if (!energy) continue;
    SensorEnergy e;
    e.info.name = status.name;
    e.info.family = status.name.substr(0, status.name.find('.'));
    if (const auto component = opt_string(s, "component", at)) {
      e.info.component = component_from(*component, join(at, "component"));
    }
    bool_or(s, "counted_in_total", at, false);  // follows from the component; checked for its type only
    e.energy = Joules{*energy};
    e.degraded = degraded_spans(s, at);
    r.sensor_energies.push_back(std::move(e));
  }
}

void read_gpus(const json& j, RunReport& r) {
  const json& gpus = array_or_empty(j, "gpus", "");
  for (std::size_t i = 0; i < gpus.size(); ++i) {
    const json& g = object_element(gpus, i, "gpus");
    const std::string at = element("gpus", i);
    GpuEnergy gpu;
    GpuDevice& d = gpu.device;
    d.index = integer_or<unsigned>(g, "index", at, 0);
    // "nvml.gpu-0": the family is what comes before ".gpu-<index>".
    const std::string name = string_or_empty(g, "name", at);
    const std::string suffix = fmt::format(".gpu-{}", d.index);
    d.family = name.size() > suffix.size() && name.ends_with(suffix)
                   ? name.substr(0, name.size() - suffix.size())
                   : name.substr(0, name.rfind(".gpu-"));
    d.name = string_or_empty(g, "model", at);
    d.uuid = string_or_empty(g, "uuid", at);
    d.pci_bus_id = string_or_empty(g, "pci_bus_id", at);
    d.power_limit = opt_watts(g, "power_limit_w", at);
    d.energy_method = string_or_empty(g, "energy_method", at);
    d.energy_is_counter = string_or_empty(g, "kind", at) == "measured";
    r.gpu_selection.selected.push_back(bool_or(g, "in_run", at, false));
    r.gpu_selection.reasons.push_back(string_or_empty(g, "why", at));
    gpu.energy = Joules{number_or(g, "energy_j", at, 0.0)};
    gpu.attributed = Joules{number_or(g, "command_share_j", at, 0.0)};
    gpu.used_by_command = bool_or(g, "used_by_command", at, false);
    gpu.mean_utilisation_percent = opt_number(g, "mean_utilisation_percent", at);
    r.gpus.push_back(std::move(gpu));
  }
  r.gpu_selection.rule = string_or_empty(j, "gpu_selection", "");
}

void read_server(const json& j, RunReport& r) {
  const json* server = opt_object(j, "server", "");
  if (server == nullptr) return;
  const json& s = *server;
  const std::string at = "server";
  ServerEnergy e;
  e.family = string_or_empty(s, "source", at);
  e.origin = string_or_empty(s, "origin", at);
  e.energy = opt_joules(s, "energy_j", at);
  e.readings = integer_or<std::uint64_t>(s, "readings", at, 0);
  e.failures = integer_or<std::uint64_t>(s, "failed_readings", at, 0);
  e.last_error = string_or_empty(s, "last_error", at);
  e.period = Seconds{number_or(s, "period_s", at, 0.0)};
  e.mean_window = Seconds{number_or(s, "mean_window_s", at, 0.0)};
  e.min_power = opt_watts(s, "min_power_w", at);
  e.max_power = opt_watts(s, "max_power_w", at);
  e.degraded = degraded_spans(s, at);
  r.server = std::move(e);
}

void read_idle_baseline(const json& j, RunReport& r) {
  const json* idle = opt_object(j, "idle_baseline", "");
  if (idle == nullptr) return;
  json copy = *idle;
  copy["schema_version"] = 1;  // the report's copy leaves out the baseline file's schema_version
  try {
    r.idle_baseline = idle_baseline_from_json(copy);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("report: idle_baseline: {}", e.what()));
  }
  r.idle_baseline->stored_in = string_or_empty(*idle, "stored_in", "idle_baseline");
}

/// joules = kWh with PUE ÷ PUE × 3.6e6 (the inverse of Footprint::kwh_with_pue).
double joules_from_kwh(double kwh, double pue) {
  return pue > 0.0 ? kwh / pue * kJoulesPerKilowattHour : 0.0;
}

void read_phases(const json& j, RunReport& r) {
  PhaseResults& p = r.phases;
  const json& phases = array_or_empty(j, "phases", "");
  for (std::size_t i = 0; i < phases.size(); ++i) {
    const json& ph = object_element(phases, i, "phases");
    const std::string at = element("phases", i);
    PhaseResult result;
    Phase& phase = result.phase;
    phase.name = string_or_empty(ph, "name", at);
    phase.index = integer_or<std::int64_t>(ph, "index", at, 0);
    phase.parent = opt_integer<std::size_t>(ph, "parent", at);
    phase.depth = integer_or<std::size_t>(ph, "depth", at, 0);
    phase.start_s = number_or(ph, "start_s", at, 0.0);
    phase.end_s = number_or(ph, "end_s", at, 0.0);
    phase.open = false;
    phase.ended_by = string_or_empty(ph, "ended_by", at);
    result.methods = read_methods(ph, "methods", at, r.gpus);
    p.phases.push_back(std::move(result));
  }

  // The time outside the top-level phases, added up as compute_phase_results() does.
  const json& between = array_or_empty(j, "between_phases", "");
  for (std::size_t i = 0; i < between.size(); ++i) {
    const json& b = object_element(between, i, "between_phases");
    const std::string at = element("between_phases", i);
    BetweenPhases gap;
    gap.after = string_or_empty(b, "after", at);
    gap.before = string_or_empty(b, "before", at);
    gap.start_s = number_or(b, "start_s", at, 0.0);
    gap.end_s = number_or(b, "end_s", at, 0.0);
    gap.methods = read_methods(b, "methods", at, r.gpus);
    if (p.gap_count == 0) {
      p.outside_total = gap.methods;
    } else {
      for (std::size_t k = 0; k < p.outside_total.size() && k < gap.methods.size(); ++k) {
        p.outside_total[k].available = p.outside_total[k].available && gap.methods[k].available;
        p.outside_total[k].it_energy += gap.methods[k].it_energy;
      }
    }
    ++p.gap_count;
    p.outside_s += gap.end_s - gap.start_s;
    p.between.push_back(std::move(gap));
  }

  if (const json* summary = opt_object(j, "phase_summary", "")) {
    // Names in order of first appearance among the phases, then any other (beyond the listed phases).
    std::vector<std::string> order;
    for (const PhaseResult& phase : p.phases) {
      if (std::find(order.begin(), order.end(), phase.phase.name) == order.end())
        order.push_back(phase.phase.name);
    }
    const double pue = r.footprint.pue;
    for (const std::string& name : ordered_keys(*summary, order)) {
      const std::string at = join("phase_summary", name);
      const json& methods = summary->at(name);
      if (!methods.is_object()) wrong(at, "an object");
      PhaseNameSummary s;
      s.name = name;
      for (const std::string& method : ordered_keys(methods, method_names())) {
        const std::string mat = join(at, method);
        const json& m = methods.at(method);
        if (!m.is_object()) wrong(mat, "an object");
        PhaseMethodStats stats;
        stats.method = method;
        stats.count = integer_or<std::size_t>(m, "count", mat, 0);
        stats.mean_j = joules_from_kwh(number_or(m, "mean_kwh", mat, 0.0), pue);
        if (const auto sd = opt_number(m, "sd_kwh", mat)) stats.sd_j = joules_from_kwh(*sd, pue);
        stats.min_j = joules_from_kwh(number_or(m, "min_kwh", mat, 0.0), pue);
        stats.max_j = joules_from_kwh(number_or(m, "max_kwh", mat, 0.0), pue);
        for (const char* key : {"mean_co2_g", "sd_co2_g", "min_co2_g", "max_co2_g"}) opt_number(m, key, mat);
        stats.mean_duration_s = number_or(m, "mean_duration_s", mat, 0.0);
        // The statistics keep the kind of the method in the phases of this name (the last one), else the
        // run's.
        const auto kind_in = [&](const std::vector<MethodResult>& list) -> std::optional<Provenance> {
          for (const MethodResult& candidate : list) {
            if (candidate.name == method && candidate.available) return candidate.provenance;
          }
          return std::nullopt;
        };
        std::optional<Provenance> provenance;
        for (auto it = p.phases.rbegin(); it != p.phases.rend() && !provenance; ++it) {
          if (it->phase.name == name) provenance = kind_in(it->methods);
        }
        stats.provenance = provenance.value_or(kind_in(r.methods).value_or(Provenance::Measured));
        s.methods.push_back(stats);
      }
      // A method in the statistics was available in every phase of the name: its count and mean duration
      // are the name's. Without one, the listed phases tell.
      if (!s.methods.empty()) {
        s.count = s.methods.front().count;
        s.mean_duration_s = s.methods.front().mean_duration_s;
      } else {
        double total_s = 0.0;
        for (const PhaseResult& phase : p.phases) {
          if (phase.phase.name != name) continue;
          ++s.count;
          total_s += phase.phase.end_s - phase.phase.start_s;
        }
        if (s.count > 0) s.mean_duration_s = total_s / static_cast<double>(s.count);
      }
      p.summary.push_back(std::move(s));
    }
  }

  if (const json* marks = opt_object(j, "phase_marks", "")) {
    const std::string at = "phase_marks";
    p.marks.accepted = integer_or<std::uint64_t>(*marks, "accepted", at, 0);
    p.marks.dropped = integer_or<std::uint64_t>(*marks, "dropped", at, 0);
    p.malformed_marks = integer_or<std::uint64_t>(*marks, "malformed", at, 0);
    p.marks.unmatched_ends = integer_or<std::uint64_t>(*marks, "unmatched_ends", at, 0);
    p.marks.ignored_begins = integer_or<std::uint64_t>(*marks, "ignored_begins", at, 0);
    p.marks.repeated_begins = integer_or<std::uint64_t>(*marks, "repeated_begins", at, 0);
    p.phase_count = integer_or<std::size_t>(*marks, "phases", at, p.phases.size());
    opt_integer<std::size_t>(*marks, "phases_listed", at);  // = the phases listed; checked for its type only
  } else {
    p.phase_count = p.phases.size();
  }
}

/// A merged report's nodes (`nodes`, written by `wattprint merge`).
void read_nodes(const json& j, RunReport& r) {
  const json* nodes = find(j, "nodes");
  if (nodes == nullptr) return;
  if (!nodes->is_array()) wrong("nodes", "an array");
  for (std::size_t k = 0; k < nodes->size(); ++k) {
    const json& n = (*nodes)[k];
    const std::string at = fmt::format("nodes[{}]", k);
    if (!n.is_object()) wrong(at, "an object");
    NodeRun node;
    node.host = string_or_empty(n, "host", at);
    node.run_id = string_or_empty(n, "run_id", at);
    node.source = string_or_empty(n, "source", at);
    node.started_at = string_or_empty(n, "started_at", at);
    node.duration_s = number_or(n, "duration_s", at, 0.0);
    node.exit_code = opt_integer<int>(n, "exit_code", at);
    node.signal = opt_integer<int>(n, "signal", at);
    node.cpu_time_s = opt_number(n, "cpu_time_s", at);
    if (const json* methods = opt_object(n, "methods", at)) {
      for (const auto& [name, m] : methods->items()) {
        const std::string field = join(join(at, "methods"), name);
        if (!m.is_object()) wrong(field, "an object");
        NodeMethod method;
        method.method = name;
        method.available = bool_or(m, "available", field, false);
        if (const auto kind = opt_string(m, "kind", field))
          method.provenance = provenance_from(*kind, join(field, "kind"));
        method.it_energy = opt_joules(m, "it_energy_j", field);
        method.reason = string_or_empty(m, "reason", field);
        node.methods.push_back(method);
      }
      // JSON objects come back sorted by name: the report's order is method_names().
      std::stable_sort(node.methods.begin(), node.methods.end(),
                       [](const NodeMethod& a, const NodeMethod& b) {
                         const auto rank = [](const std::string& name) {
                           const auto& names = method_names();
                           return std::find(names.begin(), names.end(), name) - names.begin();
                         };
                         return rank(a.method) < rank(b.method);
                       });
    }
    r.nodes.push_back(std::move(node));
  }
}

}  // namespace

BatchJob batch_job_from_json(const json& job) {
  const std::string at = "job";
  BatchJob b;
  b.scheduler = string_or_empty(job, "scheduler", at);
  b.job_id = string_or_empty(job, "job_id", at);
  b.step_id = string_or_empty(job, "step_id", at);
  b.array_job_id = string_or_empty(job, "array_job_id", at);
  b.array_task_id = string_or_empty(job, "array_task_id", at);
  b.name = string_or_empty(job, "name", at);
  b.user = string_or_empty(job, "user", at);
  b.account = string_or_empty(job, "account", at);
  b.partition = string_or_empty(job, "partition", at);
  b.nodes = strings(job, "nodes", at);
  b.task_count = opt_integer<int>(job, "task_count", at);
  b.task_rank = opt_integer<int>(job, "task_rank", at);
  b.local_rank = opt_integer<int>(job, "local_rank", at);
  b.gpus = opt_string(job, "gpus", at);
  b.gpus_source = string_or_empty(job, "gpus_source", at);
  b.cgroup = opt_string(job, "cgroup", at);
  b.attribution = string_or_empty(job, "attribution", at);
  return b;
}

RunReport run_report_from_json(const json& j) {
  if (!j.is_object()) throw std::runtime_error("report: expected a JSON object");
  if (const auto version = opt_integer<int>(j, "schema_version", "")) {
    if (*version < 1 || *version > kReportSchemaVersion) {
      throw std::runtime_error(fmt::format(
          "report: schema_version: {} is not one this wattprint reads (1 to {}); update wattprint", *version,
          kReportSchemaVersion));
    }
  }
  RunReport r;
  r.kind = opt_string(j, "kind", "").value_or("run");
  r.run_id = string_or_empty(j, "run_id", "");
  if (const json* tags = opt_object(j, "tags", "")) {
    for (const auto& [key, value] : tags->items()) {
      if (!value.is_string())
        throw std::runtime_error(fmt::format("report: tags.{}: expected a string", key));
      r.tags[key] = value.get<std::string>();
    }
  }
  if (const json* tool = opt_object(j, "tool", ""))
    r.tool_version = string_or_empty(*tool, "version", "tool");
  r.command = strings(j, "command", "");
  r.exit_code = opt_integer<int>(j, "exit_code", "");
  r.signal = opt_integer<int>(j, "signal", "");
  r.error = string_or_empty(j, "error", "");
  r.started_at = string_or_empty(j, "started_at", "");
  r.duration_s = number_or(j, "duration_s", "", 0.0);
  r.cpu_time_s = opt_number(j, "cpu_time_s", "");
  r.peak_rss_bytes = opt_integer<std::uint64_t>(j, "peak_memory_bytes", "");
  if (const json* host = opt_object(j, "host", "")) {
    const std::string at = "host";
    r.host.hostname = string_or_empty(*host, "hostname", at);
    r.host.cpu_model = string_or_empty(*host, "cpu_model", at);
    r.host.logical_cpus = integer_or<int>(*host, "logical_cpus", at, 0);
    r.host.sockets = integer_or<int>(*host, "sockets", at, 0);
    r.host.cores_per_socket = integer_or<int>(*host, "cores_per_socket", at, 0);
    r.host.memory_gb = number_or(*host, "memory_gb", at, 0.0);
  }
  if (const json* job = opt_object(j, "job", "")) r.job = batch_job_from_json(*job);
  r.footprint.pue = number_or(j, "pue", "", 1.0);
  r.footprint.pue_source = string_or_empty(j, "pue_source", "");
  if (const json* ci = opt_object(j, "carbon_intensity", "")) {
    const std::string at = "carbon_intensity";
    CarbonIntensity& c = r.footprint.carbon_intensity;
    c.g_per_kwh = number_or(*ci, "g_per_kwh", at, 0.0);
    c.source = string_or_empty(*ci, "source", at);
    c.region = string_or_empty(*ci, "region", at);
    c.year = integer_or<int>(*ci, "year", at, 0);
    c.selected_by = string_or_empty(*ci, "selected_by", at);
  }
  if (const json* measured = opt_object(j, "measured", "")) {
    const std::string at = "measured";
    r.measured.cpu = opt_joules(*measured, "cpu_j", at);
    r.measured.dram = opt_joules(*measured, "dram_j", at);
    r.measured.gpu = opt_joules(*measured, "gpu_j", at);
    r.measured.server = opt_joules(*measured, "server_j", at);
    r.measured.psys = opt_joules(*measured, "psys_j", at);
  }
  read_gpus(j, r);  // before the methods: the GPU method's assumptions follow the GPUs' order
  r.methods = read_methods(j, "methods", "", r.gpus);
  read_sensors(j, r);
  read_server(j, r);
  read_idle_baseline(j, r);
  r.warnings = strings(j, "warnings", "");
  r.suspended = suspend_spans(j);
  if (const json* sampling = opt_object(j, "sampling", "")) {
    r.interval_s = number_or(*sampling, "interval_s", "sampling", 0.0);
    r.counter_period_s = number_or(*sampling, "counter_period_s", "sampling", 0.0);
  }
  if (const json* monitor = opt_object(j, "monitor", "")) {
    r.monitor = MonitorCost{number_or(*monitor, "cpu_s", "monitor", 0.0),
                            integer_or<std::uint64_t>(*monitor, "peak_rss_bytes", "monitor", 0)};
  }
  r.config_files = strings(j, "config_files", "");
  read_phases(j, r);
  read_nodes(j, r);
  if (const json* timeline = find(j, "timeline")) {
    try {
      r.timeline = timeline_from_json(*timeline);
    } catch (const std::exception& e) {
      throw std::runtime_error(fmt::format("report: timeline: {}", e.what()));
    }
  }
  return r;
}

}  // namespace wattprint
