// `wattprint report --recover [RUN_ID|last]`: lists the journals of runs that did not end normally, and
// rebuilds a run's report from its journal (docs/recovery.md).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "cluster/batch_job.hpp"
#include "config/config_file.hpp"

namespace wattprint::cli {

struct RecoverFlags {
  std::string run;  ///< empty: list; else a run id, a unique prefix of one, or "last"
  std::optional<std::string> journal_dir;
  std::optional<std::string> json_path;
  std::optional<std::string> csv_path;
  std::optional<std::string> store;
  bool no_store = false;
  bool keep_journal = false;
};

/// The journal root: `flag` (--journal-dir), else WATTPRINT_JOURNAL_DIR, else `journal` in the configuration,
/// else $XDG_STATE_HOME/wattprint/journal, else ~/.local/state/wattprint/journal. nullopt with --no-journal
/// (`no_journal`) or `journal = false`, or when no HOME is known.
std::optional<std::filesystem::path> resolve_journal_root(const std::optional<std::string>& flag,
                                                          bool no_journal, const ConfigValues& config,
                                                          const EnvironmentLookup& environment);

/// Returns the exit status (0; 1 when nothing could be kept). Throws on a refused or failed recovery.
int recover_run(const RecoverFlags& flags);

}  // namespace wattprint::cli
