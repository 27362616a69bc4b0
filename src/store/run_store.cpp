// The run history in SQLite: opening and checking the file, the schema and its migrations, and the queries of
// `wattprint runs|show|compare|export|import`. Every value goes into SQL as a bound parameter.
#include "store/run_store.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <pwd.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <system_error>
#include <thread>
#include <utility>

#include "samples/timeline.hpp"

namespace wattprint {

namespace {

using nlohmann::json;
using Problem = StoreError::Problem;

constexpr int kBusyTimeoutMs = 10'000;

// ---- errors ----

/// Runs `attempt` again while it fails with Busy, until kBusyTimeoutMs have passed. SQLite's busy handler
/// covers most waits, but not all: to avoid deadlocks it answers SQLITE_BUSY at once when a lock cannot be
/// upgraded (several processes creating or converting a fresh file to WAL together, a WAL index being
/// recovered). The whole step is then retried from its start, after a short random pause.
template <class Attempt>
auto retry_while_busy(Attempt&& attempt) -> decltype(attempt()) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
  unsigned pause_ms = 2;
  for (;;) {
    try {
      return attempt();
    } catch (const StoreError& error) {
      if (error.problem() != StoreError::Problem::Busy || std::chrono::steady_clock::now() >= deadline) throw;
    }
    const auto jitter =
        static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count()) % pause_ms;
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms + jitter));
    pause_ms = std::min(pause_ms * 2, 64U);
  }
}

StoreError other_program(const std::filesystem::path& path) {
  return {StoreError::Problem::NotAStore,
          fmt::format("{} is not a wattprint run history (an SQLite database of another program): give "
                      "another --store",
                      path.string())};
}

StoreError newer_store(const std::filesystem::path& path, std::int64_t version) {
  return {StoreError::Problem::Newer,
          fmt::format("{} was written by a newer wattprint (store schema {}; this one reads up to {}): "
                      "upgrade wattprint, or give another --store",
                      path.string(), version, kStoreSchemaVersion)};
}

[[noreturn]] void throw_sqlite(sqlite3* db, int rc, const std::filesystem::path& path,
                               std::string_view doing) {
  const std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  const std::string where = path.string();
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      throw StoreError(Problem::Busy,
                       fmt::format("{} is locked by another wattprint for more than {} s: try again", where,
                                   kBusyTimeoutMs / 1000));
    case SQLITE_CORRUPT:
      throw StoreError(
          Problem::Corrupt,
          fmt::format("{} is damaged (SQLite: {}): move it aside and give another --store (a copy "
                      "may be beside it as {}.schema-N.bak; `sqlite3 {} .recover` saves what it can)",
                      where, message, path.filename().string(), where));
    case SQLITE_NOTADB:
      throw StoreError(Problem::NotAStore,
                       fmt::format("{} is not a wattprint run history (not an SQLite database): give another "
                                   "--store",
                                   where));
    default:
      throw StoreError(Problem::Io,
                       fmt::format("cannot {} {} (SQLite: {}): check its permissions and the free "
                                   "disk space, or give another --store",
                                   doing, where, message));
  }
}

// ---- small RAII wrappers ----

struct Connection {
  sqlite3* db = nullptr;
  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    if (db != nullptr) sqlite3_close_v2(db);
  }
  sqlite3* release() { return std::exchange(db, nullptr); }
};

class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql, const std::filesystem::path& path) : db_(db), path_(&path) {
    const int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
    if (rc != SQLITE_OK) throw_sqlite(db, rc, path, "read");
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { sqlite3_finalize(stmt_); }

  Statement& bind(int i, std::string_view text) {
    check(sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Statement& bind(int i, const std::string& text) { return bind(i, std::string_view(text)); }
  Statement& bind(int i, std::int64_t value) {
    check(sqlite3_bind_int64(stmt_, i, value));
    return *this;
  }
  Statement& bind(int i, double value) {
    check(sqlite3_bind_double(stmt_, i, value));
    return *this;
  }
  Statement& bind_null(int i) {
    check(sqlite3_bind_null(stmt_, i));
    return *this;
  }
  Statement& bind(int i, const std::optional<std::string>& text) {
    return text ? bind(i, *text) : bind_null(i);
  }
  Statement& bind(int i, const std::optional<double>& value) {
    return value ? bind(i, *value) : bind_null(i);
  }
  Statement& bind(int i, const std::optional<std::int64_t>& value) {
    return value ? bind(i, *value) : bind_null(i);
  }

  /// true: a row is ready; false: done.
  bool step(std::string_view doing = "write") {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw_sqlite(db_, rc, *path_, doing);
  }
  void run() {
    step();
    reset();
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  [[nodiscard]] bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  [[nodiscard]] std::int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  [[nodiscard]] double real(int col) const { return sqlite3_column_double(stmt_, col); }
  [[nodiscard]] std::string text(int col) const {
    const auto* chars = sqlite3_column_text(stmt_, col);
    if (chars == nullptr) return {};
    return {reinterpret_cast<const char*>(chars), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))};
  }
  [[nodiscard]] std::optional<double> optional_real(int col) const {
    return is_null(col) ? std::nullopt : std::optional<double>(real(col));
  }

 private:
  void check(int rc) const {
    if (rc != SQLITE_OK) throw_sqlite(db_, rc, *path_, "write");
  }
  sqlite3* db_;
  const std::filesystem::path* path_;
  sqlite3_stmt* stmt_ = nullptr;
};

void exec(sqlite3* db, const char* sql, const std::filesystem::path& path, std::string_view doing = "write") {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) throw_sqlite(db, rc, path, doing);
}

std::int64_t pragma_int(sqlite3* db, const char* pragma, const std::filesystem::path& path) {
  Statement statement(db, fmt::format("PRAGMA {}", pragma), path);
  return statement.step("read") ? statement.int64(0) : 0;
}

