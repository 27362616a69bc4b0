// `wattprint compare --html`: one self-contained page (no script, no network), in the HTML report's look
// (report_view::html_style): the runs, grouped bars per method (a colour per run), per-index lines when
// the comparison has them, the ratio tables and the notes. Hover details come from SVG <title> elements.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "compare/comparison_format.hpp"
#include "compare/run_comparison.hpp"
#include "report/report_view.hpp"

namespace wattprint {

namespace {

namespace rv = report_view;
using rv::html_escape;
using Row = Comparison::Row;
using Cell = Comparison::Cell;

constexpr double kWidth = 960.0;
constexpr double kLeft = 70.0;
constexpr double kRight = 20.0;

/// A colour per run (Tol's bright palette, apart from the methods' Okabe–Ito colours), cycling past seven.
std::string run_colour(std::size_t run) {
  static constexpr const char* kColours[] = {"#4477AA", "#EE6677", "#228833", "#CCBB44",
                                             "#66CCEE", "#AA3377", "#BBBBBB"};
  return kColours[run % std::size(kColours)];
}

/// Beyond this many indices the per-index charts draw lines without a dot per value.
constexpr std::size_t kMaxPointMarks = 60;
/// At most this many index labels under a per-index chart.
constexpr std::size_t kMaxIndexLabels = 12;
/// The swatch of modelled values in the legends: hatched, like the modelled bars.
constexpr const char* kHatchedSwatch = "repeating-linear-gradient(135deg,#555 0 2px,#fff 2px 4px)";

std::string num(double value) { return fmt::format("{:.1f}", value); }

std::string value_text(double value, bool co2) {
  return co2 ? rv::format_grams_value(value) : rv::format_kwh_value(value);
}

struct Plot {
  double top = 30.0;
  double bottom = 40.0;
  double height = 320.0;
  double y_max = 1.0;
  [[nodiscard]] double inner_height() const { return height - top - bottom; }
  [[nodiscard]] static double inner_width() { return kWidth - kLeft - kRight; }
  [[nodiscard]] double y(double value) const { return top + inner_height() * (1.0 - value / y_max); }
  [[nodiscard]] double base() const { return top + inner_height(); }
};

std::string open_svg(const std::string& chart, const std::string& label, double height) {
  return fmt::format(
      "<svg data-chart=\"{}\" role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {} {}\" width=\"100%\" "
      "preserveAspectRatio=\"xMidYMid meet\" font-family=\"sans-serif\" "
      "font-size=\"12\">\n<title>{}</title>\n",
      html_escape(chart), html_escape(label), num(kWidth), num(height), html_escape(label));
}

std::string y_axis(const Plot& plot, const std::vector<double>& ticks, const std::string& title) {
  std::string out = "<g class=\"axis\">\n";
  for (const double tick : ticks) {
    const double y = plot.y(tick);
    out += fmt::format(R"(<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#dddddd"/>)", num(kLeft), num(y),
                       num(kWidth - kRight), num(y));
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#333\">{}</text>\n",
                       num(kLeft - 6), num(y + 4), rv::tick_label(tick));
  }
  out += fmt::format(
      "<text transform=\"translate(14 {}) rotate(-90)\" text-anchor=\"middle\" fill=\"#333\">{}</text>\n",
      num(plot.top + plot.inner_height() / 2), html_escape(title));
  out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"#333\"/>\n</g>\n",
                     num(kLeft), num(plot.base()), num(kWidth - kRight));
  return out;
}

