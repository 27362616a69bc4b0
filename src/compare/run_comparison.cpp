// `wattprint compare`: the model (make_comparison) and its text rendering (run_comparison.hpp).
#include "compare/run_comparison.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "compare/comparison_format.hpp"
#include "report/report_view.hpp"

namespace wattprint {

namespace rv = report_view;
using nlohmann::json;

namespace compare_format {

std::string format_ratio(double ratio) {
  if (!std::isfinite(ratio)) return "×?";
  const double magnitude = std::fabs(ratio);
  if (magnitude >= 100.0) return fmt::format("×{:.0f}", ratio);
  if (magnitude >= 10.0) return fmt::format("×{:.1f}", ratio);
  if (magnitude >= 0.01 || ratio == 0.0) return fmt::format("×{:.2f}", ratio);
  return fmt::format("×{:.2g}", ratio);
}

std::size_t display_width(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(
      text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U; }));
}

std::string shorten(std::string_view text, std::size_t max_width) {
  if (display_width(text) <= max_width || max_width == 0) return std::string(text);
  std::size_t points = 0;
  std::size_t end = 0;
  for (; end < text.size(); ++end) {
    if ((static_cast<unsigned char>(text[end]) & 0xC0U) != 0x80U) {
      if (points == max_width - 1) break;
      ++points;
    }
  }
  return std::string(text.substr(0, end)) + "…";
}

std::set<std::string> mixed_kind_methods(const Comparison& comparison) {
  std::map<std::string, std::set<std::string>> kinds;
  for (const Comparison::Row& row : comparison.rows) {
    for (const Comparison::Cell& cell : row.cells) {
      if (!cell.kind.empty()) kinds[row.method].insert(cell.kind);
    }
  }
  std::set<std::string> mixed;
  for (const auto& [method, set] : kinds) {
    if (set.count("modelled") != 0 && set.size() > 1) mixed.insert(method);
  }
  return mixed;
}

std::string kind_text(const Comparison::Row& row) {
  std::set<std::string> kinds;
  for (const Comparison::Cell& cell : row.cells) {
    if (!cell.kind.empty()) kinds.insert(cell.kind);
  }
  if (kinds.empty()) return "unavailable";
  if (kinds.size() > 1) return "mixed";
  return *kinds.begin();
}

std::string index_ranges(const std::vector<long long>& indices) {
  std::vector<long long> sorted = indices;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::string out;
  for (std::size_t i = 0; i < sorted.size();) {
    std::size_t j = i;
    while (j + 1 < sorted.size() && sorted[j + 1] == sorted[j] + 1) ++j;
    if (!out.empty()) out += ", ";
    if (j - i >= 2) {
      out += fmt::format("{}–{}", sorted[i], sorted[j]);
    } else {
      out += fmt::format("{}", sorted[i]);
      if (j > i) out += fmt::format(", {}", sorted[j]);
    }
    i = j + 1;
  }
  return out;
}

std::string id_text(std::int64_t id) { return id == 0 ? std::string("—") : fmt::format("{}", id); }

std::string exit_text(const Comparison::RunColumn& run) {
  return run.exit_code ? fmt::format("{}", *run.exit_code) : std::string("—");
}

std::string carbon_text(const Comparison::RunColumn& run) {
  if (!run.carbon_g_per_kwh) return "—";
  std::string text = rv::format_number(*run.carbon_g_per_kwh);
  if (!run.carbon_source.empty()) text += " (" + run.carbon_source + ")";
  return text;
}

}  // namespace compare_format