/// BEGIN IMMEDIATE ... COMMIT; rolled back when left without commit().
class Transaction {
 public:
  Transaction(sqlite3* db, const std::filesystem::path& path) : db_(db), path_(&path) {
    exec(db, "BEGIN IMMEDIATE", path);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() {
    if (open_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit() {
    exec(db_, "COMMIT", *path_);
    open_ = false;
  }

 private:
  sqlite3* db_;
  const std::filesystem::path* path_;
  bool open_ = true;
};

// ---- the schema ----

constexpr const char* kSchema1 = R"sql(
CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  run_uuid TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  started_at TEXT,
  duration_s REAL,
  hostname TEXT,
  command_json TEXT,
  command_text TEXT,
  exit_code INTEGER,
  tool_version TEXT,
  report_schema INTEGER,
  report_json TEXT NOT NULL,
  stored_at TEXT NOT NULL,
  origin TEXT NOT NULL
);
CREATE TABLE tags (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
);
CREATE INDEX runs_started_at ON runs(started_at);
CREATE INDEX runs_hostname ON runs(hostname);
CREATE INDEX tags_key_value ON tags(key, value);
)sql";

constexpr const char* kSchema2 = R"sql(
ALTER TABLE runs ADD COLUMN timeline_stored INTEGER NOT NULL DEFAULT 0;
CREATE TABLE methods (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  method TEXT NOT NULL,
  available INTEGER NOT NULL,
  kind TEXT,
  it_energy_j REAL,
  energy_kwh REAL,
  co2_g REAL,
  PRIMARY KEY (run_id, method)
) WITHOUT ROWID;
CREATE TABLE phases (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  name TEXT,
  idx INTEGER,
  label TEXT,
  path TEXT,
  depth INTEGER,
  parent_seq INTEGER,
  start_s REAL,
  end_s REAL,
  ended_by TEXT,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
CREATE TABLE phase_methods (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  method TEXT NOT NULL,
  available INTEGER NOT NULL,
  kind TEXT,
  it_energy_j REAL,
  energy_kwh REAL,
  co2_g REAL,
  PRIMARY KEY (run_id, seq, method)
) WITHOUT ROWID;
CREATE TABLE sample_series (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  series INTEGER NOT NULL,
  name TEXT NOT NULL,
  component TEXT NOT NULL,
  kind TEXT NOT NULL,
  source TEXT NOT NULL,
  PRIMARY KEY (run_id, series)
) WITHOUT ROWID;
CREATE TABLE samples (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  bucket INTEGER NOT NULL,
  start_s REAL NOT NULL,
  end_s REAL NOT NULL,
  cpu_cores REAL NOT NULL,
  PRIMARY KEY (run_id, bucket)
) WITHOUT ROWID;
CREATE TABLE sample_power (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  bucket INTEGER NOT NULL,
  series INTEGER NOT NULL,
  mean_w REAL,
  min_w REAL,
  max_w REAL,
  PRIMARY KEY (run_id, bucket, series)
) WITHOUT ROWID;
)sql";

// ---- report fields ----

std::optional<std::string> string_at(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::optional<double> number_at(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

std::optional<std::int64_t> integer_at(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<std::int64_t>();
}

bool valid_tag_key(const std::string& key) {
  if (key.empty()) return false;
  for (const char c : key) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '.' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string quote_word(const std::string& word) {
  if (!word.empty() && word.find_first_of(" \t\n'\"") == std::string::npos) return word;
  std::string out = "'";
  for (const char c : word) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::vector<std::string> command_words(const json& report) {
  std::vector<std::string> words;
  const auto it = report.find("command");
  if (it == report.end() || !it->is_array()) return words;
  for (const auto& word : *it) {
    if (word.is_string()) words.push_back(word.get<std::string>());
  }
  return words;
}

std::string now_iso8601() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::array<char, 32> text{};
  const std::size_t n = std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return {text.data(), n};
}

std::string validate(const json& report) {
  if (!report.is_object()) return "it is not a JSON object";
  const auto version = integer_at(report, "schema_version");
  if (!version) return "it has no integer \"schema_version\"";
  if (*version < 1 || *version > 2) {
    return fmt::format("its schema_version {} is not one this wattprint reads (1 or 2)", *version);
  }
  const auto kind = string_at(report, "kind");
  if (!kind || (*kind != "run" && *kind != "estimate" && *kind != "merged")) {
    return R"(its "kind" is not "run", "estimate" or "merged")";
  }
  const auto methods = report.find("methods");
  if (methods == report.end() || !methods->is_object() || methods->empty()) {
    return "it has no \"methods\" object";
  }
  for (const auto& [name, method] : methods->items()) {
    if (!method.is_object()) return fmt::format("its method '{}' is not an object", name);
    const auto available = method.find("available");
    if (available == method.end() || !available->is_boolean()) {
      return fmt::format("its method '{}' has no true/false \"available\"", name);
    }
    for (const char* key : {"it_energy_j", "energy_kwh", "co2_g"}) {
      const auto value = method.find(key);
      const bool number = value != method.end() && value->is_number() && std::isfinite(value->get<double>());
      const bool none = value == method.end() || value->is_null();
      if (available->get<bool>() ? !number : !(none || number)) {
        return fmt::format("its method '{}' has {} \"{}\"", name,
                           available->get<bool>() ? "no numeric" : "a non-numeric", key);
      }
    }
  }
  if (const auto duration = report.find("duration_s"); duration != report.end() && !duration->is_number()) {
    return "its \"duration_s\" is not a number";
  }
  if (const auto phases = report.find("phases");
      phases != report.end() && !phases->is_null() && !phases->is_array()) {
    return "its \"phases\" is not an array";
  }
  const auto tags = report.find("tags");
  if (tags != report.end() && !tags->is_null()) {
    if (!tags->is_object()) return "its \"tags\" is not an object";
    for (const auto& [key, value] : tags->items()) {
      if (!valid_tag_key(key)) return fmt::format("its tag key '{}' is not made of A-Z a-z 0-9 _ . : -", key);
      if (!value.is_string()) return fmt::format("its tag '{}' is not a string", key);
    }
  }
  return {};
}

// ---- the derived tables (schema 2) ----

void insert_methods(sqlite3* db, const std::filesystem::path& path, std::int64_t run_id, const json& report) {
  const auto methods = report.find("methods");
  if (methods == report.end() || !methods->is_object()) return;
  Statement insert(db,
                   "INSERT INTO methods (run_id, method, available, kind, it_energy_j, energy_kwh, co2_g) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                   path);
  for (const auto& [name, method] : methods->items()) {
    if (!method.is_object()) continue;
    const auto available = method.find("available");
    insert.bind(1, run_id)
        .bind(2, name)
        .bind(3, std::int64_t{available != method.end() && available->is_boolean() && available->get<bool>()})
        .bind(4, string_at(method, "kind"))
        .bind(5, number_at(method, "it_energy_j"))
        .bind(6, number_at(method, "energy_kwh"))
        .bind(7, number_at(method, "co2_g"));
    insert.run();
  }
}

void insert_phases(sqlite3* db, const std::filesystem::path& path, std::int64_t run_id, const json& report) {
  const auto phases = report.find("phases");
  if (phases == report.end() || !phases->is_array()) return;
  Statement insert_phase(
      db,
      "INSERT INTO phases (run_id, seq, name, idx, label, path, depth, parent_seq, start_s, "
      "end_s, ended_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
      path);
  Statement insert_method(db,
                          "INSERT INTO phase_methods (run_id, seq, method, available, kind, it_energy_j, "
                          "energy_kwh, co2_g) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                          path);
  std::int64_t seq = 0;
  for (const auto& phase : *phases) {
    if (!phase.is_object()) {
      ++seq;
      continue;
    }
    insert_phase.bind(1, run_id)
        .bind(2, seq)
        .bind(3, string_at(phase, "name"))
        .bind(4, integer_at(phase, "index"))
        .bind(5, string_at(phase, "label"))
        .bind(6, string_at(phase, "path"))
        .bind(7, integer_at(phase, "depth"))
        .bind(8, integer_at(phase, "parent"))
        .bind(9, number_at(phase, "start_s"))
        .bind(10, number_at(phase, "end_s"))
        .bind(11, string_at(phase, "ended_by"));
    insert_phase.run();
    const auto methods = phase.find("methods");
    if (methods != phase.end() && methods->is_object()) {
      for (const auto& [name, method] : methods->items()) {
        if (!method.is_object()) continue;
        const auto available = method.find("available");
        insert_method.bind(1, run_id)
            .bind(2, seq)
            .bind(3, name)
            .bind(4, std::int64_t{available != method.end() && available->is_boolean() &&
                                  available->get<bool>()})
            .bind(5, string_at(method, "kind"))
            .bind(6, number_at(method, "it_energy_j"))
            .bind(7, number_at(method, "energy_kwh"))
            .bind(8, number_at(method, "co2_g"));
        insert_method.run();
      }
    }
    ++seq;
  }
}

/// Fills the samples tables from the report's timeline. true when the timeline is there exactly as the report
/// had it, so that report_json may leave it out.
bool insert_timeline(sqlite3* db, const std::filesystem::path& path, std::int64_t run_id,
                     const json& report) {
  const auto it = report.find("timeline");
  if (it == report.end() || !it->is_object()) return false;
  Timeline timeline;
  try {
    timeline = timeline_from_json(*it);
  } catch (const std::exception&) {
    return false;  // kept as it is in report_json
  }
  Statement insert_series(db,
                          "INSERT INTO sample_series (run_id, series, name, component, kind, source) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                          path);
  for (std::size_t s = 0; s < timeline.series.size(); ++s) {
    const auto& series = timeline.series[s];
    insert_series.bind(1, run_id)
        .bind(2, static_cast<std::int64_t>(s))
        .bind(3, series.name)
        .bind(4, series.component)
        .bind(5, series.kind)
        .bind(6, series.source);
    insert_series.run();
  }
  Statement insert_bucket(
      db, "INSERT INTO samples (run_id, bucket, start_s, end_s, cpu_cores) VALUES (?1, ?2, ?3, ?4, ?5)",
      path);
  Statement insert_power(db,
                         "INSERT INTO sample_power (run_id, bucket, series, mean_w, min_w, max_w) "
                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                         path);
  for (std::size_t b = 0; b < timeline.start_s.size(); ++b) {
    insert_bucket.bind(1, run_id)
        .bind(2, static_cast<std::int64_t>(b))
        .bind(3, timeline.start_s[b])
        .bind(4, timeline.end_s[b])
        .bind(5, timeline.cpu_cores[b]);
    insert_bucket.run();
    for (std::size_t s = 0; s < timeline.series.size(); ++s) {
      const auto& mean = timeline.mean_w[s][b];
      const auto& min = timeline.min_w[s][b];
      const auto& max = timeline.max_w[s][b];
      if (!mean && !min && !max) continue;  // no row: no value in the bucket
      insert_power.bind(1, run_id)
          .bind(2, static_cast<std::int64_t>(b))
          .bind(3, static_cast<std::int64_t>(s));
      insert_power.bind(4, mean).bind(5, min).bind(6, max);
      insert_power.run();
    }
  }
  return timeline_to_json(timeline) == *it;
}

json read_timeline(sqlite3* db, const std::filesystem::path& path, std::int64_t run_id) {
  Timeline timeline;
  Statement series(
      db, "SELECT name, component, kind, source FROM sample_series WHERE run_id = ?1 ORDER BY series", path);
  series.bind(1, run_id);
  while (series.step("read")) {
    timeline.series.push_back(SampleSeries{series.text(0), series.text(1), series.text(2), series.text(3)});
  }
  Statement buckets(db, "SELECT start_s, end_s, cpu_cores FROM samples WHERE run_id = ?1 ORDER BY bucket",
                    path);
  buckets.bind(1, run_id);
  while (buckets.step("read")) {
    timeline.start_s.push_back(buckets.real(0));
    timeline.end_s.push_back(buckets.real(1));
    timeline.cpu_cores.push_back(buckets.real(2));
  }
  const std::size_t n_series = timeline.series.size();
  const std::size_t n_buckets = timeline.start_s.size();
  timeline.mean_w.assign(n_series, std::vector<std::optional<double>>(n_buckets));
  timeline.min_w = timeline.mean_w;
  timeline.max_w = timeline.mean_w;
  Statement power(db, "SELECT bucket, series, mean_w, min_w, max_w FROM sample_power WHERE run_id = ?1",
                  path);
  power.bind(1, run_id);
  while (power.step("read")) {
    const auto b = power.int64(0);
    const auto s = power.int64(1);
    if (b < 0 || s < 0 || static_cast<std::size_t>(b) >= n_buckets ||
        static_cast<std::size_t>(s) >= n_series) {
      throw StoreError(Problem::Corrupt, fmt::format("{} is damaged: run {} has power samples outside its "
                                                     "timeline: move it aside and give another --store",
                                                     path.string(), run_id));
    }
    const auto bi = static_cast<std::size_t>(b);
    const auto si = static_cast<std::size_t>(s);
    timeline.mean_w[si][bi] = power.optional_real(2);
    timeline.min_w[si][bi] = power.optional_real(3);
    timeline.max_w[si][bi] = power.optional_real(4);
  }
  return timeline_to_json(timeline);
}

/// The derived tables of one run, and report_json as schema 2 stores it (without a timeline kept in tables).
/// Returns {report_json text, timeline_stored}.
std::pair<std::string, bool> fill_derived(sqlite3* db, const std::filesystem::path& path, std::int64_t run_id,
                                          const json& report) {
  insert_methods(db, path, run_id, report);
  insert_phases(db, path, run_id, report);
  if (insert_timeline(db, path, run_id, report)) {
    json without = report;
    without.erase("timeline");
    return {without.dump(), true};
  }
  return {report.dump(), false};
}

// ---- migrations ----

json parse_stored(const std::string& text, const std::filesystem::path& path, std::int64_t run_id) {
  json report = json::parse(text, nullptr, false);
  if (report.is_discarded()) {
    throw StoreError(
        Problem::Corrupt,
        fmt::format("{} is damaged: the stored report of run {} is not JSON: move it aside and give "
                    "another --store",
                    path.string(), run_id));
  }
  return report;
}

void migrate_to_1(sqlite3* db, const std::filesystem::path& path) {
  exec(db, kSchema1, path);
  exec(db, fmt::format("PRAGMA application_id = {}", kStoreApplicationId).c_str(), path);
}

/// Schema 1 -> 2: the new tables, filled from every stored report; timelines move out of report_json.
void migrate_to_2(sqlite3* db, const std::filesystem::path& path) {
  exec(db, kSchema2, path);
  std::vector<std::pair<std::int64_t, std::string>> reports;
  {
    Statement select(db, "SELECT id, report_json FROM runs ORDER BY id", path);
    while (select.step("read")) reports.emplace_back(select.int64(0), select.text(1));
  }
  Statement update(db, "UPDATE runs SET report_json = ?2, timeline_stored = ?3 WHERE id = ?1", path);
  for (const auto& [id, text] : reports) {
    const json report = parse_stored(text, path, id);
    const auto [stored, timeline_stored] = fill_derived(db, path, id, report);
    update.bind(1, id).bind(2, stored).bind(3, std::int64_t{timeline_stored});
    update.run();
  }
}

using Migration = std::function<void(sqlite3*, const std::filesystem::path&)>;
/// kMigrations[i] takes schema i to i + 1.
const std::array<Migration, kStoreSchemaVersion>& migrations() {
  static const std::array<Migration, kStoreSchemaVersion> steps{migrate_to_1, migrate_to_2};
  return steps;
}

// ---- opening ----

struct Inspection {
  bool fresh = false;        ///< an empty database: to be initialised
  std::int64_t version = 0;  ///< user_version
  bool has_runs = false;     ///< data to keep a backup of before migrating
};

bool writable(const std::filesystem::path& path) {
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  return ::access(path.c_str(), W_OK) == 0 && ::access(dir.c_str(), W_OK) == 0;
}

/// A read-only connection. In a directory this process cannot write (a colleague's store, a read-only
/// share), SQLite could not create the -shm file a WAL database needs: the file is then opened as immutable
/// (no locks, no side files), which is right for a file nobody can be writing from here.
int open_read_only(const std::filesystem::path& path, sqlite3** db) {
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  if (::access(dir.c_str(), W_OK) == 0)
    return sqlite3_open_v2(path.c_str(), db, SQLITE_OPEN_READONLY, nullptr);
  std::string uri = "file:";
  for (const char c : std::filesystem::absolute(path).string()) {
    if (c == '%' || c == '?' || c == '#') {
      uri += fmt::format("%{:02X}", static_cast<unsigned>(static_cast<unsigned char>(c)));
    } else {
      uri += c;
    }
  }
  uri += "?immutable=1";
  return sqlite3_open_v2(uri.c_str(), db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr);
}

/// Refuses, from the file's first 100 bytes and without opening it with SQLite (which may create -wal and
/// -shm files beside it), what is plainly not a store of this wattprint: not SQLite, another program's
/// application_id, a newer store schema. An empty file is a fresh store.
void check_header(const std::filesystem::path& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return;  // the SQLite open that follows says why
  unsigned char header[100] = {};
  const std::size_t got = std::fread(header, 1, sizeof header, file);
  std::fclose(file);
  if (got == 0) return;
  constexpr std::string_view kMagic("SQLite format 3\0", 16);
  if (got < sizeof header || std::string_view(reinterpret_cast<const char*>(header), 16) != kMagic) {
    throw StoreError(Problem::NotAStore,
                     fmt::format("{} is not a wattprint run history (not an SQLite database): give another "
                                 "--store",
                                 path.string()));
  }
  const auto big_endian = [&](std::size_t at) {
    return static_cast<std::uint32_t>(header[at]) << 24U | static_cast<std::uint32_t>(header[at + 1]) << 16U |
           static_cast<std::uint32_t>(header[at + 2]) << 8U | static_cast<std::uint32_t>(header[at + 3]);
  };
  const std::uint32_t user_version = big_endian(60);
  const std::uint32_t application_id = big_endian(68);
  if (application_id != 0 && application_id != static_cast<std::uint32_t>(kStoreApplicationId)) {
    throw other_program(path);
  }
  if (application_id != 0 && user_version > static_cast<std::uint32_t>(kStoreSchemaVersion)) {
    throw newer_store(path, user_version);
  }
}

/// Throws Corrupt unless PRAGMA quick_check says "ok".
void require_whole(sqlite3* db, const std::filesystem::path& path) {
  Statement check(db, "PRAGMA quick_check", path);
  std::string verdict;
  while (check.step("read")) {
    if (!verdict.empty()) verdict += "; ";
    verdict += check.text(0);
  }
  if (verdict != "ok") {
    throw StoreError(Problem::Corrupt,
                     fmt::format("{} is damaged (SQLite quick_check: {}): move it aside and give another "
                                 "--store (`sqlite3 {} .recover` saves what it can)",
                                 path.string(), verdict.substr(0, 200), path.string()));
  }
}

/// Looks at the file through a read-only connection, writing nothing: is it a store, which schema, is it
/// whole.
Inspection inspect(const std::filesystem::path& path) {
  Connection conn;
  int rc = open_read_only(path, &conn.db);
  if (rc != SQLITE_OK) throw_sqlite(conn.db, rc, path, "open");
  sqlite3_busy_timeout(conn.db, kBusyTimeoutMs);
  // One read transaction, so that the reads below see one state of a file another process may be
  // initialising or migrating right now (closing the connection ends it).
  exec(conn.db, "BEGIN", path);
  Inspection out;
  const auto app_id = pragma_int(conn.db, "application_id", path);
  out.version = pragma_int(conn.db, "user_version", path);
  std::int64_t objects = 0;
  {
    Statement count(conn.db, "SELECT count(*) FROM sqlite_schema", path);
    if (count.step("read")) objects = count.int64(0);
  }
  if (app_id == 0 && out.version == 0 && objects == 0) {
    out.fresh = true;
    return out;
  }
  if (app_id != kStoreApplicationId) {
    throw other_program(path);
  }
  if (out.version > kStoreSchemaVersion) {
    throw newer_store(path, out.version);
  }
  if (out.version < 1) {
    throw StoreError(Problem::NotAStore,
                     fmt::format("{} is not a wattprint run history (no store schema): give "
                                 "another --store",
                                 path.string()));
  }
  if (out.version < kStoreSchemaVersion) {
    require_whole(conn.db, path);  // about to migrate: the data must be whole first
    Statement count(conn.db, "SELECT EXISTS (SELECT 1 FROM runs)", path);
    out.has_runs = count.step("read") && count.int64(0) != 0;
  }
  return out;
}

/// A copy of the store as it is (VACUUM INTO through a second, read-only connection, while `db` holds the
/// write lock, so the copy is the schema being migrated): PATH.schema-N.bak, or .bak.2, .3 ... if taken.
std::filesystem::path keep_backup(const std::filesystem::path& path, std::int64_t version) {
  std::filesystem::path backup = path;
  backup += fmt::format(".schema-{}.bak", version);
  for (int n = 2; std::filesystem::exists(backup); ++n) {
    backup = path;
    backup += fmt::format(".schema-{}.bak.{}", version, n);
  }
  Connection reader;
  int rc = sqlite3_open_v2(path.c_str(), &reader.db, SQLITE_OPEN_READONLY, nullptr);
  if (rc != SQLITE_OK) throw_sqlite(reader.db, rc, path, "copy");
  sqlite3_busy_timeout(reader.db, kBusyTimeoutMs);
  Statement vacuum(reader.db, "VACUUM INTO ?1", path);
  vacuum.bind(1, backup.string());
  try {
    vacuum.step("copy");
  } catch (const StoreError& error) {
    throw StoreError(error.problem(),
                     fmt::format("{} (keeping the copy {} before migrating)", error.what(), backup.string()));
  }
  return backup;
}

/// Brings the store to kStoreSchemaVersion; says what it did when it upgraded an older store (not when it
/// initialised a fresh one, nor when another process had just done it).
std::string migrate(sqlite3* db, const std::filesystem::path& path) {
  Transaction transaction(db, path);
  // Another process may have migrated between our look and our lock.
  const auto version = pragma_int(db, "user_version", path);
  if (version >= kStoreSchemaVersion) return {};  // rolled back: nothing was written
  std::filesystem::path backup;
  if (version > 0) {
    const auto app_id = pragma_int(db, "application_id", path);
    if (app_id != kStoreApplicationId) {
      throw StoreError(Problem::NotAStore,
                       fmt::format("{} is not a wattprint run history: give another --store", path.string()));
    }
    Statement any(db, "SELECT EXISTS (SELECT 1 FROM runs)", path);
    if (any.step("read") && any.int64(0) != 0) backup = keep_backup(path, version);
  }
  for (auto v = static_cast<std::size_t>(version); v < migrations().size(); ++v) migrations()[v](db, path);
  exec(db, fmt::format("PRAGMA user_version = {}", kStoreSchemaVersion).c_str(), path);
  transaction.commit();
  if (version == 0) return {};
  return fmt::format(
      "upgraded {} from store schema {} to {}{}", path.string(), version, kStoreSchemaVersion,
      backup.empty() ? "" : fmt::format(" (the file as it was is kept as {})", backup.string()));
}

void create_parents(const std::filesystem::path& dir) {
  if (dir.empty() || std::filesystem::exists(dir)) return;
  create_parents(dir.parent_path());
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    throw StoreError(Problem::Io,
                     fmt::format("cannot create the directory {} ({}): check the permissions of its "
                                 "parent, or give another --store",
                                 dir.string(), std::strerror(errno)));
  }
}

std::string hex64(std::uint64_t value) { return fmt::format("{:016x}", value); }

}  // namespace

// ---- public ----

std::filesystem::path default_store_path() {
  const char* data_home = std::getenv("XDG_DATA_HOME");
  if (data_home != nullptr && data_home[0] == '/')
    return std::filesystem::path(data_home) / "wattprint" / "runs.db";
  std::filesystem::path home;
  const char* home_env = std::getenv("HOME");
  if (home_env != nullptr && home_env[0] != '\0') {
    home = home_env;
  } else if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_dir != nullptr) {
    home = pw->pw_dir;
  } else {
    home = "/";
  }
  return home / ".local" / "share" / "wattprint" / "runs.db";
}

std::string content_run_id(const nlohmann::json& report) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (const char c : report.dump()) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return "content-" + hex64(hash);
}

std::string new_run_id() {
  std::array<unsigned char, 16> bytes{};
  const int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(fmt::format("cannot open /dev/urandom: {}", std::strerror(errno)));
  std::size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      throw std::runtime_error("cannot read /dev/urandom");
    }
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0fU) | 0x40U);  // version 4
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3fU) | 0x80U);  // RFC 4122 variant
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += fmt::format("{:02x}", bytes[i]);
  }
  return out;
}