/// A swatch per run in its colour; with `modelled_entry`, a last, hatched entry that says how modelled
/// values are drawn ("modelled (hatched)").
std::string run_legend(const Comparison& c, const std::string& modelled_entry) {
  std::string out = "<ul class=\"legend\">";
  for (std::size_t r = 0; r < c.runs.size(); ++r) {
    const auto& run = c.runs[r];
    std::string label = run.label;
    if (!run.tags_text.empty()) label += " " + run.tags_text;
    if (!run.hostname.empty()) label += " (" + run.hostname + ")";
    out += fmt::format(R"(<li><span class="swatch" style="background:{}"></span>{}</li>)", run_colour(r),
                       html_escape(label));
  }
  if (!modelled_entry.empty()) {
    out += fmt::format(R"(<li class="modelled"><span class="swatch" style="background:{}"></span>{}</li>)",
                       kHatchedSwatch, html_escape(modelled_entry));
  }
  return out + "</ul>\n";
}

/// Whether any of the rows has a modelled value.
bool any_modelled(const std::vector<const Row*>& rows) {
  return std::any_of(rows.begin(), rows.end(), [](const Row* row) {
    return std::any_of(row->cells.begin(), row->cells.end(),
                       [](const Cell& cell) { return cell.kind == "modelled"; });
  });
}

/// The id of run `run`'s hatch pattern in chart `chart` (ids are unique in the page).
std::string hatch_id(const std::string& chart, std::size_t run) {
  return fmt::format("{}-modelled-{}", chart, run);
}

/// A hatch per run in its colour (stripes on a light tint of it): the fill of modelled bars.
std::string hatch_patterns(const std::string& chart, std::size_t runs) {
  std::string out = "<defs>\n";
  for (std::size_t r = 0; r < runs; ++r) {
    out += fmt::format(
        "<pattern id=\"{0}\" patternUnits=\"userSpaceOnUse\" width=\"6\" height=\"6\" "
        "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"{1}\" fill-opacity=\"0.3\"/>"
        "<rect width=\"3\" height=\"6\" fill=\"{1}\"/></pattern>\n",
        hatch_id(chart, r), run_colour(r));
  }
  return out + "</defs>\n";
}

std::vector<const Row*> whole_run_rows(const Comparison& c) {
  std::vector<const Row*> rows;
  for (const Row& row : c.rows) {
    if (row.scope == "run") rows.push_back(&row);
  }
  return rows;
}