namespace {

using Cell = Comparison::Cell;
using Row = Comparison::Row;

std::string tags_text(const json& report) {
  if (!report.is_object()) return {};
  const auto it = report.find("tags");
  if (it == report.end() || !it->is_object()) return {};
  std::string out;
  for (const auto& [key, value] : it->items()) {
    if (!out.empty()) out += ' ';
    out += key + "=" + (value.is_string() ? value.get<std::string>() : value.dump());
  }
  return out;
}

/// The run's signal when the report says it was ended by one (schema: "signal": 9 or "SIGKILL").
std::string signal_text(const json& report) {
  if (!report.is_object()) return {};
  const auto it = report.find("signal");
  if (it == report.end() || it->is_null()) return {};
  return it->is_string() ? it->get<std::string>() : it->dump();
}

/// The report's run_id ("20261120-091403-node07"), empty when it has none.
std::string run_id_text(const json& report) {
  if (!report.is_object()) return {};
  const auto it = report.find("run_id");
  if (it == report.end() || it->is_null()) return {};
  return it->is_string() ? it->get<std::string>() : it->dump();
}

Cell method_cell(const std::vector<rv::MethodRow>& methods, std::string_view method,
                 std::optional<double> duration_s) {
  Cell cell;
  cell.duration_s = duration_s;
  for (const rv::MethodRow& m : methods) {
    if (m.name != method || !m.available) continue;
    cell.energy_kwh = m.energy_kwh;
    cell.co2_g = m.co2_g;
    if (m.energy_kwh || m.co2_g) cell.kind = m.kind.empty() ? "measured" : m.kind;
  }
  return cell;
}

std::string method_kind(const rv::View& view, std::string_view method) {
  for (const rv::MethodRow& m : view.run.methods) {
    if (m.name == method && m.available) return m.kind.empty() ? "measured" : m.kind;
  }
  return {};
}

void fill_ratios(Row& row) {
  if (row.cells.empty()) return;
  const Cell first = row.cells.front();
  for (Cell& cell : row.cells) {
    if (first.energy_kwh && *first.energy_kwh != 0.0 && cell.energy_kwh)
      cell.ratio_kwh = *cell.energy_kwh / *first.energy_kwh;
    if (first.co2_g && *first.co2_g != 0.0 && cell.co2_g) cell.ratio_co2 = *cell.co2_g / *first.co2_g;
  }
}

bool any_value(const Row& row) {
  return std::any_of(row.cells.begin(), row.cells.end(),
                     [](const Cell& c) { return c.energy_kwh.has_value() || c.co2_g.has_value(); });
}

std::string run_list(const std::vector<std::size_t>& runs) {
  std::string out;
  for (const std::size_t r : runs) out += (out.empty() ? "#" : ", #") + std::to_string(r + 1);
  return out;
}

/// The phases named `name` of a run keyed by index (their order of appearance when they have none).
std::map<long long, const rv::Span*> phases_by_index(const rv::View& view, const std::string& name,
                                                     std::size_t& duplicates) {
  std::map<long long, const rv::Span*> out;
  long long ordinal = 0;
  for (const rv::Span& p : view.phases) {
    if (p.name != name) continue;
    ++ordinal;
    const long long index = p.index.value_or(ordinal);
    if (!out.emplace(index, &p).second) ++duplicates;
  }
  return out;
}

void add_differences(Comparison& c, const std::vector<ComparedRun>& runs) {
  const auto differ = [&](auto value) {
    return std::any_of(c.runs.begin(), c.runs.end(),
                       [&](const Comparison::RunColumn& r) { return value(r) != value(c.runs.front()); });
  };
  const bool pue_differs = differ([](const Comparison::RunColumn& r) { return r.pue; });
  if (pue_differs) {
    std::string values;
    for (const auto& r : c.runs)
      values += (values.empty() ? "" : ", ") + r.label + " " + rv::format_number(r.pue);
    c.notes.push_back(fmt::format(
        "PUE differs between runs ({}): kWh with PUE and gCO2e ratios include the difference in facility "
        "overhead, not only in the runs.",
        values));
  }
  if (differ([](const Comparison::RunColumn& r) { return r.carbon_g_per_kwh; })) {
    std::string values;
    for (const auto& r : c.runs) {
      values += (values.empty() ? "" : ", ") + r.label + " " +
                (r.carbon_g_per_kwh ? rv::format_number(*r.carbon_g_per_kwh) : std::string("unknown"));
    }
    c.notes.push_back(fmt::format(
        "Carbon intensity differs between runs ({} gCO2e/kWh): gCO2e ratios mix the grids with the hardware; "
        "the kWh ratios are free of the grid{}.",
        values,
        pue_differs
            ? ", but include the PUE difference: the IT energy (before PUE) is in `wattprint show ID` "
              "and the reports"
            : ""));
  }
  const std::set<std::string> mixed = compare_format::mixed_kind_methods(c);
  for (const std::string_view method : rv::kMethodOrder) {
    if (mixed.count(std::string(method)) == 0) continue;
    std::vector<std::size_t> measured;
    std::vector<std::size_t> modelled;
    for (const Row& row : c.rows) {
      if (row.method != method) continue;
      for (std::size_t r = 0; r < row.cells.size(); ++r) {
        auto& list = row.cells[r].kind == "modelled" ? modelled : measured;
        if (!row.cells[r].kind.empty() && std::find(list.begin(), list.end(), r) == list.end())
          list.push_back(r);
      }
    }
    std::sort(measured.begin(), measured.end());
    std::sort(modelled.begin(), modelled.end());
    c.notes.push_back(fmt::format(
        "* {} is measured in {} and modelled in {}: its ratios compare a model with a measurement.", method,
        run_list(measured), run_list(modelled)));
  }
  for (std::size_t r = 0; r < c.runs.size(); ++r) {
    const auto& run = c.runs[r];
    if (run.exit_code && *run.exit_code != 0) {
      c.notes.push_back(fmt::format("{} exited with status {}: its energy is that of a failed run.",
                                    run.label, *run.exit_code));
    } else if (const std::string signal = signal_text(runs[r].report); !signal.empty()) {
      c.notes.push_back(fmt::format("{} was ended by signal {}: its energy is that of an interrupted run.",
                                    run.label, signal));
    }
  }
  // The same run given twice (`compare 4 4`, or two exports of one run): by run_id, else by store ID.
  for (std::size_t r = 1; r < runs.size(); ++r) {
    const std::string run_id = run_id_text(runs[r].report);
    for (std::size_t first = 0; first < r; ++first) {
      const bool same_run_id = !run_id.empty() && run_id == run_id_text(runs[first].report);
      const bool same_id = runs[r].id != 0 && runs[r].id == runs[first].id;
      if (!same_run_id && !same_id) continue;
      c.notes.push_back(fmt::format("{} is the same run as {} ({}).", c.runs[r].label, c.runs[first].label,
                                    same_run_id ? "run_id " + run_id : fmt::format("ID {}", runs[r].id)));
      break;
    }
  }
  // Whole-run values with no ratio: #1 lacks them.
  std::vector<std::string> no_ratio;
  for (const Row& row : c.rows) {
    if (row.scope != "run" || row.cells.size() < 2) continue;
    const bool first_missing = !row.cells.front().energy_kwh || *row.cells.front().energy_kwh == 0.0;
    const bool others = std::any_of(row.cells.begin() + 1, row.cells.end(),
                                    [](const Cell& cell) { return cell.energy_kwh.has_value(); });
    if (first_missing && others) no_ratio.push_back(row.method);
  }
  if (!no_ratio.empty()) {
    c.notes.push_back(
        fmt::format("No ratios for {}: #1 has no value (or zero) for it.", fmt::join(no_ratio, ", ")));
  }
}

}  // namespace