RunStore::RunStore(sqlite3* db, std::filesystem::path path) : db_(db), path_(std::move(path)) {}

RunStore::RunStore(RunStore&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      path_(std::move(other.path_)),
      migration_note_(std::move(other.migration_note_)) {}

RunStore& RunStore::operator=(RunStore&& other) noexcept {
  if (this != &other) {
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
    migration_note_ = std::move(other.migration_note_);
  }
  return *this;
}

RunStore::~RunStore() {
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

RunStore RunStore::open(const std::filesystem::path& path, Mode mode) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw StoreError(Problem::Io, fmt::format("{} is a directory: give the database file, e.g. {}",
                                              path.string(), (path / "runs.db").string()));
  }
  const bool exists = std::filesystem::exists(path, ec);
  if (exists) check_header(path);
  if (!exists) {
    if (mode == Mode::Existing) {
      throw StoreError(
          Problem::Missing,
          fmt::format("no run history at {} yet: runs are stored there by `wattprint run` (or give "
                      "--store PATH)",
                      path.string()));
    }
    create_parents(path.parent_path());
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      throw StoreError(Problem::Io,
                       fmt::format("cannot create {} ({}): check the permissions of its directory, "
                                   "or give another --store",
                                   path.string(), std::strerror(errno)));
    }
    ::close(fd);
  }
  return retry_while_busy([&] { return open_checked(path); });
}

