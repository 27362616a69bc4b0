// The run history commands: `wattprint runs`, `show`, `compare`, `export`, `import` (docs/run-history.md).
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "cli/run_history.hpp"
#include "compare/run_comparison.hpp"
#include "core/error.hpp"
#include "platform/text_file.hpp"
#include "report/report_formats.hpp"
#include "report/report_from_json.hpp"
#include "report/report_view.hpp"
#include "report/summary_text.hpp"
#include "store/run_store.hpp"

namespace wattprint::cli {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct StoreChoice {
  std::optional<std::string> store;
  std::optional<std::string> config_file;
};

void add_store_choice(CLI::App& command, StoreChoice& choice) {
  add_store_option(command, choice.store);
  add_text_option(command, "--config", choice.config_file,
                  "Read this TOML file after the system's and the user's (for `store`)")
      ->type_name("FILE");
}

fs::path store_path(const StoreChoice& choice) {
  FootprintFlags footprint;
  footprint.config_file = choice.config_file;
  const auto path = resolve_store_path(choice.store, false, load_configuration(footprint));
  if (!path) {
    throw UsageError(
        "run history is off here (WATTPRINT_STORE=none or `store = false` in the configuration): give "
        "--store PATH");
  }
  return *path;
}

RunStore open_store(const StoreChoice& choice, RunStore::Mode mode) {
  RunStore store = RunStore::open(store_path(choice), mode);
  if (!store.migration_note().empty())
    std::fprintf(stderr, "wattprint: %s\n", store.migration_note().c_str());
  return store;
}

void write_output(const std::optional<std::string>& output, const std::string& text) {
  if (output) {
    write_file_atomically(*output, text);
    return;
  }
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
    throw std::runtime_error(fmt::format("cannot write to standard output: {}", std::strerror(errno)));
  }
}

// ---- time bounds of `runs --since/--until` ----