Comparison make_comparison(const std::vector<ComparedRun>& runs, const CompareOptions& options) {
  if (runs.empty()) throw std::invalid_argument("compare needs at least one run: give one or more run IDs");
  Comparison c;
  std::vector<rv::View> views;
  views.reserve(runs.size());
  for (std::size_t r = 0; r < runs.size(); ++r) {
    views.push_back(rv::make_view(runs[r].report));
    const rv::View& v = views.back();
    Comparison::RunColumn col;
    col.label = fmt::format("#{}", r + 1);
    col.id = runs[r].id;
    col.started_at = v.started_at;
    col.hostname = v.hostname;
    col.command_text = v.command_text;
    col.hardware = v.hardware;
    col.tags_text = tags_text(runs[r].report);
    col.duration_s = v.duration_s;
    col.exit_code = v.exit_code;
    col.pue = v.pue;
    col.carbon_g_per_kwh = v.carbon_g_per_kwh;
    col.carbon_source = v.carbon_source;
    c.runs.push_back(std::move(col));
  }

  // The whole run: every method, in order, even when no run has it.
  for (const std::string_view method : rv::kMethodOrder) {
    Row row{.scope = "run", .method = std::string(method), .cells = {}};
    for (const rv::View& v : views) row.cells.push_back(method_cell(v.run.methods, method, v.duration_s));
    fill_ratios(row);
    c.rows.push_back(std::move(row));
  }

  // Per-phase means: the phase names every run has in its phase_summary, in #1's order.
  std::vector<std::string> names;
  std::map<std::string, std::vector<std::size_t>> runs_with;
  for (std::size_t r = 0; r < views.size(); ++r) {
    for (const rv::SummaryRow& s : views[r].summary) {
      if (std::find(names.begin(), names.end(), s.phase) == names.end()) names.push_back(s.phase);
      auto& list = runs_with[s.phase];
      if (std::find(list.begin(), list.end(), r) == list.end()) list.push_back(r);
    }
  }
  for (const std::string& name : names) {
    if (runs_with[name].size() != views.size()) {
      if (!options.by || *options.by != name) {
        c.notes.push_back(
            fmt::format("Phase {} is only in {}: no mean row for it.", name, run_list(runs_with[name])));
      }
      continue;
    }
    for (const std::string_view method : rv::kMethodOrder) {
      Row row{.scope = "mean " + name, .method = std::string(method), .cells = {}};
      for (const rv::View& v : views) {
        Cell cell;
        const auto s = std::find_if(v.summary.begin(), v.summary.end(), [&](const rv::SummaryRow& x) {
          return x.phase == name && x.method == method;
        });
        if (s != v.summary.end()) {
          cell.energy_kwh = s->mean_kwh;
          cell.co2_g = s->mean_co2_g;
          cell.duration_s = s->mean_duration_s;
          if (cell.energy_kwh || cell.co2_g) {
            // A method's kind is the same for the run and its phases; the first phase of the name says it.
            const auto p = std::find_if(v.phases.begin(), v.phases.end(),
                                        [&](const rv::Span& span) { return span.name == name; });
            const Cell from_phase =
                p == v.phases.end() ? Cell{} : method_cell(p->methods, method, std::nullopt);
            cell.kind = !from_phase.kind.empty() ? from_phase.kind : method_kind(v, method);
            if (cell.kind.empty()) cell.kind = "measured";
          }
        }
        row.cells.push_back(cell);
      }
      fill_ratios(row);
      if (any_value(row)) c.rows.push_back(std::move(row));
    }
  }

  // One row per index of the `by` phase, for each method. Its notes follow those on differences.
  std::vector<std::string> by_notes;
  if (options.by) {
    const std::string& by = *options.by;
    std::vector<std::map<long long, const rv::Span*>> indexed;
    std::vector<std::size_t> missing;
    std::set<long long> indices;
    for (std::size_t r = 0; r < views.size(); ++r) {
      std::size_t duplicates = 0;
      indexed.push_back(phases_by_index(views[r], by, duplicates));
      if (indexed.back().empty()) missing.push_back(r);
      if (duplicates > 0) {
        by_notes.push_back(fmt::format(
            "#{} has {} {} phases with an index already seen (nested under different parents?): the first "
            "of each index is compared.",
            r + 1, duplicates, by));
      }
      for (const auto& [index, span] : indexed.back()) indices.insert(index);
    }
    if (missing.size() == views.size()) {
      by_notes.push_back(fmt::format("No run has a phase named {}: no per-{} rows.", by, by));
    } else {
      for (const std::size_t r : missing)
        by_notes.push_back(fmt::format("#{} has no phase named {}.", r + 1, by));
    }
    std::vector<std::size_t> partial;
    for (std::size_t r = 0; r < views.size(); ++r) {
      if (!indexed[r].empty() && indexed[r].size() != indices.size()) partial.push_back(r);
    }
    for (const std::size_t r : partial) {
      std::vector<long long> lacking;
      for (const long long index : indices) {
        if (indexed[r].count(index) == 0) lacking.push_back(index);
      }
      by_notes.push_back(
          fmt::format("#{} has no {} {} (—).", r + 1, by, compare_format::index_ranges(lacking)));
    }
    for (const std::string_view method : rv::kMethodOrder) {
      for (const long long index : indices) {
        Row row{.scope = fmt::format("{} {}", by, index), .method = std::string(method), .cells = {}};
        for (std::size_t r = 0; r < views.size(); ++r) {
          const auto it = indexed[r].find(index);
          if (it == indexed[r].end()) {
            row.cells.emplace_back();
            continue;
          }
          const rv::Span& span = *it->second;
          row.cells.push_back(method_cell(span.methods, method, span.end_s - span.start_s));
        }
        fill_ratios(row);
        if (any_value(row)) c.rows.push_back(std::move(row));
      }
    }
  }
  add_differences(c, runs);
  c.notes.insert(c.notes.end(), by_notes.begin(), by_notes.end());
  return c;
}

