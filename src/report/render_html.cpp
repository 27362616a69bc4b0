// The HTML report: one self-contained page (no network: inline CSS, charts as inline SVG drawn here, no
// script), readable on screen and on paper. Hover details come from SVG <title> elements.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "report/report_view.hpp"

namespace wattprint::report_view {

namespace {

constexpr double kWidth = 960.0;
constexpr double kLeft = 70.0;
constexpr double kRight = 20.0;
constexpr double kTop = 30.0;

}  // namespace

/// Colours (Okabe–Ito and Tol palettes, readable by colour-blind readers); a method keeps its colour.
std::string method_colour(std::string_view method) {
  if (method == "estimate") return "#E69F00";
  if (method == "process") return "#56B4E9";
  if (method == "gpu") return "#009E73";
  if (method == "server") return "#0072B2";
  if (method == "server-minus-idle") return "#CC79A7";
  return "#777777";
}

namespace {

struct ComponentStyle {
  const char* key;
  const char* label;
  const char* colour;
};
constexpr ComponentStyle kComponents[] = {{"cpu", "CPU", "#D55E00"},
                                          {"dram", "DRAM (measured)", "#882255"},
                                          {"memory", "memory (modelled)", "#DDCC77"},
                                          {"gpu", "GPU", "#117733"},
                                          {"server", "server", "#332288"}};

std::string series_colour(const std::string& component, int nth) {
  static const std::map<std::string, std::vector<std::string>> kByComponent = {
      {"package", {"#D55E00", "#EE7733", "#CC6677"}},
      {"cpu", {"#D55E00", "#EE7733", "#CC6677"}},
      {"dram", {"#882255", "#AA4499", "#661100"}},
      {"gpu", {"#117733", "#44AA99", "#999933"}},
      {"server", {"#332288", "#6699CC", "#88CCEE"}}};
  const auto it = kByComponent.find(component);
  if (it == kByComponent.end()) return nth % 2 == 0 ? "#777777" : "#999933";
  return it->second[static_cast<std::size_t>(nth) % it->second.size()];
}

std::string num(double value) { return fmt::format("{:.1f}", value); }

}  // namespace

std::string tick_label(double value) {
  if (value == 0.0) return "0";
  return fmt::format("{:.6g}", value);
}

/// 0, step, 2 step, … up to the first multiple ≥ max (steps of 1, 2 or 5 × 10^k; about five of them).
std::vector<double> nice_ticks(double max) {
  if (!(max > 0.0) || !std::isfinite(max)) max = 1.0;
  const double raw = max / 5.0;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double normalised = raw / magnitude;
  const double step = (normalised <= 1.0   ? 1.0
                       : normalised <= 2.0 ? 2.0
                       : normalised <= 5.0 ? 5.0
                                           : 10.0) *
                      magnitude;
  std::vector<double> ticks;
  for (int i = 0; i <= 50; ++i) {
    const double value = step * i;
    ticks.push_back(value);
    if (value >= max * (1.0 - 1e-9)) break;
  }
  return ticks;
}

namespace {

/// A plot area with a linear y axis from 0 to the last tick.
struct Plot {
  double height = 0.0;
  double bottom = 0.0;
  double y_max = 1.0;
  [[nodiscard]] double top() const { return kTop; }
  [[nodiscard]] double inner_height() const { return height - kTop - bottom; }
  [[nodiscard]] double inner_width() const { return kWidth - kLeft - kRight; }
  [[nodiscard]] double y(double value) const { return kTop + inner_height() * (1.0 - value / y_max); }
  [[nodiscard]] double base() const { return kTop + inner_height(); }
};

std::string open_svg(const char* chart, const std::string& label, double height) {
  return fmt::format(
      "<svg data-chart=\"{}\" role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {} {}\" width=\"100%\" "
      "preserveAspectRatio=\"xMidYMid meet\" font-family=\"sans-serif\" "
      "font-size=\"12\">\n<title>{}</title>\n",
      chart, html_escape(label), num(kWidth), num(height), html_escape(label));
}

/// Horizontal grid lines with their labels, and the y axis title.
std::string y_axis(const Plot& plot, const std::vector<double>& ticks, const std::string& title) {
  std::string out = "<g class=\"axis\">\n";
  for (const double tick : ticks) {
    const double y = plot.y(tick);
    out += fmt::format(R"(<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#dddddd"/>)", num(kLeft), num(y),
                       num(kWidth - kRight), num(y));
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#333\">{}</text>\n",
                       num(kLeft - 6), num(y + 4), tick_label(tick));
  }
  out += fmt::format(
      "<text transform=\"translate(14 {}) rotate(-90)\" text-anchor=\"middle\" fill=\"#333\">{}</text>\n",
      num(plot.top() + plot.inner_height() / 2), html_escape(title));
  out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"#333\"/>\n</g>\n",
                     num(kLeft), num(plot.base()), num(kWidth - kRight));
  return out;
}

}  // namespace

