// Where `wattprint run` keeps its history and how the history commands find it: --store, --no-store,
// WATTPRINT_STORE, `store` in the configuration, else the default database (src/store/run_store.hpp).
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/config_file.hpp"

namespace wattprint::cli {

/// The environment variable naming the store: a path, or "none" / "off" / "0" for no history.
inline constexpr const char* kStoreVariable = "WATTPRINT_STORE";
/// Exported to the command: the run's UUID (as in the report's run_id).
inline constexpr const char* kRunIdVariable = "WATTPRINT_RUN_ID";

/// The database to use: `flag` (--store), else WATTPRINT_STORE, else `store` in the configuration, else
/// default_store_path(). nullopt when history is off (--no-store, WATTPRINT_STORE=none, store = false).
std::optional<std::filesystem::path> resolve_store_path(const std::optional<std::string>& flag, bool no_store,
                                                        const ConfigValues& config);

/// "KEY=VALUE" of --tag: KEY letters, digits and _ . : -; VALUE any text without line breaks (may be empty).
/// Throws UsageError naming the option.
std::pair<std::string, std::string> parse_tag(const std::string& option, const std::string& text);

/// Adds `--store PATH` to a history command (runs, show, compare, export, import).
void add_store_option(CLI::App& command, std::optional<std::string>& store);

/// Stores a finished run's report and says so on stderr in one line ("stored as run 12 in PATH: wattprint
/// show 12"). Never throws: when the store cannot be used, the report is kept in a file (`json_written` if
/// the run already wrote one, else PATH's directory/unstored/RUN_ID.json, else $TMPDIR) and the message
/// says why and how to import it later. Returns whether the report is kept (stored, or in a file).
bool store_finished_run(const nlohmann::json& report, const std::filesystem::path& store,
                        const std::optional<std::string>& json_written);

}  // namespace wattprint::cli