RunStore RunStore::open_checked(const std::filesystem::path& path) {
  const Inspection inspection = inspect(path);
  const bool needs_migration = inspection.fresh || inspection.version < kStoreSchemaVersion;
  const bool can_write = writable(path);
  if (!can_write && needs_migration) {
    throw StoreError(
        Problem::Io,
        fmt::format("{} has store schema {} and must be upgraded to {}, but it is read-only: make it "
                    "writable once (any wattprint command that opens it upgrades it)",
                    path.string(), inspection.version, kStoreSchemaVersion));
  }
  Connection conn;
  const int rc = can_write ? sqlite3_open_v2(path.c_str(), &conn.db, SQLITE_OPEN_READWRITE, nullptr)
                           : open_read_only(path, &conn.db);
  if (rc != SQLITE_OK) throw_sqlite(conn.db, rc, path, "open");
  sqlite3_busy_timeout(conn.db, kBusyTimeoutMs);
  if (can_write) {
    struct statfs where {};
    const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
    bool local =
        ::statfs(dir.c_str(), &where) != 0 || !is_network_filesystem(static_cast<std::int64_t>(where.f_type));
    // For a shared file system not recognised here (or to test the rollback journal on a local disk).
    if (const char* forced = std::getenv("WATTPRINT_STORE_JOURNAL"); forced != nullptr) {
      if (std::string_view(forced) == "delete") local = false;
      if (std::string_view(forced) == "wal") local = true;
    }
    // WAL needs memory shared by every process using the file: not possible across the nodes of a cluster
    // sharing an NFS or Lustre home. There, the rollback journal and the file system's locks.
    exec(conn.db, local ? "PRAGMA journal_mode = WAL" : "PRAGMA journal_mode = DELETE", path);
    exec(conn.db, local ? "PRAGMA synchronous = NORMAL" : "PRAGMA synchronous = FULL", path);
  }
  exec(conn.db, "PRAGMA foreign_keys = ON", path);
  RunStore store(conn.release(), path);
  if (needs_migration) store.migration_note_ = migrate(store.db_, path);
  return store;
}