std::string iso_utc(std::time_t t) {
  std::tm utc{};
  gmtime_r(&t, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

/// "2026-11-27", "2026-11-27T14:00", "2026-11-27 14:00:05Z", "today", "yesterday", "3d", "12h", "30m",
/// "2w" (ago). A date alone given to --until means the end of that day. Times are UTC, like started_at.
std::string parse_time_bound(const std::string& option, const std::string& text, bool until,
                             std::time_t now) {
  static const std::regex relative(R"((\d{1,6})([mhdw]))");
  static const std::regex absolute(
      R"((\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:Z|\+00:?00)?)?)");
  std::smatch match;
  if (std::regex_match(text, match, relative)) {
    const long long count = std::stoll(match[1].str());
    const char unit = match[2].str()[0];
    const long long seconds = unit == 'm' ? 60 : unit == 'h' ? 3600 : unit == 'd' ? 86400 : 7 * 86400;
    return iso_utc(now - static_cast<std::time_t>(count * seconds));
  }
  std::tm day{};
  gmtime_r(&now, &day);
  day.tm_hour = day.tm_min = day.tm_sec = 0;
  bool date_only = true;
  if (text == "today" || text == "yesterday") {
    if (text == "yesterday") day.tm_mday -= 1;
  } else if (std::regex_match(text, match, absolute)) {
    day.tm_year = std::stoi(match[1].str()) - 1900;
    day.tm_mon = std::stoi(match[2].str()) - 1;
    day.tm_mday = std::stoi(match[3].str());
    if (match[4].matched) {
      date_only = false;
      day.tm_hour = std::stoi(match[4].str());
      day.tm_min = std::stoi(match[5].str());
      day.tm_sec = match[6].matched ? std::stoi(match[6].str()) : 0;
    }
    if (day.tm_mon > 11 || day.tm_mday < 1 || day.tm_mday > 31 || day.tm_hour > 23 || day.tm_min > 59 ||
        day.tm_sec > 60) {
      throw UsageError(fmt::format("{}: '{}' is not a valid date", option, text));
    }
  } else {
    throw UsageError(fmt::format(
        "{}: '{}' is not a time: give a UTC date (2026-11-27, 2026-11-27T14:00), today, yesterday, or an "
        "age (30m, 12h, 3d, 2w)",
        option, text));
  }
  if (until && date_only) day.tm_mday += 1;
  return iso_utc(timegm(&day));
}

struct FilterFlags {
  std::vector<std::string> tags;
  std::optional<std::string> since, until, command, host;
};

void add_filter_options(CLI::App& command, FilterFlags& flags) {
  const std::string group = "Filters (all must hold)";
  command
      .add_option_function<std::vector<std::string>>(
          "--tag",
          [&flags](const std::vector<std::string>& v) {
            flags.tags.insert(flags.tags.end(), v.begin(), v.end());
          },
          "Runs with this tag (KEY=VALUE; KEY=* for any value). Repeatable")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->group(group);
  add_text_option(command, "--since", flags.since,
                  "Runs started at or after TIME (UTC): 2026-11-27, 2026-11-27T14:00, today, yesterday, "
                  "or an age: 30m, 12h, 3d, 2w")
      ->type_name("TIME")
      ->group(group);
  add_text_option(command, "--until", flags.until,
                  "Runs started before TIME (a date alone: up to the end of that day)")
      ->type_name("TIME")
      ->group(group);
  add_text_option(command, "--command", flags.command, "Runs whose command line contains TEXT")
      ->type_name("TEXT")
      ->group(group);
  add_text_option(command, "--host", flags.host, "Runs on this host")->type_name("NAME")->group(group);
}

RunFilter make_filter(const FilterFlags& flags) {
  RunFilter filter;
  for (const std::string& text : flags.tags) filter.tags.push_back(parse_tag("--tag", text));
  const std::time_t now = std::time(nullptr);
  if (flags.since) filter.since = parse_time_bound("--since", *flags.since, false, now);
  if (flags.until) filter.until = parse_time_bound("--until", *flags.until, true, now);
  filter.command_contains = flags.command;
  filter.host = flags.host;
  return filter;
}

/// "gpu=t4 note='two words'": values with spaces or quotes are quoted, so the list splits unambiguously.
std::string tags_text(const std::map<std::string, std::string>& tags) {
  std::string text;
  for (const auto& [key, value] : tags) {
    if (!text.empty()) text += ' ';
    text.append(key).append("=");
    if (value.empty() || value.find_first_of(" \t'\"") != std::string::npos) {
      text += '\'';
      for (const char c : value) {
        if (c == '\'') {
          text.append("'\\''");
        } else {
          text += c;
        }
      }
      text += '\'';
    } else {
      text.append(value);
    }
  }
  return text;
}

std::string command_text(const std::vector<std::string>& command) {
  std::string text;
  for (const std::string& word : command) {
    if (!text.empty()) text += ' ';
    const bool quote = word.empty() || word.find_first_of(" \t'\"$\\") != std::string::npos;
    text += quote ? "'" + word + "'" : word;
  }
  return text;
}

/// Cuts text to at most `width` code points, with "…" at the end when cut.
std::string shorten(const std::string& text, std::size_t width) {
  std::size_t points = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0U) == 0x80U) continue;
    if (++points == width) {
      std::size_t end = i + 1;
      while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0U) == 0x80U) ++end;
      if (end == text.size()) return text;
      return text.substr(0, i) + "…";
    }
  }
  return text;
}

std::size_t display_width(const std::string& text) {
  return static_cast<std::size_t>(std::count_if(
      text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U; }));
}

/// Left-aligned columns separated by two spaces, widths in code points.
std::string table_text(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], display_width(row[c]));
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(widths[c] - display_width(row[c]) + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + '\n';
  }
  return out;
}

// ---- wattprint runs ----

struct RunsFlags {
  StoreChoice store;
  FilterFlags filter;
  std::optional<std::string> limit;
  bool json = false;
};

