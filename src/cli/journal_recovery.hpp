// `wattprint report --recover [RUN_ID|last]`: lists the journals of runs that did not end normally, and
// rebuilds a run's report from its journal (docs/recovery.md).
#pragma once

#include <optional>
#include <string>

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

/// Returns the exit status (0; 1 when nothing could be kept). Throws on a refused or failed recovery.
int recover_run(const RecoverFlags& flags);

}  // namespace wattprint::cli
