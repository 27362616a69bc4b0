// `wattprint compare`: several runs side by side (the same training on a T4 and an RTX 6000, two model
// variants, two servers): per method the energy with PUE (kWh) and gCO2e of each run and its ratio to the
// first run, per-phase means where the runs have phases in common, and with `by` one row per phase index
// (epoch 1, 2, …). Works from the runs' report JSON (docs/report-schema.md, schema 1 and 2), so stored and
// imported runs compare alike. Text for the terminal (golden-tested), self-contained HTML with charts.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace wattprint {

/// One run to compare: its report (with `tags` when it has any) and its ID in the store (0: none).
struct ComparedRun {
  std::int64_t id = 0;
  nlohmann::json report;
};

struct CompareOptions {
  /// A phase name ("epoch"): one row per index of that phase (at any depth), matched across runs by index
  /// (by order of appearance when a phase has no index). nullopt: no per-index rows.
  std::optional<std::string> by;
};

/// The comparison as a model, rendered by the two formats below. Runs are numbered #1, #2… in the order
/// given; ratios are to #1 (none when #1's value is missing or zero).
struct Comparison {
  struct RunColumn {
    std::string label;  ///< "#1"
    std::int64_t id = 0;
    std::string started_at, hostname, command_text, hardware, tags_text;  ///< tags "k=v k=v"
    double duration_s = 0.0;
    std::optional<long long> exit_code;
    double pue = 1.0;
    std::optional<double> carbon_g_per_kwh;
    std::string carbon_source;
  };
  struct Cell {
    std::optional<double> energy_kwh;  ///< with PUE
    std::optional<double> co2_g;
    std::string kind;                            ///< "measured" / "modelled"; empty when unavailable
    std::optional<double> ratio_kwh, ratio_co2;  ///< to #1
    std::optional<double> duration_s;            ///< of the span (phase rows)
  };
  struct Row {
    std::string scope;        ///< "run", "mean NAME" (phase_summary of a name all runs have), "NAME INDEX"
    std::string method;       ///< estimate, process, gpu, server, server-minus-idle
    std::vector<Cell> cells;  ///< one per run
  };
  std::vector<RunColumn> runs;
  std::vector<Row> rows;           ///< whole run, then per-phase means, then per index; methods in order
  std::vector<std::string> notes;  ///< e.g. "#2 has no phase named epoch", differing PUE or carbon intensity
};

/// Throws std::invalid_argument for fewer than one run; a report missing fields compares as unknown values.
Comparison make_comparison(const std::vector<ComparedRun>& runs, const CompareOptions& options);

/// Aligned columns for a terminal: the runs (ID, start, host, duration, tags, command, PUE, gCO2e/kWh), then
/// a kWh table and a gCO2e table, each with one column per run ("0.1157 ×0.80"), "—" where unavailable.
std::string render_comparison_text(const Comparison& comparison);

/// One self-contained page (no script, no network): the runs table, grouped bars per method (kWh and
/// gCO2e, one colour per run), per-index lines when `by` was given, the ratio table.
std::string render_comparison_html(const Comparison& comparison);

}  // namespace wattprint