json stored_run_json(const StoredRun& run) {
  return {{"id", run.id},
          {"run_id", run.run_uuid},
          {"kind", run.kind},
          {"started_at", run.started_at},
          {"duration_s", run.duration_s},
          {"hostname", run.hostname},
          {"command", run.command},
          {"exit_code", run.exit_code ? json(*run.exit_code) : json(nullptr)},
          {"tags", run.tags},
          {"headline_method", run.headline_method.empty() ? json(nullptr) : json(run.headline_method)},
          {"energy_kwh", run.headline_kwh ? json(*run.headline_kwh) : json(nullptr)},
          {"co2_g", run.headline_co2_g ? json(*run.headline_co2_g) : json(nullptr)},
          {"stored_at", run.stored_at},
          {"origin", run.origin}};
}

int execute_runs(const RunsFlags& flags) {
  std::size_t limit = 20;
  if (flags.limit) {
    limit = static_cast<std::size_t>(parse_number("--limit", *flags.limit, 0, 1e9));
  }
  const RunFilter filter = make_filter(flags.filter);
  const RunStore store = open_store(flags.store, RunStore::Mode::Existing);
  std::vector<StoredRun> runs = store.list(filter);
  const std::size_t matching = runs.size();
  if (limit > 0 && runs.size() > limit) runs.resize(limit);
  if (flags.json) {
    json array = json::array();
    for (const StoredRun& run : runs) array.push_back(stored_run_json(run));
    write_output(std::nullopt, array.dump(2) + "\n");
    return 0;
  }
  if (runs.empty()) {
    std::fprintf(stderr, "no run matches in %s\n", store.path().c_str());
    return 0;
  }
  std::vector<std::vector<std::string>> rows{
      {"ID", "STARTED (UTC)", "DURATION", "HOST", "EXIT", "kWh", "gCO2e", "METHOD", "TAGS", "COMMAND"}};
  for (const StoredRun& run : runs) {
    std::string started = run.started_at;
    if (started.size() >= 16) started = started.substr(0, 10) + " " + started.substr(11, 5);
    rows.push_back({fmt::format("{}", run.id), started, format_duration(run.duration_s), run.hostname,
                    run.kind == "estimate" ? "estimate"
                    : run.exit_code        ? fmt::format("{}", *run.exit_code)
                                           : "-",
                    run.headline_kwh ? report_view::format_kwh_value(*run.headline_kwh) : "—",
                    run.headline_co2_g ? report_view::format_grams_value(*run.headline_co2_g) : "—",
                    run.headline_method.empty() ? "—" : run.headline_method, shorten(tags_text(run.tags), 40),
                    shorten(command_text(run.command), 60)});
  }
  write_output(std::nullopt, table_text(rows));
  std::fprintf(stderr, "%zu of %zu matching run%s in %s%s\n", runs.size(), matching, matching == 1 ? "" : "s",
               store.path().c_str(), runs.size() < matching ? " (--limit 0 lists all)" : "");
  return 0;
}

// ---- wattprint show ----

struct ShowFlags {
  StoreChoice store;
  std::string id;
  std::optional<std::string> format;
  std::optional<std::string> output;
};

int execute_show(const ShowFlags& flags) {
  const std::string format = flags.format.value_or("summary");
  std::optional<ReportFormat> report_format;
  if (format != "summary" && format != "json") {
    report_format = parse_report_format(format);
    if (!report_format) {
      throw UsageError(
          fmt::format("--format: '{}' is not a format (summary, json, md, latex, html or csv)", format));
    }
  }
  const RunStore store = open_store(flags.store, RunStore::Mode::Existing);
  const std::int64_t id = store.resolve(flags.id);
  const json report = store.report(id);
  if (format == "json") {
    write_output(flags.output, report.dump(2) + "\n");
  } else if (report_format) {
    write_output(flags.output, render_report(report, *report_format));
  } else {
    std::string header = fmt::format("run {} · {}", id, report.value("run_id", std::string()));
    if (report.contains("tags") && report["tags"].is_object() && !report["tags"].empty()) {
      header += " · tags " + tags_text(report["tags"].get<std::map<std::string, std::string>>());
    }
    write_output(flags.output, header + "\n" + render_summary(run_report_from_json(report)));
  }
  return 0;
}

