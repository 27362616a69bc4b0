// Recovery of a run from its journal (see journal_recovery.hpp).
#include "cli/journal_recovery.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <vector>

#include "attribution/procfs.hpp"
#include "cli/options.hpp"
#include "cli/run_history.hpp"
#include "core/error.hpp"
#include "journal/run_journal.hpp"
#include "platform/host_info.hpp"
#include "platform/text_file.hpp"
#include "report/report_formats.hpp"
#include "report/report_from_json.hpp"
#include "report/run_report.hpp"
#include "report/summary_text.hpp"
#include "samples/csv_sample_writer.hpp"

namespace wattprint::cli {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

bool recoverable(const JournalEntry& entry) {
  return entry.state != JournalEntry::State::Running && entry.state != JournalEntry::State::OtherHost;
}

void list(const std::vector<JournalEntry>& entries, const fs::path& root) {
  if (entries.empty()) {
    std::printf("no journal in %s: nothing to recover\n", root.c_str());
    return;
  }
  std::printf("%-36s  %-24s  %-20s  %-9s  %s\n", "RUN ID", "STATE", "STARTED", "COVERED", "COMMAND");
  for (const JournalEntry& entry : entries) {
    std::string command;
    for (const std::string& word : entry.owner.command) {
      if (!command.empty()) command += ' ';
      command += word;
    }
    std::printf("%-36s  %-24s  %-20s  %-9s  %s\n", entry.owner.run_id.c_str(), state_text(entry).c_str(),
                entry.owner.started_at.c_str(),
                entry.covered_s ? fmt::format("{:.1f} s", *entry.covered_s).c_str() : "nothing",
                command.c_str());
  }
  std::printf("recover one with: wattprint report --recover RUN_ID (or last)\n");
}

const JournalEntry& choose(const std::vector<JournalEntry>& entries, const std::string& run) {
  const JournalEntry* found = nullptr;
  if (run == "last") {
    for (const JournalEntry& entry : entries) {
      if (recoverable(entry)) found = &entry;
    }
    if (found == nullptr)
      throw std::runtime_error("--recover last: no interrupted or unstored run to recover");
    return *found;
  }
  for (const JournalEntry& entry : entries) {
    if (entry.owner.run_id.rfind(run, 0) != 0) continue;
    if (found != nullptr) {
      throw UsageError(fmt::format("--recover: '{}' matches more than one run: give more of its id", run));
    }
    found = &entry;
  }
  if (found == nullptr) {
    throw UsageError(
        fmt::format("--recover: no journal of a run '{}' (wattprint report --recover lists them)", run));
  }
  return *found;
}

/// Marks a journal's report as recovered: exit status unknown, the `recovered` object, a warning.
void mark_recovered(json& report, const JournalEntry& entry) {
  const double covered = entry.covered_s.value_or(0.0);
  const bool rebooted = entry.state == JournalEntry::State::Rebooted;
  report["exit_code"] = nullptr;
  report["signal"] = nullptr;
  report["recovered"] = {
      {"journal", entry.directory.string()},
      {"last_flush_at", entry.last_flush_at},
      {"covered_s", covered},
      {"reason", rebooted ? "machine rebooted" : "monitor killed"},
      {"recovered_at", iso8601_utc_now()},
  };
  if (!report.contains("warnings") || !report["warnings"].is_array()) report["warnings"] = json::array();
  report["warnings"].push_back(fmt::format(
      "recovered from the journal after the {}: this report covers the run up to the last flush, t={:.1f}s "
      "({}); what happened after it and the command's exit status are lost",
      rebooted ? "machine rebooted" : "monitor was killed", covered, entry.last_flush_at));
}

/// samples.jsonl → the per-sample CSV of `wattprint run --csv`.
void write_samples_csv(const fs::path& samples, const std::string& path) {
  std::ifstream in(samples);
  if (!in) throw std::runtime_error(fmt::format("--csv: the journal has no samples ({})", samples.string()));
  CsvSampleWriter csv(path);
  std::string line;
  bool begun = false;
  while (std::getline(in, line)) {
    const json j = json::parse(line, nullptr, false);
    if (!j.is_object()) break;  // a line cut by the crash ends the samples
    if (j.contains("series")) {
      std::vector<SampleSeries> series;
      for (const json& s : j["series"]) {
        series.push_back(
            {s.value("name", ""), s.value("component", ""), s.value("kind", ""), s.value("source", "")});
      }
      csv.begin(series);
      begun = true;
      continue;
    }
    if (!begun) break;
    SampleRow row;
    row.t_s = j.value("t", 0.0);
    row.interval_s = j.value("dt", 0.0);
    const auto values = [](const json& array) {
      std::vector<std::optional<double>> out;
      for (const json& v : array)
        out.push_back(v.is_number() ? std::optional<double>(v.get<double>()) : std::nullopt);
      return out;
    };
    row.power_w = values(j.value("power_w", json::array()));
    row.energy_j = values(j.value("energy_j", json::array()));
    row.cpu_share = j.value("cpu_share", 0.0);
    row.cpu_cores = j.value("cpu_cores", 0.0);
    row.phase = j.value("phase", "");
    csv.add(row);
  }
  csv.end();
  if (!csv.error().empty()) throw std::runtime_error("--csv: " + csv.error());
  std::fprintf(stderr, "  samples written to %s\n", path.c_str());
}

}  // namespace

