// The run history: every run's report kept in an embedded SQLite database (default
// $XDG_DATA_HOME/wattprint/runs.db, else ~/.local/share/wattprint/runs.db), with its tags, its phases, its
// per-method energies and its power samples (the report's downsampled timeline) in tables that `sqlite3` can
// query. Schema and migrations: docs/run-history.md.
//
// Safety: WAL journal (the rollback journal on network file systems) and a busy timeout, writes in BEGIN
// IMMEDIATE transactions, so runs that end at the same moment on one database all land. A file that is not a
// wattprint store, is corrupt, or was written by a newer wattprint is reported with StoreError and never
// written to. Older schemas are migrated forward in one transaction, after a copy of the file is kept beside
// it (runs.db.schema-N.bak).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;

namespace wattprint {

/// The store schema this wattprint writes (PRAGMA user_version). 1: runs and tags; 2: phases, per-method
/// energies and power samples in their own tables (filled from the stored reports when migrating).
inline constexpr int kStoreSchemaVersion = 2;
/// PRAGMA application_id of a wattprint store ("WATP").
inline constexpr std::int32_t kStoreApplicationId = 0x57415450;

/// Why a store cannot be used. The message is one line: the path, what is wrong, the remedy.
class StoreError : public std::runtime_error {
 public:
  enum class Problem {
    Missing,    ///< no database at the path (read-only open)
    NotAStore,  ///< a file that is not SQLite, or a SQLite database of another program
    Corrupt,    ///< SQLite says the file is damaged
    Newer,      ///< written by a newer wattprint (store schema above kStoreSchemaVersion)
    Busy,       ///< still locked by another writer after the busy timeout
    Io,         ///< cannot create or write (permissions, full disk, missing directory)
    NotFound,   ///< no run with that ID
    BadReport,  ///< the report given to add() is not a wattprint report
  };
  StoreError(Problem problem, const std::string& message) : std::runtime_error(message), problem_(problem) {}
  [[nodiscard]] Problem problem() const { return problem_; }

 private:
  Problem problem_;
};

/// $XDG_DATA_HOME/wattprint/runs.db, else $HOME/.local/share/wattprint/runs.db.
std::filesystem::path default_store_path();

/// One row of `wattprint runs`.
struct StoredRun {
  std::int64_t id = 0;     ///< local ID in this database (what `show`, `compare` take)
  std::string run_uuid;    ///< the report's run_id: the same on every machine the run is imported into
  std::string kind;        ///< "run" / "estimate"
  std::string started_at;  ///< ISO 8601 UTC, as in the report
  double duration_s = 0.0;
  std::string hostname;
  std::vector<std::string> command;
  std::optional<int> exit_code;
  std::map<std::string, std::string> tags;
  /// The widest measured method available (server, else process, else gpu, else estimate) and its figures.
  std::string headline_method;
  std::optional<double> headline_kwh;  ///< with PUE
  std::optional<double> headline_co2_g;
  std::string stored_at;  ///< ISO 8601 UTC
  std::string origin;     ///< "run" or "import FILE"
};

/// `wattprint runs` filters; all given ones must hold.
struct RunFilter {
  std::vector<std::pair<std::string, std::string>> tags;  ///< key=value pairs; value "*" matches any value
  std::optional<std::string> since;                       ///< started_at >= since (ISO 8601 UTC text)
  std::optional<std::string> until;                       ///< started_at < until
  std::optional<std::string> command_contains;            ///< substring of the command line
  std::optional<std::string> host;                        ///< exact hostname
  std::size_t limit = 0;                                  ///< the most recent N; 0: all
};

class RunStore {
 public:
  enum class Mode {
    Existing,  ///< the file must exist (else Missing); opened read-only when it is not writable
    Create,    ///< creates the file (and its directory) when missing
  };
  /// In both modes an older schema is migrated forward (Io when the file is read-only), a newer one refused.
  /// Opens (and checks) a store. Throws StoreError.
  static RunStore open(const std::filesystem::path& path, Mode mode);
  RunStore(RunStore&&) noexcept;
  RunStore& operator=(RunStore&&) noexcept;
  ~RunStore();

  struct Added {
    std::int64_t id = 0;
    bool added = false;  ///< false: a run with the same run_id was already stored (nothing written)
  };
  /// Stores a report (the JSON of docs/report-schema.md, schema 1 or 2). Its `tags` object, if any, becomes
  /// the run's tags; a report without `run_id` gets one derived from its content, so importing the same
  /// file twice stores it once. Throws StoreError (BadReport, Busy, Io).
  Added add(const nlohmann::json& report, const std::string& origin);

  /// Most recent first (by started_at, then ID).
  [[nodiscard]] std::vector<StoredRun> list(const RunFilter& filter) const;

  /// "12" (local ID), "last" (the most recent), or a run_id prefix of at least 8 characters. Throws
  /// StoreError NotFound (or a one-line ambiguity message, also NotFound).
  [[nodiscard]] std::int64_t resolve(std::string_view id) const;

  /// The stored report as `run --json` wrote it (timeline rebuilt from the samples table), with `tags`.
  /// Throws StoreError NotFound.
  [[nodiscard]] nlohmann::json report(std::int64_t id) const;

  [[nodiscard]] int schema_version() const;
  /// "wal" on a local file system; "delete" (rollback journal) on a network one, where WAL cannot work.
  [[nodiscard]] std::string journal_mode() const;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  /// "upgraded PATH from store schema 1 to 2 (the file as it was is kept as PATH.schema-1.bak)" when this
  /// open migrated an older store; empty otherwise.
  [[nodiscard]] const std::string& migration_note() const { return migration_note_; }

 private:
  RunStore(sqlite3* db, std::filesystem::path path);
  /// Throws Corrupt when PRAGMA quick_check finds damage (called before saying a run is not there).
  void check_whole() const;
  /// One try of open() / add(), retried from the start while the database is busy.
  static RunStore open_checked(const std::filesystem::path& path);
  Added add_once(const nlohmann::json& report, const std::string& origin, const std::string& run_uuid,
                 const std::string& command_text, const std::optional<std::string>& command_json,
                 const std::optional<std::string>& hostname, const std::optional<std::string>& tool_version);
  sqlite3* db_ = nullptr;
  std::filesystem::path path_;
  std::string migration_note_;
};

/// Whether statfs(2)'s f_type names a file system shared between machines (NFS, SMB, Lustre, GPFS, BeeGFS,
/// Ceph, FUSE…): the store then uses SQLite's rollback journal instead of WAL, whose shared memory does not
/// work across machines.
bool is_network_filesystem(std::int64_t statfs_type);

/// A run_id for a report that has none: "content-" and 16 hex digits of a hash of its JSON text.
std::string content_run_id(const nlohmann::json& report);

/// A new random run_id (UUID version 4 from /dev/urandom).
std::string new_run_id();

}  // namespace wattprint