/// Grouped bars: one group per method, one bar per run, labelled with its value.
std::string bar_chart(const Comparison& c, bool co2) {
  const std::vector<const Row*> rows = whole_run_rows(c);
  double top_value = 0.0;
  bool any = false;
  for (const Row* row : rows) {
    for (const Cell& cell : row->cells) {
      if (const auto& v = co2 ? cell.co2_g : cell.energy_kwh; v) {
        any = true;
        top_value = std::max(top_value, *v);
      }
    }
  }
  if (!any || rows.empty()) {
    return "<p class=\"note\">No method has a value in any run: nothing to draw.</p>\n";
  }
  const std::vector<double> ticks = rv::nice_ticks(top_value);
  const std::size_t runs = c.runs.size();
  const double group_width = Plot::inner_width() / static_cast<double>(rows.size());
  const double bar_width = group_width * 0.8 / static_cast<double>(runs);
  const bool vertical_labels = bar_width < 40.0;
  Plot plot{.top = vertical_labels ? 80.0 : 30.0,
            .bottom = 40.0,
            .height = vertical_labels ? 400.0 : 340.0,
            .y_max = ticks.back()};
  const std::string unit = co2 ? "gCO2e" : "kWh";
  const std::string chart = co2 ? "compare-co2" : "compare-kwh";
  std::string out =
      open_svg(chart, fmt::format("{} per method and run ({})", co2 ? "Emissions" : "Energy with PUE", unit),
               plot.height);
  if (any_modelled(rows)) out += hatch_patterns(chart, runs);
  out += y_axis(plot, ticks, co2 ? "emissions (gCO2e)" : "energy with PUE (kWh)");
  for (std::size_t gi = 0; gi < rows.size(); ++gi) {
    const Row& row = *rows[gi];
    const double left = kLeft + group_width * static_cast<double>(gi) + group_width * 0.1;
    const double cx = kLeft + group_width * (static_cast<double>(gi) + 0.5);
    out += fmt::format("<g class=\"group\" data-method=\"{}\"><title>{}</title>\n", html_escape(row.method),
                       html_escape(row.method));
    bool drawn = false;
    for (std::size_t r = 0; r < runs && r < row.cells.size(); ++r) {
      const Cell& cell = row.cells[r];
      const auto& value = co2 ? cell.co2_g : cell.energy_kwh;
      if (!value) continue;
      drawn = true;
      const auto& ratio = co2 ? cell.ratio_co2 : cell.ratio_kwh;
      const double bx = left + bar_width * static_cast<double>(r);
      const double by = plot.y(std::max(*value, 0.0));
      const std::string label = value_text(*value, co2);
      std::string tip = fmt::format("{} · {}: {} {}", c.runs[r].label, row.method, label, unit);
      if (ratio) tip += " (" + compare_format::format_ratio(*ratio) + " #1)";
      if (!cell.kind.empty()) tip += ", " + cell.kind;
      // Modelled: hatched in the run's colour, outlined, so that the kind shows without hovering.
      const bool modelled = cell.kind == "modelled";
      out += fmt::format(
          "<rect class=\"bar\" data-kind=\"{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" "
          "fill=\"{}\"{}><title>{}</title></rect>\n",
          modelled ? "modelled" : "measured", num(bx), num(by), num(std::max(bar_width - 1.0, 0.5)),
          num(std::max(plot.base() - by, 0.5)), modelled ? "url(#" + hatch_id(chart, r) + ")" : run_colour(r),
          modelled ? fmt::format(R"( stroke="{}" stroke-width="1")", run_colour(r)) : std::string(),
          html_escape(tip));
      const double lx = bx + bar_width / 2;
      if (vertical_labels) {
        out += fmt::format(
            "<text transform=\"translate({} {}) rotate(-90)\" text-anchor=\"start\" font-size=\"10\" "
            "fill=\"#333\">{}</text>\n",
            num(lx + 3), num(by - 4), html_escape(label));
      } else {
        out += fmt::format(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"10\" fill=\"#333\">{}</text>\n",
            num(lx), num(by - 4), html_escape(label));
      }
    }
    if (!drawn) {
      out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#777\">unavailable</text>\n",
                         num(cx), num(plot.base() - 8));
    }
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#333\">{}</text>\n</g>\n",
                       num(cx), num(plot.base() + 18), html_escape(row.method));
  }
  out += "</svg>\n";
  return out;
}

struct IndexSeries {
  std::string by;                  ///< "epoch"
  std::vector<long long> indices;  ///< sorted
  /// method → its rows by index
  std::map<std::string, std::map<long long, const Row*>> rows;
  std::vector<std::string> methods;  ///< in the rows' order
};

/// The per-index rows ("epoch 3"), after the whole run and the means.
IndexSeries index_series(const Comparison& c) {
  IndexSeries s;
  std::set<long long> indices;
  for (const Row& row : c.rows) {
    if (row.scope == "run" || row.scope.rfind("mean ", 0) == 0) continue;
    const std::size_t space = row.scope.rfind(' ');
    if (space == std::string::npos) continue;
    long long index = 0;
    try {
      index = std::stoll(row.scope.substr(space + 1));
    } catch (const std::exception&) {
      continue;
    }
    s.by = row.scope.substr(0, space);
    indices.insert(index);
    if (s.rows.count(row.method) == 0) s.methods.push_back(row.method);
    s.rows[row.method][index] = &row;
  }
  s.indices.assign(indices.begin(), indices.end());
  return s;
}