bool is_network_filesystem(std::int64_t statfs_type) {
  // f_type magic numbers (statfs(2), linux/magic.h and the file systems' sources).
  constexpr std::int64_t kNetwork[] = {
      0x6969,      // NFS
      0xFF534D42,  // CIFS / SMB
      0xFE534D42,  // SMB2
      0x517B,      // SMB (old)
      0x0BD00BD0,  // Lustre
      0x47504653,  // GPFS / IBM Storage Scale
      0x19830326,  // BeeGFS
      0x65735546,  // FUSE (sshfs and the like)
      0x00C36400,  // Ceph
      0x564C,      // NCP
      0x6B414653,  // AFS
      0x013111A8,  // IBRIX
      0x7461636F,  // OCFS2
      0x01161970,  // GFS2
  };
  return std::find(std::begin(kNetwork), std::end(kNetwork), statfs_type) != std::end(kNetwork);
}

std::string RunStore::journal_mode() const {
  Statement mode(db_, "PRAGMA journal_mode", path_);
  return mode.step("read") ? mode.text(0) : std::string();
}

void RunStore::check_whole() const { require_whole(db_, path_); }

int RunStore::schema_version() const { return static_cast<int>(pragma_int(db_, "user_version", path_)); }

RunStore::Added RunStore::add(const nlohmann::json& report, const std::string& origin) {
  if (const std::string why = validate(report); !why.empty()) {
    throw StoreError(Problem::BadReport, fmt::format("not a wattprint report: {}", why));
  }
  const auto given_id = string_at(report, "run_id");
  const std::string run_uuid = given_id && !given_id->empty() ? *given_id : content_run_id(report);
  const std::vector<std::string> words = command_words(report);
  std::string command_text;
  for (const auto& word : words) {
    if (!command_text.empty()) command_text += ' ';
    command_text += quote_word(word);
  }
  const auto command = report.find("command");
  std::optional<std::string> command_json;
  if (command != report.end() && command->is_array()) command_json = command->dump();
  std::optional<std::string> hostname;
  if (const auto host = report.find("host"); host != report.end() && host->is_object()) {
    hostname = string_at(*host, "hostname");
  }
  std::optional<std::string> tool_version;
  if (const auto tool = report.find("tool"); tool != report.end() && tool->is_object()) {
    tool_version = string_at(*tool, "version");
  }

  return retry_while_busy(
      [&] { return add_once(report, origin, run_uuid, command_text, command_json, hostname, tool_version); });
}