/// The reports in a file: an export file's runs, or the file itself when it is one report.
std::vector<json> reports_in(const std::string& file) { return reports_of(read_json_file(file), file); }

// ---- wattprint compare ----

struct CompareFlags {
  StoreChoice store;
  std::vector<std::string> runs;
  std::optional<std::string> by;
  std::optional<std::string> html;
};

int execute_compare(const CompareFlags& flags) {
  if (flags.html) check_writable_path("--html", *flags.html);
  std::vector<ComparedRun> runs;
  std::optional<RunStore> store;
  for (const std::string& word : flags.runs) {
    if (word.ends_with(".json") || word.find('/') != std::string::npos) {  // a file, not an ID
      std::error_code ec;
      if (!fs::is_regular_file(word, ec)) {
        throw UsageError(fmt::format("{}: no such file (give a report or export file, or a run ID)", word));
      }
      for (json& report : reports_in(word)) runs.push_back({0, std::move(report)});
      continue;
    }
    if (!store) store = open_store(flags.store, RunStore::Mode::Existing);
    const std::int64_t id = store->resolve(word);
    runs.push_back({id, store->report(id)});
  }
  CompareOptions options;
  if (flags.by && *flags.by != "none") {
    options.by = flags.by;
    std::set<std::string> names;
    for (const ComparedRun& run : runs) {
      const auto phases = run.report.find("phases");
      if (phases == run.report.end() || !phases->is_array()) continue;
      for (const json& phase : *phases) {
        if (phase.is_object() && phase.contains("name") && phase["name"].is_string()) {
          names.insert(phase["name"].get<std::string>());
        }
      }
    }
    if (names.count(*flags.by) == 0) {
      std::string known;
      for (const std::string& name : names) known.append(known.empty() ? "" : ", ").append(name);
      throw UsageError(fmt::format("--by: no run has a phase named '{}' ({})", *flags.by,
                                   known.empty() ? "these runs have no phases" : "phases: " + known));
    }
  }
  const Comparison comparison = make_comparison(runs, options);
  write_output(std::nullopt, render_comparison_text(comparison));
  if (flags.html) {
    write_file_atomically(*flags.html, render_comparison_html(comparison));
    std::fprintf(stderr, "comparison written to %s\n", flags.html->c_str());
  }
  return 0;
}

// ---- wattprint export ----

struct ExportFlags {
  StoreChoice store;
  FilterFlags filter;
  std::vector<std::string> ids;
  std::optional<std::string> format;
  std::optional<std::string> output;
};

