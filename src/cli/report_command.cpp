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
#include "cli/journal_recovery.hpp"
#include "cli/options.hpp"
#include "cli/run_history.hpp"
#include "core/error.hpp"
#include "report/report_formats.hpp"

namespace wattprint::cli {

namespace {

struct ReportFlags {
  std::string input;
  std::optional<std::string> format;
  std::optional<std::string> output;
  bool recover = false;  ///< --recover given
  RecoverFlags recover_options;
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
  if (flags.recover) {
    if (!flags.input.empty() || flags.format || flags.output) {
      throw UsageError("--recover rebuilds a run from its journal: give no RUN.json, --format or --output");
    }
    return recover_run(flags.recover_options);
  }
  if (flags.input.empty()) throw UsageError("report: give RUN.json (or --recover)");
  if (flags.recover_options.json_path || flags.recover_options.csv_path || flags.recover_options.store ||
      flags.recover_options.no_store || flags.recover_options.keep_journal ||
      flags.recover_options.journal_dir) {
    throw UsageError(
        "--json, --csv, --store, --no-store, --keep-journal and --journal-dir go with --recover");
  }
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
      ->type_name("FILE");
  const std::string recover_group = "Recovery of a run that did not end normally: see docs/recovery.md";
  CLI::Option* recover =
      cmd->add_option(
             "--recover", flags->recover_options.run,
             "Without RUN_ID: list the journals of runs killed, crashed or cut by a reboot (and of finished "
             "runs "
             "whose report was kept nowhere). With a run id, a unique prefix of one, or `last`: rebuild its "
             "report from the journal (up to its last flush, exit status unknown), print it, store it in the "
             "run "
             "history, then remove the journal")
          ->expected(0, 1)
          ->type_name("[RUN_ID|last]")
          ->group(recover_group);
  add_text_option(*cmd, "--json", flags->recover_options.json_path,
                  "With --recover: also write the report to FILE")
      ->type_name("FILE")
      ->group(recover_group);
  add_text_option(
      *cmd, "--csv", flags->recover_options.csv_path,
      "With --recover: write the journal's samples as the per-sample CSV of `wattprint run --csv`")
      ->type_name("FILE")
      ->group(recover_group);
  add_store_option(*cmd, flags->recover_options.store);
  cmd->add_flag("--no-store", flags->recover_options.no_store,
                "With --recover: do not store the run in the history")
      ->group(recover_group);
  cmd->add_flag("--keep-journal", flags->recover_options.keep_journal,
                "With --recover: keep the journal after recovering")
      ->group(recover_group);
  add_text_option(
      *cmd, "--journal-dir", flags->recover_options.journal_dir,
      "Where the journals are (default: WATTPRINT_JOURNAL_DIR, else $XDG_STATE_HOME/wattprint/journal, "
      "else ~/.local/state/wattprint/journal)")
      ->type_name("DIR")
      ->group(recover_group);
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
  return [flags, recover] {
    flags->recover = recover->count() > 0;
    return execute(*flags);
  };
}

}  // namespace wattprint::cli