// ---------------------------------------------------------------------------------------------------------
// Text

namespace {

using compare_format::display_width;

std::string pad_right(const std::string& text, std::size_t width) {
  const std::size_t w = display_width(text);
  return w >= width ? text : text + std::string(width - w, ' ');
}

std::string pad_left(const std::string& text, std::size_t width) {
  const std::size_t w = display_width(text);
  return w >= width ? text : std::string(width - w, ' ') + text;
}

/// Lines of aligned columns; `right[i]`: column i right-aligned. Two spaces between columns, no trailing
/// spaces, each line indented by two.
std::string table(const std::vector<std::vector<std::string>>& lines, const std::vector<bool>& right) {
  std::vector<std::size_t> widths;
  for (const auto& line : lines) {
    if (widths.size() < line.size()) widths.resize(line.size(), 0);
    for (std::size_t i = 0; i < line.size(); ++i) widths[i] = std::max(widths[i], display_width(line[i]));
  }
  std::string out;
  for (const auto& line : lines) {
    std::string text;
    for (std::size_t i = 0; i < line.size(); ++i) {
      text += "  ";
      text += i < right.size() && right[i] ? pad_left(line[i], widths[i]) : pad_right(line[i], widths[i]);
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
  }
  return out;
}

/// The cells of one run's column: value right-aligned, ratio left-aligned after two spaces, "*" when marked.
std::vector<std::string> run_column(const std::vector<const Row*>& rows, std::size_t run, bool co2,
                                    const std::set<std::string>& mixed) {
  std::vector<std::string> values;
  std::vector<std::string> ratios;
  for (const Row* row : rows) {
    const Cell& cell = row->cells[run];
    const auto& value = co2 ? cell.co2_g : cell.energy_kwh;
    const auto& ratio = co2 ? cell.ratio_co2 : cell.ratio_kwh;
    values.push_back(value ? (co2 ? rv::format_grams_value(*value) : rv::format_kwh_value(*value))
                           : std::string("—"));
    ratios.push_back(value && ratio ? compare_format::format_ratio(*ratio) : std::string());
  }
  std::size_t value_width = 0;
  std::size_t ratio_width = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    value_width = std::max(value_width, display_width(values[i]));
    ratio_width = std::max(ratio_width, display_width(ratios[i]));
  }
  std::vector<std::string> out;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::string text = pad_left(values[i], value_width);
    if (ratio_width > 0) text += "  " + pad_right(ratios[i], ratio_width);
    const Cell& cell = rows[i]->cells[run];
    if (cell.kind == "modelled" && mixed.count(rows[i]->method) != 0) {
      while (!text.empty() && text.back() == ' ') text.pop_back();
      text += "*";
    }
    out.push_back(text);
  }
  return out;
}

