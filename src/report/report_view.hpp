// What every report format needs from a report's JSON form (docs/report-schema.md), extracted once: the
// hardware line, the methods table, the phases and the per-phase summary, the assumptions, the timeline.
// Internal to src/report (render_*.cpp); tolerant of missing keys: a field that is absent or null reads as
// unknown, never throws.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wattprint::report_view {

/// The five methods, in the order of every table and chart.
inline constexpr std::string_view kMethodOrder[] = {"estimate", "process", "gpu", "server",
                                                    "server-minus-idle"};

/// One method's result over one span (the whole run, a phase, a gap between phases).
struct MethodRow {
  std::string name;
  bool available = false;
  std::string kind;    ///< "measured" / "modelled"; empty when unavailable
  std::string reason;  ///< why unavailable
  std::optional<double> it_energy_j;
  std::optional<double> energy_kwh;  ///< with PUE
  std::optional<double> co2_g;
  std::optional<double> cpu_j, dram_j, memory_j, gpu_j, server_j;  ///< components, IT joules
  std::vector<std::pair<std::string, std::string>> assumptions;    ///< the whole run's only
};

/// A time span with its methods: the run, one phase, or one gap between top-level phases.
struct Span {
  std::string name;   ///< phase name ("train"); "run"; "before epoch 1" / "between A and B" / "after C"
  std::string label;  ///< "train 1"
  std::string path;   ///< "epoch 1/train 1"
  std::optional<long long> index;
  int depth = 0;
  double start_s = 0.0;
  double end_s = 0.0;
  std::vector<MethodRow> methods;  ///< in kMethodOrder, then any other
};

/// phase_summary, one (phase name, method) row.
struct SummaryRow {
  std::string phase;
  std::string method;
  long long count = 0;
  std::optional<double> mean_kwh, sd_kwh, min_kwh, max_kwh;
  std::optional<double> mean_co2_g, sd_co2_g, min_co2_g, max_co2_g;
  std::optional<double> mean_duration_s;
};

struct TimelineSeries {
  std::string name;
  std::string component;
  std::vector<std::optional<double>> mean_w, min_w, max_w;  ///< per bucket
};

struct Timeline {
  std::vector<double> start_s, end_s;  ///< per bucket
  std::vector<TimelineSeries> series;
};

struct View {
  int schema_version = 0;
  std::string kind;  ///< "run" / "estimate"
  std::string tool_version;
  std::vector<std::string> command;
  std::string command_text;  ///< shell-like, quoted where needed
  std::optional<long long> exit_code;
  std::string started_at;
  double duration_s = 0.0;
  std::string hostname;
  std::string job;              ///< the batch job (job_description()), empty outside one
  std::string job_attribution;  ///< "job cgroup /…" or "process tree (…)", empty outside a job
  std::string hardware;  ///< "2 × Xeon … (8 cores each, 32 logical CPUs); 1 × Tesla T4; 187.6 GB of memory"
  double pue = 1.0;
  std::string pue_source;
  std::optional<double> carbon_g_per_kwh;
  std::string carbon_source;  ///< "ADEME 2018, FR"
  std::string carbon_selected_by;
  Span run;                         ///< the whole run's methods
  std::vector<Span> phases;         ///< in order of start
  std::vector<Span> between;        ///< gaps between top-level phases
  std::vector<SummaryRow> summary;  ///< by phase name (first appearance), then kMethodOrder
  std::vector<std::pair<std::string, std::string>> assumptions;  ///< label, text
  std::vector<std::string> measured_methods, modelled_methods, unavailable_methods;
  std::vector<std::string> warnings;
  std::optional<Timeline> timeline;
};

View make_view(const nlohmann::json& report);

// ---- number and text formatting shared by the formats ----
std::string format_kwh_value(double kwh);    ///< "0.1157", "0.001234", "5.79e-06", "0"
std::string format_grams_value(double g);    ///< "123.4", "6.6067", "0.001234", "5.79e-06", "0"
std::string format_watts(double w);          ///< "156 W", "12.5 W"
std::string format_number(double value);     ///< shortest round-trip form ("57.1", "0.1157035729")
std::string format_duration_text(double s);  ///< "30m 44s", "4.20 s"

// ---- the formats (render_markdown.cpp, render_latex.cpp, render_html.cpp, render_csv.cpp) ----
std::string render_markdown(const View& view);
std::string render_latex(const View& view);
std::string render_html(const View& view);
std::string render_csv(const View& view);
/// The CSV's columns, and its rows without the header, each row starting with `leading` (fields already
/// escaped with csv_field, each followed by a comma): `wattprint export --format csv` puts the run first.
inline constexpr std::string_view kCsvHeader =
    "scope,name,index,start_s,end_s,method,kind,available,it_energy_j,energy_kwh,co2_g";
std::string render_csv_rows(const View& view, std::string_view leading);

/// The appendix's opening paragraph (Markdown and LaTeX); `markdown` puts the command in a code span.
std::string paragraph_text(const View& view, bool markdown);

/// The HTML report draws at most this many points per series (adjacent buckets merged beyond it).
inline constexpr std::size_t kMaxChartPoints = 1000;

// ---- pieces of the HTML report's look, shared with the comparison page (render_html.cpp) ----
/// A method's chart colour (Okabe–Ito): estimate, process, gpu, server, server-minus-idle; grey otherwise.
std::string method_colour(std::string_view method);
/// Axis ticks 0, step, 2 step, … up to the first multiple ≥ max (steps of 1, 2 or 5 × 10^k; about five).
std::vector<double> nice_ticks(double max);
/// A tick's label ("0", "0.05", "1.2e-05").
std::string tick_label(double value);
/// <ul class="legend"> of (label, colour) swatches, labels escaped.
std::string legend(const std::vector<std::pair<std::string, std::string>>& entries);
/// The report's <style> element (body, headings, tables, legend, notes, print rules).
std::string_view html_style();

/// LaTeX text mode: \ { } _ % & # $ ~ ^ < > escaped, common Unicode signs (×, −, ±, –, —, …, ≥, ≤, →, ÷, ·,
/// µ, ², °) as LaTeX commands, control characters as spaces.
std::string latex_escape(std::string_view text);
/// HTML text and attribute values: & < > " ' escaped.
std::string html_escape(std::string_view text);
/// RFC 4180: quoted (with "" for ") when it contains a comma, a quote, CR or LF.
std::string csv_field(std::string_view text);
/// Markdown table cell: | and \ escaped, line breaks as spaces.
std::string markdown_cell(std::string_view text);

}  // namespace wattprint::report_view