std::string legend(const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string out = "<ul class=\"legend\">";
  for (const auto& [label, colour] : entries) {
    out += fmt::format(R"(<li><span class="swatch" style="background:{}"></span>{}</li>)", colour,
                       html_escape(label));
  }
  return out + "</ul>\n";
}

namespace {

// ---------------------------------------------------------------------------------------------------------
// Chart 1: power over time.

/// The timeline with adjacent buckets merged so that no series has more than kMaxChartPoints points.
Timeline downsample(const Timeline& in) {
  const std::size_t n = in.start_s.size();
  if (n <= kMaxChartPoints) return in;
  const std::size_t group = (n + kMaxChartPoints - 1) / kMaxChartPoints;
  Timeline out;
  for (std::size_t first = 0; first < n; first += group) {
    const std::size_t last = std::min(n, first + group);
    out.start_s.push_back(in.start_s[first]);
    out.end_s.push_back(in.end_s[last - 1]);
  }
  for (const TimelineSeries& s : in.series) {
    TimelineSeries merged;
    merged.name = s.name;
    merged.component = s.component;
    for (std::size_t first = 0; first < n; first += group) {
      const std::size_t last = std::min(n, first + group);
      double weighted = 0.0;
      double weight = 0.0;
      std::optional<double> low;
      std::optional<double> high;
      for (std::size_t i = first; i < last; ++i) {
        if (i < s.mean_w.size() && s.mean_w[i]) {
          const double width = std::max(in.end_s[i] - in.start_s[i], 1e-12);
          weighted += *s.mean_w[i] * width;
          weight += width;
        }
        if (i < s.min_w.size() && s.min_w[i]) low = std::min(low.value_or(*s.min_w[i]), *s.min_w[i]);
        if (i < s.max_w.size() && s.max_w[i]) high = std::max(high.value_or(*s.max_w[i]), *s.max_w[i]);
      }
      merged.mean_w.push_back(weight > 0.0 ? std::optional<double>(weighted / weight) : std::nullopt);
      merged.min_w.push_back(low);
      merged.max_w.push_back(high);
    }
    out.series.push_back(std::move(merged));
  }
  return out;
}

std::string power_chart(const View& v) {
  if (!v.timeline || v.timeline->start_s.empty() || v.timeline->series.empty()) {
    return "<p class=\"note\">This report has no power timeline (it was written before wattprint kept one, "
           "or "
           "nothing was sampled).</p>\n";
  }
  const Timeline t = downsample(*v.timeline);
  double x_end = std::max(v.duration_s, t.end_s.back());
  if (!(x_end > 0.0)) x_end = 1.0;
  double y_top = 0.0;
  for (const TimelineSeries& s : t.series) {
    for (const auto& values : {s.mean_w, s.max_w}) {
      for (const auto& w : values) {
        if (w) y_top = std::max(y_top, *w);
      }
    }
  }
  const std::vector<double> ticks = nice_ticks(y_top);
  Plot plot{.height = 380.0, .bottom = 46.0, .y_max = ticks.back()};
  const auto x = [&](double seconds) {
    return kLeft + plot.inner_width() * std::clamp(seconds / x_end, 0.0, 1.0);
  };
  std::string out = open_svg("power", "Power over time per sensor, with the phases", plot.height);
  // Phase bands: top-level phases shaded alternately, labelled when there is room.
  out += "<g class=\"phases\">\n";
  int shade = 0;
  for (const Span& p : v.phases) {
    if (p.depth != 0) continue;
    const double x0 = x(p.start_s);
    const double x1 = x(p.end_s);
    out += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{} ({} s to {} "
        "s)</title></rect>\n",
        num(x0), num(plot.top()), num(std::max(x1 - x0, 0.5)), num(plot.inner_height()),
        shade++ % 2 == 0 ? "#e8eef6" : "#f4f1e8", html_escape(p.label), num(p.start_s), num(p.end_s));
    if (x1 - x0 >= 44.0) {
      out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">{}</text>\n",
                         num((x0 + x1) / 2), num(plot.top() - 8), html_escape(p.label));
    }
  }
  out += "</g>\n";
  out += y_axis(plot, ticks, "power (W)");
  // x axis in seconds or minutes.
  const bool minutes = x_end > 600.0;
  const double unit = minutes ? 60.0 : 1.0;
  for (const double tick : nice_ticks(x_end / unit)) {
    if (tick * unit > x_end * (1.0 + 1e-9)) break;
    out += fmt::format(R"(<text x="{}" y="{}" text-anchor="middle" fill="#333">{}</text>)",
                       num(x(tick * unit)), num(plot.base() + 16), tick_label(tick));
  }
  out += fmt::format(
      "\n<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#333\">time since the start ({})</text>\n",
      num(kLeft + plot.inner_width() / 2), num(plot.base() + 36), minutes ? "min" : "s");
  // Series: the min–max band, then the mean line (split where the sensor gave nothing).
  std::map<std::string, int> nth;
  std::vector<std::pair<std::string, std::string>> entries;
  const auto middle = [&](std::size_t i) { return x((t.start_s[i] + t.end_s[i]) / 2); };
  for (const TimelineSeries& s : t.series) {
    const std::string colour = series_colour(s.component, nth[s.component]++);
    entries.emplace_back(s.name + (s.component.empty() ? "" : " (" + s.component + ")"), colour);
    out += fmt::format("<g class=\"series\" data-series=\"{}\"><title>{}</title>\n", html_escape(s.name),
                       html_escape(s.name));
    const std::size_t n = t.start_s.size();
    std::size_t i = 0;
    while (i < n) {
      // One run of buckets with both min and max.
      while (i < n && !(s.min_w[i] && s.max_w[i])) ++i;
      std::size_t j = i;
      while (j < n && s.min_w[j] && s.max_w[j]) ++j;
      if (j > i + 1) {
        std::string points;
        for (std::size_t k = i; k < j; ++k)
          points += fmt::format("{},{} ", num(middle(k)), num(plot.y(*s.max_w[k])));
        for (std::size_t k = j; k-- > i;)
          points += fmt::format("{},{} ", num(middle(k)), num(plot.y(*s.min_w[k])));
        points.pop_back();
        out += fmt::format(
            "<polygon class=\"band\" points=\"{}\" fill=\"{}\" fill-opacity=\"0.18\" stroke=\"none\"/>\n",
            points, colour);
      }
      i = j;
    }
    i = 0;
    while (i < n) {
      while (i < n && !s.mean_w[i]) ++i;
      std::size_t j = i;
      std::string points;
      for (; j < n && s.mean_w[j]; ++j)
        points += fmt::format("{},{} ", num(middle(j)), num(plot.y(*s.mean_w[j])));
      if (j > i) {
        points.pop_back();
        if (j == i + 1) points += " " + points;  // one bucket: a dot-sized line
        out += fmt::format(
            "<polyline class=\"mean\" points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.6\" "
            "stroke-linejoin=\"round\"/>\n",
            points, colour);
      }
      i = j;
    }
    out += "</g>\n";
  }
  out += "</svg>\n";
  out += legend(entries);
  out +=
      "<p class=\"note\">Lines: mean power per time bucket; shaded bands: the lowest and highest readings in "
      "the "
      "bucket; background: the top-level phases.</p>\n";
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Chart 2: per-phase grouped bars, one bar per method.

struct BarGroup {
  std::string label;
  std::string title;
  std::vector<std::optional<double>> value;      ///< per method in kMethodOrder
  std::vector<std::optional<double>> low, high;  ///< whiskers (per-name means only)
};

std::vector<std::string> chart_methods() {
  std::vector<std::string> names;
  for (const std::string_view name : kMethodOrder) names.emplace_back(name);
  return names;
}

std::optional<double> method_value(const Span& span, const std::string& method, bool co2) {
  for (const MethodRow& m : span.methods) {
    if (m.name == method && m.available) return co2 ? m.co2_g : m.energy_kwh;
  }
  return std::nullopt;
}

constexpr std::size_t kMaxPhaseGroups = 60;

std::vector<BarGroup> phase_groups(const View& v, bool co2, std::string& note) {
  const std::vector<std::string> methods = chart_methods();
  std::vector<const Span*> top;
  for (const Span& p : v.phases) {
    if (p.depth == 0) top.push_back(&p);
  }
  std::vector<BarGroup> groups;
  if (top.empty()) {
    note = "No phases were marked: the whole run.";
    BarGroup g{.label = "whole run", .title = "whole run", .value = {}, .low = {}, .high = {}};
    for (const std::string& m : methods) g.value.push_back(method_value(v.run, m, co2));
    groups.push_back(std::move(g));
    return groups;
  }
  if (top.size() <= kMaxPhaseGroups) {
    for (const Span* p : top) {
      BarGroup g{.label = p->label, .title = p->path, .value = {}, .low = {}, .high = {}};
      for (const std::string& m : methods) g.value.push_back(method_value(*p, m, co2));
      groups.push_back(std::move(g));
    }
    return groups;
  }
  note = fmt::format("{} top-level phases: the mean per phase name, whiskers from the lowest to the highest.",
                     top.size());
  std::vector<std::string> names;
  for (const Span* p : top) {
    if (std::find(names.begin(), names.end(), p->name) == names.end()) names.push_back(p->name);
  }
  for (const std::string& name : names) {
    BarGroup g{.label = name, .title = name, .value = {}, .low = {}, .high = {}};
    for (const std::string& m : methods) {
      const auto row = std::find_if(v.summary.begin(), v.summary.end(),
                                    [&](const SummaryRow& s) { return s.phase == name && s.method == m; });
      if (row == v.summary.end()) {
        g.value.emplace_back();
        g.low.emplace_back();
        g.high.emplace_back();
        continue;
      }
      g.value.push_back(co2 ? row->mean_co2_g : row->mean_kwh);
      g.low.push_back(co2 ? row->min_co2_g : row->min_kwh);
      g.high.push_back(co2 ? row->max_co2_g : row->max_kwh);
    }
    g.title =
        fmt::format("{} (mean of {} phases)", name,
                    std::count_if(top.begin(), top.end(), [&](const Span* p) { return p->name == name; }));
    groups.push_back(std::move(g));
  }
  return groups;
}

std::string phase_chart(const View& v, bool co2) {
  std::string note;
  const std::vector<BarGroup> groups = phase_groups(v, co2, note);
  const std::vector<std::string> methods = chart_methods();
  double top_value = 0.0;
  for (const BarGroup& g : groups) {
    for (std::size_t i = 0; i < g.value.size(); ++i) {
      if (g.value[i]) top_value = std::max(top_value, *g.value[i]);
      if (i < g.high.size() && g.high[i]) top_value = std::max(top_value, *g.high[i]);
    }
  }
  const std::vector<double> ticks = nice_ticks(top_value);
  const bool rotate = groups.size() > 12;
  Plot plot{.height = rotate ? 400.0 : 340.0, .bottom = rotate ? 100.0 : 40.0, .y_max = ticks.back()};
  const std::string unit = co2 ? "gCO2e" : "kWh";
  std::string out =
      open_svg(co2 ? "phase-co2" : "phase-kwh",
               fmt::format("{} per phase and method ({})", co2 ? "Emissions" : "Energy", unit), plot.height);
  out += y_axis(plot, ticks, co2 ? "emissions (gCO2e)" : "energy with PUE (kWh)");
  const double group_width = plot.inner_width() / static_cast<double>(groups.size());
  const double bar_width = group_width * 0.8 / static_cast<double>(methods.size());
  for (std::size_t gi = 0; gi < groups.size(); ++gi) {
    const BarGroup& g = groups[gi];
    const double left = kLeft + group_width * static_cast<double>(gi) + group_width * 0.1;
    out += fmt::format("<g class=\"group\"><title>{}</title>\n", html_escape(g.title));
    for (std::size_t mi = 0; mi < methods.size(); ++mi) {
      if (!g.value[mi]) continue;
      const double value = *g.value[mi];
      const double bx = left + bar_width * static_cast<double>(mi);
      const double by = plot.y(value);
      out += fmt::format(
          "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{} · {}: {} "
          "{}</title></rect>\n",
          num(bx), num(by), num(std::max(bar_width - 1.0, 0.5)), num(std::max(plot.base() - by, 0.5)),
          method_colour(methods[mi]), html_escape(g.title), html_escape(methods[mi]),
          co2 ? format_grams_value(value) : format_kwh_value(value), unit);
      if (mi < g.low.size() && g.low[mi] && g.high[mi]) {
        const double cx = bx + bar_width / 2;
        out += fmt::format(
            "<path class=\"whisker\" d=\"M{0},{1}V{2}M{3},{1}H{4}M{3},{2}H{4}\" stroke=\"#222\" "
            "fill=\"none\"/>\n",
            num(cx), num(plot.y(*g.low[mi])), num(plot.y(*g.high[mi])), num(cx - bar_width / 4),
            num(cx + bar_width / 4));
      }
    }
    const double cx = kLeft + group_width * (static_cast<double>(gi) + 0.5);
    if (rotate) {
      out += fmt::format(
          "<text transform=\"translate({} {}) rotate(-45)\" text-anchor=\"end\" fill=\"#333\">{}</text>\n",
          num(cx), num(plot.base() + 14), html_escape(g.label));
    } else {
      out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#333\">{}</text>\n", num(cx),
                         num(plot.base() + 18), html_escape(g.label));
    }
    out += "</g>\n";
  }
  out += "</svg>\n";
  if (!note.empty()) out += "<p class=\"note\">" + html_escape(note) + "</p>\n";
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Chart 3: breakdown by component, stacked, per method.

std::string components_chart(const View& v) {
  const auto parts = [](const MethodRow& m) {
    return std::vector<std::optional<double>>{m.cpu_j, m.dram_j, m.memory_j, m.gpu_j, m.server_j};
  };
  double top_value = 0.0;
  for (const MethodRow& m : v.run.methods) {
    if (!m.available) continue;
    double sum = 0.0;
    for (const auto& part : parts(m)) sum += part.value_or(0.0) / 3.6e6;
    top_value = std::max(top_value, sum);
  }
  const std::vector<double> ticks = nice_ticks(top_value);
  Plot plot{.height = 340.0, .bottom = 40.0, .y_max = ticks.back()};
  std::string out = open_svg("components", "IT energy per method, broken down by component", plot.height);
  out += y_axis(plot, ticks, "IT energy, before PUE (kWh)");
  const double slot =
      plot.inner_width() / static_cast<double>(std::max<std::size_t>(v.run.methods.size(), 1));
  for (std::size_t i = 0; i < v.run.methods.size(); ++i) {
    const MethodRow& m = v.run.methods[i];
    const double cx = kLeft + slot * (static_cast<double>(i) + 0.5);
    const double width = slot * 0.5;
    out += fmt::format("<g class=\"stack\" data-method=\"{}\"><title>{}</title>\n", html_escape(m.name),
                       html_escape(m.name));
    if (!m.available) {
      out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#777\">unavailable</text>\n",
                         num(cx), num(plot.base() - 8));
    } else {
      double sum = 0.0;
      const auto values = parts(m);
      for (std::size_t c = 0; c < values.size(); ++c) {
        if (!values[c] || *values[c] <= 0.0) continue;
        const double kwh = *values[c] / 3.6e6;
        const double y0 = plot.y(sum);
        const double y1 = plot.y(sum + kwh);
        sum += kwh;
        out += fmt::format(
            "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{} · {}: {} "
            "kWh</title></rect>\n",
            num(cx - width / 2), num(y1), num(width), num(std::max(y0 - y1, 0.5)), kComponents[c].colour,
            html_escape(m.name), kComponents[c].label, format_kwh_value(kwh));
      }
    }
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\">{}</text>\n</g>\n",
                       num(cx), num(plot.base() + 18), "#333", html_escape(m.name));
  }
  out += "</svg>\n";
  std::vector<std::pair<std::string, std::string>> entries;
  for (const ComponentStyle& c : kComponents) entries.emplace_back(c.label, c.colour);
  out += legend(entries);
  return out;
}

}  // namespace

