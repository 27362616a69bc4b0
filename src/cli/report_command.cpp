// `wattprint report RUN.json`: re-renders a saved JSON report as Markdown, LaTeX, HTML or CSV.
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "report/report_formats.hpp"

namespace wattprint::cli {

namespace {

struct ReportFlags {
  std::string input;
  std::optional<std::string> format;
  std::optional<std::string> output;
};

std::optional<ReportFormat> format_from_extension(const std::filesystem::path& path) {
  const std::string extension = path.extension().string();
  if (extension == ".md" || extension == ".markdown") return ReportFormat::Markdown;
  if (extension == ".tex") return ReportFormat::Latex;
  if (extension == ".html" || extension == ".htm") return ReportFormat::Html;
  if (extension == ".csv") return ReportFormat::Csv;
  return std::nullopt;
}

/// Writes text to path through a temporary file in the same directory and a rename, so a reader never sees
/// half a report and a failed write leaves the old file in place.
void write_atomically(const std::filesystem::path& path, const std::string& text) {
  const std::string temporary = fmt::format("{}.tmp.{}", path.string(), ::getpid());
  const auto fail = [&](const std::string& what, int error) {
    std::remove(temporary.c_str());
    throw std::runtime_error(fmt::format("cannot write {}: {}{}", what, std::strerror(error),
                                         error == ENOENT ? " (does its directory exist?)" : ""));
  };
  std::FILE* file = std::fopen(temporary.c_str(), "wb");
  if (file == nullptr) fail(path.string(), errno);
  const bool written = std::fwrite(text.data(), 1, text.size(), file) == text.size();
  const int write_error = errno;
  if (std::fclose(file) != 0 || !written) fail(path.string(), written ? errno : write_error);
  if (std::rename(temporary.c_str(), path.c_str()) != 0) fail(path.string(), errno);
}

int execute(const ReportFlags& flags) {
  ReportFormat format = ReportFormat::Markdown;
  if (flags.format) {
    const auto parsed = parse_report_format(*flags.format);
    if (!parsed) {
      throw UsageError(
          fmt::format("--format: '{}' is not a report format (md, latex, html or csv)", *flags.format));
    }
    format = *parsed;
  } else if (flags.output) {
    format = format_from_extension(*flags.output).value_or(ReportFormat::Markdown);
  }
  const nlohmann::json report = read_report_file(flags.input);
  const std::string text = render_report(report, format);
  if (flags.output) {
    write_atomically(*flags.output, text);
    return 0;
  }
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
    throw std::runtime_error(
        fmt::format("cannot write the report to standard output: {}", std::strerror(errno)));
  }
  return 0;
}

}  // namespace

Action add_report_command(CLI::App& app) {
  auto flags = std::make_shared<ReportFlags>();
  CLI::App* cmd = app.add_subcommand(
      "report",
      "Render a saved report (the file `wattprint run --json FILE` wrote) as a compute appendix for a paper "
      "(Markdown or LaTeX), a self-contained HTML page with charts, or CSV.\n"
      "  wattprint report run.json                          # Markdown on stdout\n"
      "  wattprint report run.json --format latex > appendix.tex\n"
      "  wattprint report run.json --output report.html     # format from the extension\n"
      "  wattprint report run.json --format csv --output phases.csv");
  cmd->add_option("RUN.json", flags->input, "The JSON report written by `wattprint run --json FILE`")
      ->required()
      ->type_name("FILE");
  cmd->add_option("--format,-f", flags->format,
                  "md (Markdown, default), latex, html or csv; default: from --output's extension (.md .tex "
                  ".html .csv), else md")
      ->type_name("FORMAT");
  cmd->add_option("--output,-o", flags->output, "Write to FILE (atomically) instead of standard output")
      ->type_name("FILE");
  cmd->footer(
      "LaTeX tables use booktabs (\\usepackage{booktabs}). The HTML page needs no network and no script. "
      "CSV: "
      "one row per method for the whole run, each phase and each gap between phases.");
  return [flags] { return execute(*flags); };
}

}  // namespace wattprint::cli