RunStore::Added RunStore::add_once(const nlohmann::json& report, const std::string& origin,
                                   const std::string& run_uuid, const std::string& command_text,
                                   const std::optional<std::string>& command_json,
                                   const std::optional<std::string>& hostname,
                                   const std::optional<std::string>& tool_version) {
  Transaction transaction(db_, path_);
  {
    Statement existing(db_, "SELECT id FROM runs WHERE run_uuid = ?1", path_);
    existing.bind(1, run_uuid);
    if (existing.step("read")) return {existing.int64(0), false};
  }
  Statement insert(db_,
                   "INSERT INTO runs (run_uuid, kind, started_at, duration_s, hostname, command_json, "
                   "command_text, exit_code, tool_version, report_schema, report_json, stored_at, origin) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, '', ?11, ?12)",
                   path_);
  insert.bind(1, run_uuid)
      .bind(2, *string_at(report, "kind"))
      .bind(3, string_at(report, "started_at"))
      .bind(4, number_at(report, "duration_s"))
      .bind(5, hostname)
      .bind(6, command_json)
      .bind(7, command_json ? std::optional<std::string>(command_text) : std::nullopt)
      .bind(8, integer_at(report, "exit_code"))
      .bind(9, tool_version)
      .bind(10, integer_at(report, "schema_version"))
      .bind(11, now_iso8601())
      .bind(12, origin);
  insert.step();
  const std::int64_t id = sqlite3_last_insert_rowid(db_);
  if (const auto tags = report.find("tags"); tags != report.end() && tags->is_object()) {
    Statement insert_tag(db_, "INSERT INTO tags (run_id, key, value) VALUES (?1, ?2, ?3)", path_);
    for (const auto& [key, value] : tags->items()) {
      insert_tag.bind(1, id).bind(2, key).bind(3, value.get<std::string>());
      insert_tag.run();
    }
  }
  const auto [stored, timeline_stored] = fill_derived(db_, path_, id, report);
  Statement update(db_, "UPDATE runs SET report_json = ?2, timeline_stored = ?3 WHERE id = ?1", path_);
  update.bind(1, id).bind(2, stored).bind(3, std::int64_t{timeline_stored});
  update.step();
  transaction.commit();
  return {id, true};
}