std::optional<fs::path> resolve_journal_root(const std::optional<std::string>& flag, bool no_journal,
                                             const ConfigValues& config,
                                             const EnvironmentLookup& environment) {
  if (no_journal && flag) throw UsageError("--journal-dir and --no-journal: give one");
  if (no_journal) return std::nullopt;
  if (flag) {
    if (flag->empty()) throw UsageError("--journal-dir: give a directory (or --no-journal)");
    return fs::path(*flag);
  }
  if (auto dir = environment("WATTPRINT_JOURNAL_DIR"); dir && !dir->empty()) return fs::path(*dir);
  if (config.journal_enabled && !*config.journal_enabled) return std::nullopt;
  if (config.journal_dir) return fs::path(*config.journal_dir);
  return default_journal_root(environment);
}

int recover_run(const RecoverFlags& flags) {
  const EnvironmentLookup environment = process_environment();
  const ConfigValues config = load_configuration({});
  const std::optional<fs::path> found_root =
      resolve_journal_root(flags.journal_dir, false, config, environment);
  if (!found_root) {
    throw UsageError(
        "--recover: no journal directory (journal = false in the configuration, or no HOME): give "
        "--journal-dir DIR");
  }
  const fs::path& root = *found_root;
  const std::string host = detect_host(ProcFs("/proc")).hostname;
  const std::vector<JournalEntry> entries = list_journals(root, host, current_boot_id(environment));
  if (flags.run.empty()) {
    list(entries, root);
    return 0;
  }
  const std::optional<fs::path> store = resolve_store_path(flags.store, flags.no_store, config);
  if (flags.json_path) check_writable_path("--json", *flags.json_path);
  const JournalEntry& entry = choose(entries, flags.run);
  if (entry.state == JournalEntry::State::Running) {
    throw std::runtime_error(
        fmt::format("run {} is still running (wattprint pid {}): recover it only once that process is gone",
                    entry.owner.run_id, static_cast<long>(entry.owner.pid)));
  }
  if (entry.state == JournalEntry::State::OtherHost) {
    throw std::runtime_error(
        fmt::format("run {} was measured on {}: recover it there (this host cannot tell "
                    "whether it still runs)",
                    entry.owner.run_id, entry.owner.host));
  }
  if (!entry.has_report) {
    throw std::runtime_error(
        fmt::format("run {}: the journal {} holds no report (the run ended before its first "
                    "flush); remove the directory",
                    entry.owner.run_id, entry.directory.string()));
  }
  if (flags.csv_path && !fs::exists(entry.directory / "samples.jsonl")) {
    throw UsageError(
        fmt::format("--csv: run {} has no samples in its journal (a finished run keeps only its report)",
                    entry.owner.run_id));
  }
  json report = read_report_file(entry.directory / "report.json");
  if (entry.state != JournalEntry::State::Finished) mark_recovered(report, entry);
  std::fputs(render_summary(run_report_from_json(report)).c_str(), stderr);
  std::optional<std::string> json_written;
  if (flags.json_path) {
    write_file_atomically(*flags.json_path, report.dump(2) + "\n");
    std::fprintf(stderr, "  report written to %s\n", flags.json_path->c_str());
    json_written = flags.json_path;
  }
  if (flags.csv_path) write_samples_csv(entry.directory / "samples.jsonl", *flags.csv_path);
  bool kept = json_written.has_value();
  if (store) kept = store_finished_run(report, *store, json_written) || kept;
  if (!kept) {
    std::fprintf(stderr,
                 "  the journal %s is kept: nothing else holds this report (give --json FILE or a store)\n",
                 entry.directory.c_str());
    return 1;
  }
  if (flags.keep_journal) {
    std::fprintf(stderr, "  the journal %s is kept (--keep-journal)\n", entry.directory.c_str());
  } else {
    std::error_code ec;
    fs::remove_all(entry.directory, ec);
  }
  return 0;
}

}  // namespace wattprint::cli