/// The positions in `indices` (sorted) that get a label: all up to kMaxIndexLabels, else the multiples of
/// the smallest step of 1, 2 or 5 × 10^k that leaves at most kMaxIndexLabels (every n-th position when no
/// index is such a multiple).
std::vector<std::size_t> labelled_positions(const std::vector<long long>& indices) {
  std::vector<std::size_t> out;
  if (indices.size() <= kMaxIndexLabels) {
    for (std::size_t i = 0; i < indices.size(); ++i) out.push_back(i);
    return out;
  }
  for (long long decade = 1; decade <= 100'000'000'000'000'000LL; decade *= 10) {
    for (const long long factor : {1LL, 2LL, 5LL}) {
      const long long step = factor * decade;
      out.clear();
      for (std::size_t i = 0; i < indices.size(); ++i) {
        if (indices[i] % step == 0) out.push_back(i);
      }
      if (out.empty()) break;
      if (out.size() <= kMaxIndexLabels) return out;
    }
    if (out.empty()) break;
  }
  out.clear();
  const std::size_t stride = (indices.size() + kMaxIndexLabels - 1) / kMaxIndexLabels;
  for (std::size_t i = 0; i < indices.size(); i += stride) out.push_back(i);
  return out;
}

/// One method's kWh per index, a line per run (broken where the run has no value), a dot per value up to
/// kMaxPointMarks indices. Modelled values: a dashed line and open dots.
std::string line_chart(const Comparison& c, const IndexSeries& s, const std::string& method) {
  const auto& by_index = s.rows.at(method);
  double top_value = 0.0;
  for (const auto& [index, row] : by_index) {
    for (const Cell& cell : row->cells) {
      if (cell.energy_kwh) top_value = std::max(top_value, *cell.energy_kwh);
    }
  }
  const std::vector<double> ticks = rv::nice_ticks(top_value);
  Plot plot{.top = 20.0, .bottom = 46.0, .height = 260.0, .y_max = ticks.back()};
  const auto n = static_cast<double>(s.indices.size());
  const auto x = [&](std::size_t i) {
    return kLeft + Plot::inner_width() * (static_cast<double>(i) + 0.5) / n;
  };
  std::string out =
      open_svg("by-" + method, fmt::format("{}: energy with PUE (kWh) per {}", method, s.by), plot.height);
  out += y_axis(plot, ticks, "kWh");
  for (const std::size_t i : labelled_positions(s.indices)) {
    out += fmt::format(
        R"(<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="#333"/><text class="x-label" x="{0}" y="{3}" )"
        R"(text-anchor="middle" fill="#333">{4}</text>)",
        num(x(i)), num(plot.base()), num(plot.base() + 4), num(plot.base() + 16), s.indices[i]);
  }
  out += fmt::format("\n<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#333\">{}</text>\n",
                     num(kLeft + Plot::inner_width() / 2), num(plot.base() + 36), html_escape(s.by));
  for (std::size_t r = 0; r < c.runs.size(); ++r) {
    const std::string colour = run_colour(r);
    out += fmt::format("<g class=\"series\" data-run=\"{}\"><title>{}</title>\n",
                       html_escape(c.runs[r].label), html_escape(c.runs[r].label));
    std::string points;
    std::string dots;
    bool segment_modelled = false;
    const bool draw_dots = s.indices.size() <= kMaxPointMarks;
    const auto flush = [&] {
      if (points.find(' ') != std::string::npos) {
        out += fmt::format(
            "<polyline class=\"line\" data-kind=\"{}\" points=\"{}\" fill=\"none\" stroke=\"{}\" "
            "stroke-width=\"2\" stroke-linejoin=\"round\"{}/>\n",
            segment_modelled ? "modelled" : "measured", points, colour,
            segment_modelled ? " stroke-dasharray=\"6 4\"" : "");
      }
      points.clear();
      segment_modelled = false;
    };
    for (std::size_t i = 0; i < s.indices.size(); ++i) {
      const auto it = by_index.find(s.indices[i]);
      const Cell* cell =
          it == by_index.end() || r >= it->second->cells.size() ? nullptr : &it->second->cells[r];
      if (cell == nullptr || !cell->energy_kwh) {
        flush();
        continue;
      }
      const double px = x(i);
      const double py = plot.y(std::max(*cell->energy_kwh, 0.0));
      if (!points.empty()) points += ' ';
      points += num(px) + "," + num(py);
      const bool modelled = cell->kind == "modelled";
      segment_modelled = segment_modelled || modelled;
      if (!draw_dots) continue;
      std::string tip = fmt::format("{} · {} {}: {} kWh", c.runs[r].label, s.by, s.indices[i],
                                    rv::format_kwh_value(*cell->energy_kwh));
      if (cell->ratio_kwh) tip += " (" + compare_format::format_ratio(*cell->ratio_kwh) + " #1)";
      if (cell->duration_s) tip += ", " + rv::format_duration_text(*cell->duration_s);
      if (!cell->kind.empty()) tip += ", " + cell->kind;
      dots += fmt::format(
          "<circle class=\"point\" data-kind=\"{}\" cx=\"{}\" cy=\"{}\" r=\"4\" fill=\"{}\"{}>"
          "<title>{}</title></circle>\n",
          modelled ? "modelled" : "measured", num(px), num(py), modelled ? "#ffffff" : colour,
          modelled ? fmt::format(R"( stroke="{}" stroke-width="2")", colour) : std::string(),
          html_escape(tip));
    }
    flush();
    out += dots + "</g>\n";
  }
  out += "</svg>\n";
  return out;
}