std::vector<StoredRun> RunStore::list(const RunFilter& filter) const {
  // Only fixed SQL fragments are put together here; every value is a bound parameter.
  std::string sql =
      "SELECT r.id, r.run_uuid, r.kind, r.started_at, r.duration_s, r.hostname, r.command_json, r.exit_code, "
      "r.stored_at, r.origin, m.method, m.energy_kwh, m.co2_g FROM runs r "
      "LEFT JOIN methods m ON m.run_id = r.id AND m.method = (SELECT h.method FROM methods h WHERE h.run_id "
      "= "
      "r.id AND h.available = 1 AND h.method IN ('server', 'process', 'gpu', 'estimate') ORDER BY CASE "
      "h.method "
      "WHEN 'server' THEN 0 WHEN 'process' THEN 1 WHEN 'gpu' THEN 2 ELSE 3 END LIMIT 1) WHERE 1";
  int next = 1;
  struct Binding {
    int index;
    std::string value;
  };
  std::vector<Binding> bindings;
  for (const auto& [key, value] : filter.tags) {
    if (value == "*") {
      sql += fmt::format(" AND EXISTS (SELECT 1 FROM tags t WHERE t.run_id = r.id AND t.key = ?{})", next);
      bindings.push_back({next++, key});
    } else {
      sql += fmt::format(
          " AND EXISTS (SELECT 1 FROM tags t WHERE t.run_id = r.id AND t.key = ?{} AND t.value = "
          "?{})",
          next, next + 1);
      bindings.push_back({next++, key});
      bindings.push_back({next++, value});
    }
  }
  if (filter.since) {
    sql += fmt::format(" AND r.started_at >= ?{}", next);
    bindings.push_back({next++, *filter.since});
  }
  if (filter.until) {
    sql += fmt::format(" AND r.started_at < ?{}", next);
    bindings.push_back({next++, *filter.until});
  }
  if (filter.command_contains) {
    sql += fmt::format(" AND instr(r.command_text, ?{}) > 0", next);
    bindings.push_back({next++, *filter.command_contains});
  }
  if (filter.host) {
    sql += fmt::format(" AND r.hostname = ?{} COLLATE NOCASE", next);
    bindings.push_back({next++, *filter.host});
  }
  sql += fmt::format(" ORDER BY r.started_at DESC, r.id DESC LIMIT ?{}", next);
  Statement select(db_, sql, path_);
  for (const auto& binding : bindings) select.bind(binding.index, binding.value);
  select.bind(next, filter.limit == 0 ? std::int64_t{-1} : static_cast<std::int64_t>(filter.limit));

  Statement tags(db_, "SELECT key, value FROM tags WHERE run_id = ?1 ORDER BY key", path_);
  std::vector<StoredRun> runs;
  while (select.step("read")) {
    StoredRun run;
    run.id = select.int64(0);
    run.run_uuid = select.text(1);
    run.kind = select.text(2);
    run.started_at = select.text(3);
    run.duration_s = select.real(4);
    run.hostname = select.text(5);
    if (!select.is_null(6)) {
      const json command = json::parse(select.text(6), nullptr, false);
      if (command.is_array()) {
        for (const auto& word : command) {
          if (word.is_string()) run.command.push_back(word.get<std::string>());
        }
      }
    }
    if (!select.is_null(7)) run.exit_code = static_cast<int>(select.int64(7));
    run.stored_at = select.text(8);
    run.origin = select.text(9);
    run.headline_method = select.text(10);
    run.headline_kwh = select.optional_real(11);
    run.headline_co2_g = select.optional_real(12);
    tags.bind(1, run.id);
    while (tags.step("read")) run.tags.emplace(tags.text(0), tags.text(1));
    tags.reset();
    runs.push_back(std::move(run));
  }
  return runs;
}