/// `scope_column`: the rows span several scopes (means, indices); `method_first`: grouped by method (the
/// per-index rows), the method said once per group, then the scope.
std::string values_table(const Comparison& c, const std::vector<const Row*>& rows, bool co2,
                         bool scope_column, bool method_first = false) {
  const std::set<std::string> mixed = compare_format::mixed_kind_methods(c);
  std::vector<std::vector<std::string>> lines;
  std::vector<std::string> header;
  if (method_first) {
    header = {"method", "scope"};
  } else {
    if (scope_column) header.emplace_back("scope");
    header.emplace_back("method");
  }
  header.emplace_back("kind");
  for (const auto& run : c.runs) header.push_back(run.label);
  lines.push_back(header);
  std::vector<std::vector<std::string>> columns;
  for (std::size_t r = 0; r < c.runs.size(); ++r) columns.push_back(run_column(rows, r, co2, mixed));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::vector<std::string> line;
    if (method_first) {
      line.push_back(i == 0 || rows[i - 1]->method != rows[i]->method ? rows[i]->method : "");
      line.push_back(rows[i]->scope);
    } else {
      if (scope_column) line.push_back(i == 0 || rows[i - 1]->scope != rows[i]->scope ? rows[i]->scope : "");
      line.push_back(rows[i]->method);
    }
    line.push_back(compare_format::kind_text(*rows[i]));
    for (const auto& column : columns) line.push_back(column[i]);
    lines.push_back(line);
  }
  std::vector<bool> right(header.size(), false);
  return table(lines, right);
}