std::string_view html_style() {
  return R"(<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;background:#fff;margin:0 auto;max-width:1000px;padding:1.5rem;line-height:1.45}
h1{font-size:1.5rem;margin:0 0 .5rem}h2{font-size:1.2rem;margin:2rem 0 .6rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
code{font-family:ui-monospace,"DejaVu Sans Mono",monospace;background:#f3f3f3;padding:0 .25em;border-radius:3px;word-break:break-all}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:0}dl.facts dt{font-weight:600}dl.facts dd{margin:0}
table{border-collapse:collapse;width:100%;font-size:.92rem}th,td{border-bottom:1px solid #e3e3e3;padding:.3rem .5rem;text-align:left;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}tr.unavailable td{color:#666}
.swatch{display:inline-block;width:.8em;height:.8em;margin-right:.4em;vertical-align:baseline;border-radius:2px}
ul.legend{list-style:none;padding:0;margin:.3rem 0;display:flex;flex-wrap:wrap;gap:.3rem 1.2rem;font-size:.9rem}
.note{color:#555;font-size:.9rem}svg{display:block;margin:.5rem 0;max-width:100%;height:auto}
ul.warnings li{color:#7a4b00}
@media print{body{max-width:none;padding:0}section{break-inside:avoid}h2{break-after:avoid}}
</style>
)";
}

std::string render_html(const View& v) {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += fmt::format("<title>wattprint: {}</title>\n",
                     html_escape(v.kind == "estimate" ? std::string("estimate") : v.command_text));
  out += html_style();
  out += "</head>\n<body>\n<header>\n";
  out += v.kind == "estimate"
             ? std::string("<h1>wattprint estimate</h1>\n")
             : fmt::format("<h1>Energy of <code>{}</code></h1>\n", html_escape(v.command_text));
  out += "<dl class=\"facts\">\n";
  const auto fact = [&out](const std::string& name, const std::string& value) {
    if (!value.empty()) out += fmt::format("<dt>{}</dt><dd>{}</dd>\n", html_escape(name), html_escape(value));
  };
  fact("host", v.hostname);
  fact("hardware", v.hardware);
  fact("batch job", v.job);
  fact("job attribution", v.job_attribution);
  fact("started", v.started_at);
  fact("duration", format_duration_text(v.duration_s));
  if (v.exit_code) fact("exit status", fmt::format("{}", *v.exit_code));
  fact("PUE", fmt::format("{} ({})", format_number(v.pue), v.pue_source));
  if (v.carbon_g_per_kwh) {
    fact("carbon intensity",
         fmt::format("{} gCO2e/kWh ({})", format_number(*v.carbon_g_per_kwh), v.carbon_source));
  }
  fact("tool", "wattprint " + v.tool_version + fmt::format(" (report schema {})", v.schema_version));
  out += "</dl>\n</header>\n";

  out +=
      "<section id=\"methods\">\n<h2>Energy and emissions per "
      "method</h2>\n<table>\n<thead><tr><th>method</th>"
      "<th>kind</th><th class=\"num\">IT energy (kWh)</th><th class=\"num\">with PUE (kWh)</th><th "
      "class=\"num\">gCO2e</th></tr></thead>\n<tbody>\n";
  for (const MethodRow& m : v.run.methods) {
    const std::string name = fmt::format(R"(<span class="swatch" style="background:{}"></span>{})",
                                         method_colour(m.name), html_escape(m.name));
    if (!m.available) {
      out += fmt::format("<tr class=\"unavailable\"><td>{}</td><td colspan=\"4\">unavailable: {}</td></tr>\n",
                         name, html_escape(m.reason));
      continue;
    }
    out += fmt::format(
        "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td "
        "class=\"num\">{}</td></tr>\n",
        name, html_escape(m.kind), m.it_energy_j ? format_kwh_value(*m.it_energy_j / 3.6e6) : "–",
        m.energy_kwh ? format_kwh_value(*m.energy_kwh) : "–", m.co2_g ? format_grams_value(*m.co2_g) : "–");
  }
  out += "</tbody>\n</table>\n</section>\n";

  out += "<section id=\"power\">\n<h2>Power over time</h2>\n" + power_chart(v) + "</section>\n";
  std::vector<std::pair<std::string, std::string>> method_entries;
  for (const MethodRow& m : v.run.methods) {
    if (std::find(std::begin(kMethodOrder), std::end(kMethodOrder), m.name) == std::end(kMethodOrder))
      continue;
    method_entries.emplace_back(m.available ? m.name : m.name + " (unavailable)", method_colour(m.name));
  }
  out += "<section id=\"phases\">\n<h2>Energy per phase</h2>\n" + legend(method_entries) +
         phase_chart(v, false) + "<h2>Emissions per phase</h2>\n" + legend(method_entries) +
         phase_chart(v, true) + "</section>\n";
  out +=
      "<section id=\"components\">\n<h2>Breakdown by component</h2>\n" + components_chart(v) + "</section>\n";

  if (!v.summary.empty()) {
    out +=
        "<section id=\"phase-summary\">\n<h2>Per-phase "
        "means</h2>\n<table>\n<thead><tr><th>phase</th><th>method</th>"
        "<th class=\"num\">n</th><th class=\"num\">mean duration</th><th class=\"num\">mean kWh ± sd</th><th "
        "class=\"num\">min–max kWh</th><th class=\"num\">mean gCO2e ± sd</th></tr></thead>\n<tbody>\n";
    const auto mean_sd = [](const std::optional<double>& mean, const std::optional<double>& sd,
                            std::string (*format)(double)) {
      if (!mean) return std::string("–");
      return sd ? fmt::format("{} ± {}", format(*mean), format(*sd)) : format(*mean);
    };
    for (const SummaryRow& s : v.summary) {
      out += fmt::format(
          "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td "
          "class=\"num\">{}</td><td "
          "class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
          html_escape(s.phase), html_escape(s.method), s.count,
          s.mean_duration_s ? html_escape(format_duration_text(*s.mean_duration_s)) : "–",
          mean_sd(s.mean_kwh, s.sd_kwh, format_kwh_value),
          s.min_kwh && s.max_kwh ? format_kwh_value(*s.min_kwh) + "–" + format_kwh_value(*s.max_kwh) : "–",
          mean_sd(s.mean_co2_g, s.sd_co2_g, format_grams_value));
    }
    out += "</tbody>\n</table>\n</section>\n";
  }

  out += "<section id=\"assumptions\">\n<h2>Assumptions</h2>\n<table>\n<tbody>\n";
  for (const auto& [label, value] : v.assumptions) {
    out += fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", html_escape(label), html_escape(value));
  }
  out += "</tbody>\n</table>\n</section>\n";
  if (!v.warnings.empty()) {
    out += "<section id=\"warnings\">\n<h2>Warnings</h2>\n<ul class=\"warnings\">\n";
    for (const std::string& w : v.warnings) out += "<li>" + html_escape(w) + "</li>\n";
    out += "</ul>\n</section>\n";
  }
  out +=
      fmt::format("<footer class=\"note\">Written by wattprint{} from a schema_version {} report.</footer>\n",
                  v.tool_version.empty() ? "" : " " + html_escape(v.tool_version), v.schema_version);
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace wattprint::report_view
