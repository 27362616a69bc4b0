// Store resolution and the end-of-run store step (see run_history.hpp).
#include "cli/run_history.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <exception>

#include "core/error.hpp"
#include "platform/text_file.hpp"
#include "store/run_store.hpp"

namespace wattprint::cli {

namespace fs = std::filesystem;

std::optional<fs::path> resolve_store_path(const std::optional<std::string>& flag, bool no_store,
                                           const ConfigValues& config) {
  if (no_store && flag) throw UsageError("--store and --no-store: give one");
  if (no_store) return std::nullopt;
  if (flag) {
    if (flag->empty()) throw UsageError("--store: give a database file (or --no-store for no history)");
    return fs::path(*flag);
  }
  if (const char* variable = std::getenv(kStoreVariable); variable != nullptr && *variable != '\0') {
    const std::string value = variable;
    if (value == "none" || value == "off" || value == "0") return std::nullopt;
    return fs::path(value);
  }
  if (config.store_enabled && !*config.store_enabled) return std::nullopt;
  if (config.store_path) return fs::path(*config.store_path);
  return default_store_path();
}

std::pair<std::string, std::string> parse_tag(const std::string& option, const std::string& text) {
  const auto equals = text.find('=');
  if (equals == std::string::npos || equals == 0) {
    throw UsageError(fmt::format("{}: '{}' is not KEY=VALUE (e.g. {} gpu=t4)", option, text, option));
  }
  std::string key = text.substr(0, equals);
  if (key.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-") !=
      std::string::npos) {
    throw UsageError(fmt::format("{}: tag name '{}' may hold letters, digits and _ . : - only", option, key));
  }
  std::string value = text.substr(equals + 1);
  if (value.find_first_of("\r\n") != std::string::npos) {
    throw UsageError(fmt::format("{}: the value of tag '{}' has a line break", option, key));
  }
  return {std::move(key), std::move(value)};
}

void add_store_option(CLI::App& command, std::optional<std::string>& store) {
  command
      .add_option_function<std::string>(
          "--store", [&store](const std::string& value) { store = value; },
          "The run history database (default: WATTPRINT_STORE, else `store` in the configuration, else "
          "~/.local/share/wattprint/runs.db)")
      ->type_name("PATH");
}

namespace {

/// Keeps the report in a file when it could not be stored; returns the file, or empty when that failed too.
std::string keep_unstored(const nlohmann::json& report, const fs::path& store) {
  const std::string name = fmt::format("{}.json", report.value("run_id", std::string("run")));
  std::error_code ec;
  std::vector<fs::path> candidates{fs::absolute(store, ec).parent_path() / "unstored" / name};
  const char* tmp = std::getenv("TMPDIR");
  candidates.push_back(fs::path(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") / ("wattprint-" + name));
  const std::string text = report.dump(2) + "\n";
  for (const fs::path& candidate : candidates) {
    try {
      fs::create_directories(candidate.parent_path(), ec);
      write_file_atomically(candidate, text);
      // The report holds the command line: readable by its owner only, like the database.
      fs::permissions(candidate, fs::perms::owner_read | fs::perms::owner_write, ec);
      return candidate.string();
    } catch (const std::exception&) {
      continue;
    }
  }
  return {};
}

}  // namespace

bool store_finished_run(const nlohmann::json& report, const fs::path& store,
                        const std::optional<std::string>& json_written) {
  try {
    RunStore runs = RunStore::open(store, RunStore::Mode::Create);
    if (!runs.migration_note().empty()) std::fprintf(stderr, "  %s\n", runs.migration_note().c_str());
    const RunStore::Added added = runs.add(report, "run");
    std::fprintf(stderr, "  stored as run %lld in %s (wattprint show %lld)\n",
                 static_cast<long long>(added.id), store.c_str(), static_cast<long long>(added.id));
    return true;
  } catch (const std::exception& e) {
    std::string kept = json_written.value_or("");
    if (kept.empty()) kept = keep_unstored(report, store);
    std::fprintf(stderr, "wattprint: warning: run history: %s\n", e.what());
    if (kept.empty()) {
      std::fprintf(stderr, "wattprint: warning: the report could not be kept in a file either\n");
      return false;
    }
    std::fprintf(stderr,
                 "wattprint: warning: this run was not stored; its report is in %s: add it later with "
                 "`wattprint import %s`\n",
                 kept.c_str(), kept.c_str());
    return true;
  }
}

}  // namespace wattprint::cli