std::string ratio_table(const Comparison& c, bool co2, const std::set<std::string>& mixed) {
  std::string out = "<table class=\"ratios\">\n<thead><tr><th>scope</th><th>method</th><th>kind</th>";
  for (const auto& run : c.runs) {
    out += fmt::format(R"(<th class="num">{}</th><th class="num">ratio</th>)", html_escape(run.label));
  }
  out += "</tr></thead>\n<tbody>\n";
  std::string previous;
  for (const Row& row : c.rows) {
    const std::string scope = row.scope == "run" ? "whole run" : row.scope;
    out += fmt::format(R"(<tr><td>{}</td><td><span class="swatch" style="background:{}"></span>{}</td>)",
                       scope == previous ? "" : html_escape(scope), rv::method_colour(row.method),
                       html_escape(row.method));
    out += fmt::format("<td class=\"kind\">{}</td>", html_escape(compare_format::kind_text(row)));
    previous = scope;
    for (const Cell& cell : row.cells) {
      const auto& value = co2 ? cell.co2_g : cell.energy_kwh;
      const auto& ratio = co2 ? cell.ratio_co2 : cell.ratio_kwh;
      const bool mark = cell.kind == "modelled" && mixed.count(row.method) != 0;
      const std::string tip = cell.kind.empty() ? std::string() : fmt::format(" title=\"{}\"", cell.kind);
      out += fmt::format(R"(<td class="num"{}>{}{}</td><td class="num">{}</td>)", tip,
                         value ? value_text(*value, co2) : "—", mark ? "*" : "",
                         value && ratio ? compare_format::format_ratio(*ratio) : "");
    }
    out += "</tr>\n";
  }
  return out + "</tbody>\n</table>\n";
}

}  // namespace