int execute_export(const ExportFlags& flags) {
  std::string format = flags.format.value_or("");
  if (format.empty()) {
    format = flags.output && fs::path(*flags.output).extension() == ".csv" ? "csv" : "json";
  }
  if (format != "json" && format != "csv") {
    throw UsageError(fmt::format("--format: '{}' is not an export format (json or csv)", format));
  }
  if (flags.output) check_writable_path("--output", *flags.output);
  const RunFilter filter = make_filter(flags.filter);
  const RunStore store = open_store(flags.store, RunStore::Mode::Existing);
  if (!flags.ids.empty() && (!flags.filter.tags.empty() || flags.filter.since || flags.filter.until ||
                             flags.filter.command || flags.filter.host)) {
    throw UsageError("export: give run IDs or filters, not both");
  }
  std::vector<std::int64_t> ids;
  for (const std::string& text : flags.ids) {
    const std::int64_t id = store.resolve(text);
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
  if (flags.ids.empty()) {
    std::vector<StoredRun> runs = store.list(filter);
    std::reverse(runs.begin(), runs.end());  // oldest first
    for (const StoredRun& run : runs) ids.push_back(run.id);
  }
  std::string text;
  if (format == "json") {
    json file{{"kind", kExportKind},
              {"schema_version", kExportSchemaVersion},
              {"tool", {{"name", "wattprint"}, {"version", version()}}},
              {"exported_at", iso_utc(std::time(nullptr))},
              {"runs", json::array()}};
    for (const std::int64_t id : ids) file["runs"].push_back(store.report(id));
    text = file.dump(2) + "\n";
  } else {
    using report_view::csv_field;
    text = "run_id,id,started_at,hostname,command,tags," + std::string(report_view::kCsvHeader) + "\r\n";
    for (const std::int64_t id : ids) {
      const json report = store.report(id);
      const report_view::View view = report_view::make_view(report);
      std::map<std::string, std::string> tags;
      if (report.contains("tags") && report["tags"].is_object()) {
        tags = report["tags"].get<std::map<std::string, std::string>>();
      }
      const std::string leading =
          fmt::format("{},{},{},{},{},{},", csv_field(report.value("run_id", std::string())), id,
                      csv_field(view.started_at), csv_field(view.hostname), csv_field(view.command_text),
                      csv_field(json(tags).dump()));
      text += report_view::render_csv_rows(view, leading);
    }
  }
  write_output(flags.output, text);
  std::fprintf(stderr, "exported %zu run%s from %s%s\n", ids.size(), ids.size() == 1 ? "" : "s",
               store.path().c_str(), flags.output ? (" to " + *flags.output).c_str() : "");
  return 0;
}

// ---- wattprint import ----

struct ImportFlags {
  StoreChoice store;
  std::vector<std::string> files;
  std::vector<std::string> tags;
};

int execute_import(const ImportFlags& flags) {
  std::map<std::string, std::string> extra_tags;
  for (const std::string& text : flags.tags) {
    auto [key, value] = parse_tag("--tag", text);
    if (!extra_tags.emplace(key, value).second)
      throw UsageError(fmt::format("--tag: '{}' is given twice", key));
  }
  RunStore store = open_store(flags.store, RunStore::Mode::Create);
  int failures = 0;
  std::size_t added = 0;
  std::size_t present = 0;
  for (const std::string& file : flags.files) {
    try {
      for (json report : reports_in(file)) {
        if (!extra_tags.empty()) {
          if (!report.contains("tags") || !report["tags"].is_object()) report["tags"] = json::object();
          for (const auto& [key, value] : extra_tags) report["tags"][key] = value;
        }
        const RunStore::Added result = store.add(report, "import " + fs::absolute(file).string());
        if (result.added) {
          ++added;
          std::fprintf(stderr, "%s: stored as run %lld\n", file.c_str(), static_cast<long long>(result.id));
        } else {
          ++present;
          std::fprintf(stderr, "%s: already stored as run %lld (same run_id); left as it was\n", file.c_str(),
                       static_cast<long long>(result.id));
        }
      }
    } catch (const StoreError& e) {
      if (e.problem() != StoreError::Problem::BadReport) throw;
      std::fprintf(stderr, "wattprint: error: %s: %s\n", file.c_str(), e.what());
      ++failures;
    } catch (const std::runtime_error& e) {
      std::fprintf(stderr, "wattprint: error: %s\n", e.what());
      ++failures;
    }
  }
  std::fprintf(stderr, "%zu run%s imported, %zu already there, %d file%s failed, in %s\n", added,
               added == 1 ? "" : "s", present, failures, failures == 1 ? "" : "s", store.path().c_str());
  return failures > 0 ? 1 : 0;
}

}  // namespace

Action add_runs_command(CLI::App& app) {
  auto flags = std::make_shared<RunsFlags>();
  CLI::App* cmd = app.add_subcommand(
      "runs",
      "List the stored runs, most recent first (every `wattprint run` is stored unless --no-store).\n"
      "  wattprint runs\n"
      "  wattprint runs --tag model=resnet50 --since 7d\n"
      "  wattprint runs --host node-12 --command train.py --limit 0");
  add_filter_options(*cmd, flags->filter);
  add_text_option(*cmd, "--limit", flags->limit, "Show the N most recent (default 20; 0: all)")
      ->type_name("N");
  cmd->add_flag("--json", flags->json, "One JSON array on stdout instead of the table");
  add_store_choice(*cmd, flags->store);
  cmd->footer(
      "kWh and gCO2e (with PUE) are those of the widest method the run has: server, else process, else gpu, "
      "else estimate; `wattprint show ID` has them all. See docs/run-history.md.");
  return [flags] { return execute_runs(*flags); };
}