std::int64_t RunStore::resolve(std::string_view id) const {
  std::string text(id);
  // run_ids are lower-case hexadecimal; an ID copied from elsewhere may not be.
  std::transform(text.begin(), text.end(), text.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  const auto not_found = [&] {
    check_whole();  // a damaged file, not a missing run, is what the user must hear about
    const bool short_prefix = text.size() < 8 && text.find_first_not_of("0123456789") != std::string::npos;
    return StoreError(
        Problem::NotFound,
        fmt::format("no run '{}' in {}{}: `wattprint runs` lists the IDs", std::string(id), path_.string(),
                    short_prefix ? " (a run_id prefix needs 8 characters or more)" : ""));
  };
  if (text == "last") {
    Statement last(db_, "SELECT id FROM runs ORDER BY started_at DESC, id DESC LIMIT 1", path_);
    if (last.step("read")) return last.int64(0);
    check_whole();
    throw StoreError(
        Problem::NotFound,
        fmt::format("no runs in {} yet: runs are stored there by `wattprint run`", path_.string()));
  }
  const bool digits =
      !text.empty() && text.size() <= 18 && text.find_first_not_of("0123456789") == std::string::npos;
  if (digits) {
    Statement local(db_, "SELECT id FROM runs WHERE id = ?1", path_);
    local.bind(1, static_cast<std::int64_t>(std::stoll(text)));
    if (local.step("read")) return local.int64(0);
  }
  if (text.size() < 8) throw not_found();
  Statement prefix(db_, "SELECT id FROM runs WHERE substr(run_uuid, 1, length(?1)) = ?1 LIMIT 2", path_);
  prefix.bind(1, text);
  std::vector<std::int64_t> ids;
  while (prefix.step("read")) ids.push_back(prefix.int64(0));
  if (ids.empty()) throw not_found();
  if (ids.size() > 1) {
    Statement count(db_, "SELECT count(*) FROM runs WHERE substr(run_uuid, 1, length(?1)) = ?1", path_);
    count.bind(1, text);
    count.step("read");
    throw StoreError(
        Problem::NotFound,
        fmt::format("ID '{}' matches {} runs: give more characters (`wattprint runs` lists the IDs in {})",
                    text, count.int64(0), path_.string()));
  }
  return ids.front();
}

nlohmann::json RunStore::report(std::int64_t id) const {
  Statement select(db_, "SELECT report_json, timeline_stored FROM runs WHERE id = ?1", path_);
  select.bind(1, id);
  if (!select.step("read")) {
    check_whole();
    throw StoreError(Problem::NotFound,
                     fmt::format("no run {} in {}: `wattprint runs` lists the IDs", id, path_.string()));
  }
  json report = parse_stored(select.text(0), path_, id);
  if (select.int64(1) != 0 && !report.contains("timeline"))
    report["timeline"] = read_timeline(db_, path_, id);
  Statement tags(db_, "SELECT key, value FROM tags WHERE run_id = ?1 ORDER BY key", path_);
  tags.bind(1, id);
  json tag_object = json::object();
  while (tags.step("read")) tag_object[tags.text(0)] = tags.text(1);
  if (!tag_object.empty() || report.contains("tags")) report["tags"] = std::move(tag_object);
  return report;
}

}  // namespace wattprint
