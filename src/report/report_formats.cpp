// Reading a saved report and dispatching it to one of the formats (report_formats.hpp).
#include "report/report_formats.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "report/report_view.hpp"

namespace wattprint {

namespace {

/// The newest schema_version this wattprint reads.
constexpr int kNewestReadableSchema = 2;

}  // namespace

std::optional<ReportFormat> parse_report_format(std::string_view name) {
  if (name == "md" || name == "markdown") return ReportFormat::Markdown;
  if (name == "latex" || name == "tex") return ReportFormat::Latex;
  if (name == "html") return ReportFormat::Html;
  if (name == "csv") return ReportFormat::Csv;
  return std::nullopt;
}

nlohmann::json read_json_file(const std::filesystem::path& path) {
  const std::string name = path.string();
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    throw std::runtime_error(
        fmt::format("cannot read {}: it is a directory (give the file `run --json` wrote)", name));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error(fmt::format(
        "cannot read {}: {} (give the file `wattprint run --json FILE` wrote)", name, std::strerror(errno)));
  }
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) throw std::runtime_error(fmt::format("cannot read {}: {}", name, std::strerror(errno)));
  return parse_json_text(content.str(), name);
}

nlohmann::json parse_json_text(std::string_view text, const std::string& name) {
  nlohmann::json report;
  try {
    report = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    const std::size_t offset = std::min(e.byte, text.size());
    const std::size_t line =
        1 + static_cast<std::size_t>(std::count(
                text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset > 0 ? offset - 1 : 0), '\n'));
    std::string reason = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error ..." → the part after
    // ": ".
    if (const auto colon = reason.find(": "); colon != std::string::npos) reason = reason.substr(colon + 2);
    throw std::runtime_error(
        fmt::format("{} is not JSON (line {}): {} (give the file `wattprint run --json FILE` wrote)", name,
                    line, reason));
  } catch (const nlohmann::json::out_of_range& e) {
    // A number beyond double's range ("1e400"): valid JSON, but not something wattprint wrote.
    std::string reason = e.what();
    if (const auto bracket = reason.find("] "); bracket != std::string::npos)
      reason = reason.substr(bracket + 2);
    throw std::runtime_error(
        fmt::format("{} cannot be read: {} (give the file `wattprint run --json FILE` wrote)", name, reason));
  }
  return report;
}

void check_report(const nlohmann::json& report, const std::string& name) {
  const auto version = report.is_object() ? report.find("schema_version") : report.end();
  const auto kind = report.is_object() ? report.find("kind") : report.end();
  if (!report.is_object() || version == report.end() || !version->is_number_integer() ||
      kind == report.end() || !kind->is_string()) {
    throw std::runtime_error(
        fmt::format("{} is not a wattprint report (no schema_version/kind): give the file `wattprint run "
                    "--json FILE` wrote",
                    name));
  }
  const auto schema = version->get<long long>();
  if (schema > kNewestReadableSchema) {
    throw std::runtime_error(fmt::format(
        "{} was written by a newer wattprint (schema_version {}; this one reads up to {}): upgrade wattprint",
        name, schema, kNewestReadableSchema));
  }
  if (schema < 1) {
    throw std::runtime_error(fmt::format(
        "{} is not a wattprint report (schema_version {}): give the file `wattprint run --json FILE` wrote",
        name, schema));
  }
}

nlohmann::json read_report_file(const std::filesystem::path& path) {
  nlohmann::json report = read_json_file(path);
  check_report(report, path.string());
  return report;
}

std::vector<nlohmann::json> reports_of(nlohmann::json parsed, const std::string& name) {
  if (parsed.is_object() && parsed.value("kind", std::string()) == kExportKind) {
    const int schema = parsed.value("schema_version", 0);
    if (schema > kExportSchemaVersion) {
      throw std::runtime_error(
          fmt::format("{}: export format {} is newer than this wattprint reads ({}): upgrade wattprint", name,
                      schema, kExportSchemaVersion));
    }
    if (!parsed.contains("runs") || !parsed["runs"].is_array()) {
      throw std::runtime_error(fmt::format("{}: an export without its runs", name));
    }
    std::vector<nlohmann::json> runs = parsed["runs"].get<std::vector<nlohmann::json>>();
    for (std::size_t i = 0; i < runs.size(); ++i)
      check_report(runs[i], fmt::format("{} (run {})", name, i + 1));
    return runs;
  }
  check_report(parsed, name);
  return {std::move(parsed)};
}

std::string render_report(const nlohmann::json& report, ReportFormat format) {
  const report_view::View view = report_view::make_view(report);
  switch (format) {
    case ReportFormat::Markdown:
      return report_view::render_markdown(view);
    case ReportFormat::Latex:
      return report_view::render_latex(view);
    case ReportFormat::Html:
      return report_view::render_html(view);
    case ReportFormat::Csv:
      return report_view::render_csv(view);
  }
  return {};
}

}  // namespace wattprint