Action add_show_command(CLI::App& app) {
  auto flags = std::make_shared<ShowFlags>();
  CLI::App* cmd = app.add_subcommand(
      "show",
      "Print a stored run as its summary did at the end of the run, or in another format.\n"
      "  wattprint show 12\n"
      "  wattprint show last --format md > appendix.md\n"
      "  wattprint show 12 --format json --output run12.json");
  cmd->add_option("ID", flags->id,
                  "The run: its ID from `wattprint runs`, `last`, or 8+ characters of its run_id")
      ->required();
  add_text_option(*cmd, "--format,-f", flags->format,
                  "summary (default), json (the report as `run --json` wrote it), md, latex, html or csv")
      ->type_name("FORMAT");
  add_text_option(*cmd, "--output,-o", flags->output, "Write to FILE (atomically) instead of stdout")
      ->type_name("FILE");
  add_store_choice(*cmd, flags->store);
  return [flags] { return execute_show(*flags); };
}

Action add_compare_command(CLI::App& app) {
  auto flags = std::make_shared<CompareFlags>();
  CLI::App* cmd = app.add_subcommand(
      "compare",
      "Compare runs side by side: per method the energy with PUE (kWh) and gCO2e of each run, and its ratio "
      "to the first; per-phase means; per epoch with --by.\n"
      "  wattprint compare 12 15\n"
      "  wattprint compare 12 15 --by epoch --html t4-vs-rtx6000.html\n"
      "  wattprint compare t4.json rtx6000.json     # saved reports work too");
  cmd->add_option("RUN", flags->runs,
                  "Runs: IDs from `wattprint runs`, `last`, run_id prefixes, or report files (*.json)")
      ->required();
  add_text_option(*cmd, "--by", flags->by,
                  "One row per index of this phase, e.g. --by epoch (epoch 1 of each run side by side)")
      ->type_name("PHASE");
  add_text_option(*cmd, "--html", flags->html, "Also write the comparison with charts to FILE (offline page)")
      ->type_name("FILE");
  add_store_choice(*cmd, flags->store);
  return [flags] { return execute_compare(*flags); };
}

Action add_export_command(CLI::App& app) {
  auto flags = std::make_shared<ExportFlags>();
  CLI::App* cmd = app.add_subcommand(
      "export",
      "Write stored runs to a file, to move them to another machine (`wattprint import`) or a spreadsheet.\n"
      "  wattprint export --tag project=resnet --output resnet-runs.json\n"
      "  wattprint export 12 15 --format csv > runs.csv");
  cmd->add_option("ID", flags->ids, "Runs to export (default: all the filters select)");
  add_filter_options(*cmd, flags->filter);
  add_text_option(*cmd, "--format,-f", flags->format,
                  "json (default: the full reports, for `wattprint import`) or csv (one row per run, phase "
                  "and method); default from --output's extension")
      ->type_name("FORMAT");
  add_text_option(*cmd, "--output,-o", flags->output, "Write to FILE (atomically) instead of stdout")
      ->type_name("FILE");
  add_store_choice(*cmd, flags->store);
  return [flags] { return execute_export(*flags); };
}

Action add_import_command(CLI::App& app) {
  auto flags = std::make_shared<ImportFlags>();
  CLI::App* cmd = app.add_subcommand(
      "import",
      "Store runs from files: reports (`wattprint run --json`) or exports (`wattprint export`). A run "
      "already stored (same run_id) is left as it is.\n"
      "  wattprint import run.json\n"
      "  wattprint import cluster-runs.json --tag site=lyon");
  cmd->add_option("FILE", flags->files, "Report or export files")->required();
  cmd->add_option_function<std::vector<std::string>>(
         "--tag",
         [flags](const std::vector<std::string>& v) {
           flags->tags.insert(flags->tags.end(), v.begin(), v.end());
         },
         "Add this tag to every imported run. Repeatable")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  add_store_choice(*cmd, flags->store);
  return [flags] { return execute_import(*flags); };
}

}  // namespace wattprint::cli