std::string render_comparison_html(const Comparison& c) {
  const std::size_t n = c.runs.size();
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += fmt::format("<title>wattprint compare: {} run{}</title>\n", n, n == 1 ? "" : "s");
  out += rv::html_style();
  out += "</head>\n<body>\n<header>\n";
  out += fmt::format("<h1>wattprint compare: {} run{}</h1>\n", n, n == 1 ? "" : "s");
  out +=
      "<p class=\"note\">Energy with PUE and emissions of each run, with each run's ratio to run #1.</p>\n";
  out += "</header>\n";

  out +=
      "<section id=\"runs\">\n<h2>Runs</h2>\n<table>\n<thead><tr><th>run</th><th class=\"num\">ID</th>"
      "<th>started</th><th>host</th><th class=\"num\">duration</th><th class=\"num\">exit</th>"
      "<th class=\"num\">PUE</th><th>gCO2e/kWh</th><th>tags</th><th>command</th></tr></thead>\n<tbody>\n";
  for (std::size_t r = 0; r < n; ++r) {
    const auto& run = c.runs[r];
    out += fmt::format(
        "<tr><td><span class=\"swatch\" style=\"background:{}\"></span>{}</td><td "
        "class=\"num\">{}</td><td>{}</td>"
        "<td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td>"
        "<td>{}</td><td><code>{}</code></td></tr>\n",
        run_colour(r), html_escape(run.label), html_escape(compare_format::id_text(run.id)),
        html_escape(run.started_at), html_escape(run.hostname),
        html_escape(rv::format_duration_text(run.duration_s)), html_escape(compare_format::exit_text(run)),
        html_escape(rv::format_number(run.pue)), html_escape(compare_format::carbon_text(run)),
        html_escape(run.tags_text), html_escape(run.command_text));
    if (!run.hardware.empty()) {
      out += fmt::format(
          "<tr class=\"hardware\"><td></td><td colspan=\"9\" class=\"note\">hardware: {}</td></tr>\n",
          html_escape(run.hardware));
    }
  }
  out += "</tbody>\n</table>\n</section>\n";

  const std::string legend =
      run_legend(c, any_modelled(whole_run_rows(c)) ? "modelled (hatched, outlined)" : "");
  out += "<section id=\"energy\">\n<h2>Energy with PUE per method (kWh)</h2>\n" + legend +
         bar_chart(c, false) + "</section>\n";
  out += "<section id=\"emissions\">\n<h2>Emissions per method (gCO2e)</h2>\n" + legend + bar_chart(c, true) +
         "</section>\n";

  const IndexSeries series = index_series(c);
  if (!series.methods.empty()) {
    std::vector<const Row*> indexed;
    for (const auto& [method, rows] : series.rows) {
      for (const auto& [index, row] : rows) indexed.push_back(row);
    }
    const std::string modelled_entry = !any_modelled(indexed) ? ""
                                       : series.indices.size() <= kMaxPointMarks
                                           ? "modelled (dashed line, open dots)"
                                           : "modelled (dashed line)";
    out += fmt::format("<section id=\"by\">\n<h2>Energy with PUE per {} (kWh)</h2>\n{}",
                       html_escape(series.by), run_legend(c, modelled_entry));
    // Neutral headings: a method's colour next to the runs' colours would read as one more run.
    for (const std::string& method : series.methods) {
      out += fmt::format("<h3 class=\"method\">{}</h3>\n", html_escape(method));
      out += line_chart(c, series, method);
    }
    out += "</section>\n";
  }

  const std::set<std::string> mixed = compare_format::mixed_kind_methods(c);
  out += "<section id=\"ratios\">\n<h2>Energy with PUE (kWh) and ratio to #1</h2>\n" +
         ratio_table(c, false, mixed);
  out += "<h2>Emissions (gCO2e) and ratio to #1</h2>\n" + ratio_table(c, true, mixed);
  out += "<p class=\"note\">— : no value (the method was unavailable, or the run has no such phase).";
  out += " kind: measured or modelled in every run; mixed: measured in some runs, modelled in others.";
  if (!mixed.empty()) out += " *: modelled in this run, measured in another.";
  out += "</p>\n</section>\n";
  if (!c.notes.empty()) {
    out += "<section id=\"notes\">\n<h2>Notes</h2>\n<ul class=\"warnings\">\n";
    for (const std::string& note : c.notes) out += "<li>" + html_escape(note) + "</li>\n";
    out += "</ul>\n</section>\n";
  }
  out += "<footer class=\"note\">Written by wattprint compare.</footer>\n</body>\n</html>\n";
  return out;
}

}  // namespace wattprint