/// The rows of one part: "run", the per-phase means ("mean …"), or the per-index rows (the rest).
std::vector<const Row*> part(const Comparison& c, int which) {
  std::vector<const Row*> out;
  for (const Row& row : c.rows) {
    const int kind = row.scope == "run" ? 0 : row.scope.rfind("mean ", 0) == 0 ? 1 : 2;
    if (kind == which) out.push_back(&row);
  }
  return out;
}

}  // namespace

std::string render_comparison_text(const Comparison& c) {
  std::string out = fmt::format("wattprint compare: {} run{} (ratios to #1)\n\n", c.runs.size(),
                                c.runs.size() == 1 ? "" : "s");
  std::vector<std::vector<std::string>> lines;
  lines.push_back(
      {"run", "ID", "started", "host", "duration", "exit", "PUE", "gCO2e/kWh", "tags", "command"});
  for (const auto& run : c.runs) {
    const auto or_dash = [](const std::string& s) { return s.empty() ? std::string("—") : s; };
    lines.push_back({run.label, compare_format::id_text(run.id), or_dash(run.started_at),
                     or_dash(run.hostname), rv::format_duration_text(run.duration_s),
                     compare_format::exit_text(run), rv::format_number(run.pue),
                     compare_format::carbon_text(run), or_dash(run.tags_text),
                     or_dash(compare_format::shorten(run.command_text, 60))});
  }
  out += "runs\n" + table(lines, {false, true, false, false, true, true, true, false, false, false});
  for (const auto& run : c.runs) {
    if (!run.hardware.empty()) out += fmt::format("  {} hardware: {}\n", run.label, run.hardware);
  }
  const std::vector<const Row*> whole = part(c, 0);
  out += "\nenergy with PUE (kWh), whole run\n" + values_table(c, whole, false, false);
  out += "\ngCO2e, whole run\n" + values_table(c, whole, true, false);
  const std::vector<const Row*> means = part(c, 1);
  if (!means.empty()) {
    out += "\nper-phase means: energy with PUE (kWh)\n" + values_table(c, means, false, true);
    out += "\nper-phase means: gCO2e\n" + values_table(c, means, true, true);
  }
  const std::vector<const Row*> indexed = part(c, 2);
  if (!indexed.empty()) {
    out += "\nper index: energy with PUE (kWh)\n" + values_table(c, indexed, false, true, true);
    out += "\nper index: gCO2e\n" + values_table(c, indexed, true, true, true);
  }
  if (!c.notes.empty()) {
    out += "\nnotes\n";
    for (const std::string& note : c.notes) out += "  - " + note + "\n";
  }
  return out;
}

}  // namespace wattprint
