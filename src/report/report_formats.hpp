// Re-rendering a report from its JSON form (the file `run --json` writes, schema in docs/report-schema.md):
// `run --html` and `wattprint report RUN.json --format md|latex|html|csv` both go through these, so a saved
// report renders exactly as the live one did.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wattprint {

enum class ReportFormat { Markdown, Latex, Html, Csv };

/// "md" / "markdown", "latex" / "tex", "html", "csv"; nullopt otherwise.
std::optional<ReportFormat> parse_report_format(std::string_view name);

/// Reads and checks a report file. Throws std::runtime_error with the path and a one-line reason and remedy:
/// unreadable, not JSON, not a wattprint report, or a schema_version newer than this wattprint reads.
nlohmann::json read_report_file(const std::filesystem::path& path);

/// The two halves of read_report_file: any JSON file (errors name the line), then the report check
/// (`name` is what the messages call it).
nlohmann::json read_json_file(const std::filesystem::path& path);
void check_report(const nlohmann::json& report, const std::string& name);
/// read_json_file's parsing of text already read (`name` is what the messages call it).
nlohmann::json parse_json_text(std::string_view text, const std::string& name);

/// The kind of file `wattprint export --format json` writes; `wattprint import` reads it and single reports.
inline constexpr const char* kExportKind = "wattprint-runs";
inline constexpr int kExportSchemaVersion = 1;
/// The reports in a parsed file (`wattprint import`, `compare FILE`): an export's runs, or the file itself
/// when it is one report; each checked with check_report. Throws std::runtime_error naming `name`.
std::vector<nlohmann::json> reports_of(nlohmann::json parsed, const std::string& name);

/// Markdown / LaTeX: a compute appendix for a paper (a short paragraph and a table: hardware, duration,
/// energy and CO2 per method with measured/modelled, per-phase means when there are phases, assumptions,
/// tool version). HTML: one self-contained page (no network) with charts: power over time per component with
/// phase bands, per-phase bars comparing the five methods (kWh and gCO2), breakdown by component, and the
/// assumptions table. CSV: one row per (phase or whole run, method) with energy, kWh and gCO2.
/// Missing optional sections (no phases, no timeline, unavailable methods) are rendered as such, never
/// thrown.
std::string render_report(const nlohmann::json& report, ReportFormat format);

}  // namespace wattprint
