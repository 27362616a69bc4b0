// The run history (src/store): round trips of real reports, filters, IDs, concurrent writers, migration of a
// frozen schema-1 store, and files that must be refused without being written.
#include "store/run_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "unit/test_dir.hpp"

namespace wattprint {
namespace {

using nlohmann::json;
using testing::TestDir;
namespace fs = std::filesystem;

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

json golden(const char* name) { return json::parse(read_text(fs::path(WATTPRINT_GOLDEN_DIR) / name)); }

/// A report with its own run_id, start and tags, from the phases golden report.
json variant(const json& base, const std::string& run_id, const std::string& started_at, const json& tags) {
  json report = base;
  report["run_id"] = run_id;
  report["started_at"] = started_at;
  report["tags"] = tags;
  return report;
}

void exec_sql(const fs::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  const std::string message = error != nullptr ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << message;
}

std::int64_t count_rows(const fs::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  std::int64_t value = -1;
  if (sqlite3_step(stmt) == SQLITE_ROW) value = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

double real_value(const fs::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  double value = -1.0;
  if (sqlite3_step(stmt) == SQLITE_ROW) value = sqlite3_column_double(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

StoreError::Problem problem_of_open(const fs::path& path, RunStore::Mode mode) {
  try {
    auto store = RunStore::open(path, mode);
    // Damage in the middle of the file shows when the data is read.
    for (const auto& run : store.list({})) (void)store.report(run.id);
  } catch (const StoreError& error) {
    return error.problem();
  }
  ADD_FAILURE() << path << " opened without error";
  return StoreError::Problem::Io;
}

void make_schema_v1_store(const fs::path& path) {
  exec_sql(path, read_text(fs::path(WATTPRINT_STORE_FIXTURE_DIR) / "schema_v1.sql"));
}

TEST(RunStore, AddThenReportGivesBackTheSameReport) {
  TestDir dir;
  auto store = RunStore::open(dir.path() / "sub" / "runs.db", RunStore::Mode::Create);
  EXPECT_EQ(store.schema_version(), kStoreSchemaVersion);
  struct stat st {};
  ASSERT_EQ(::stat((dir.path() / "sub").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777U, 0700U);

  json phases = golden("report_phases.json");
  phases["tags"] = {{"gpu", "t4"}, {"project", "x"}};
  const auto added = store.add(phases, "run");
  EXPECT_TRUE(added.added);
  EXPECT_EQ(store.report(added.id), phases);
  EXPECT_EQ(store.report(added.id).dump(), phases.dump());  // the doubles come back bit for bit

  // In schema 2 the timeline lives in the samples tables, not in report_json.
  const fs::path path = store.path();
  EXPECT_EQ(count_rows(path, "SELECT count(*) FROM samples"), 200);
  EXPECT_EQ(count_rows(path, "SELECT count(*) FROM sample_series"), 6);
  EXPECT_EQ(count_rows(path, "SELECT instr(report_json, '\"timeline\"') FROM runs"), 0);
  EXPECT_EQ(count_rows(path, "SELECT count(*) FROM phases"),
            static_cast<std::int64_t>(phases["phases"].size()));
  EXPECT_DOUBLE_EQ(real_value(path, "SELECT energy_kwh FROM methods WHERE method = 'server'"),
                   phases["methods"]["server"]["energy_kwh"].get<double>());

  // A schema-1 report without run_id or tags: a content ID, and no tags added.
  const json v1 = golden("report_v1.json");
  const auto added_v1 = store.add(v1, "import report_v1.json");
  EXPECT_TRUE(added_v1.added);
  EXPECT_EQ(store.report(added_v1.id), v1);
  const auto runs = store.list({});
  ASSERT_EQ(runs.size(), 2U);
  const auto& stored_v1 = runs[0].id == added_v1.id ? runs[0] : runs[1];
  EXPECT_EQ(stored_v1.run_uuid, content_run_id(v1));
  EXPECT_EQ(stored_v1.origin, "import report_v1.json");

  // A null timeline stays null.
  json no_timeline = phases;
  no_timeline["run_id"] = "null-timeline-run";
  no_timeline["timeline"] = nullptr;
  EXPECT_EQ(store.report(store.add(no_timeline, "run").id), no_timeline);
}

TEST(RunStore, ReAddingTheSameRunStoresItOnce) {
  TestDir dir;
  auto store = RunStore::open(dir.path() / "runs.db", RunStore::Mode::Create);
  const json v1 = golden("report_v1.json");
  const auto first = store.add(v1, "run");
  const auto second = store.add(v1, "import again");
  EXPECT_TRUE(first.added);
  EXPECT_FALSE(second.added);
  EXPECT_EQ(first.id, second.id);
  EXPECT_EQ(store.list({}).size(), 1U);
  json with_id = golden("report_phases.json");
  with_id["run_id"] = "aaaaaaaa-1111-4111-8111-111111111111";
  EXPECT_TRUE(store.add(with_id, "run").added);
  with_id["duration_s"] = 1.0;  // same run_id: the same run, whatever else differs
  EXPECT_FALSE(store.add(with_id, "run").added);
  EXPECT_EQ(store.list({}).size(), 2U);
}

TEST(RunStore, RejectsWhatIsNotAReport) {
  TestDir dir;
  auto store = RunStore::open(dir.path() / "runs.db", RunStore::Mode::Create);
  const json good = golden("report_v1.json");
  std::vector<json> bad{json::array(), json{{"kind", "run"}}};
  bad.push_back(good);
  bad.back()["schema_version"] = 3;
  bad.push_back(good);
  bad.back()["kind"] = "walk";
  bad.push_back(good);
  bad.back()["tags"] = {{"bad key", "x"}};
  bad.push_back(good);
  bad.back()["tags"] = {{"n", 1}};
  bad.push_back(good);  // a report cut by hand: no methods
  bad.back().erase("methods");
  bad.push_back(good);
  bad.back()["methods"]["process"]["energy_kwh"] = "lots";
  bad.push_back(good);
  bad.back()["methods"]["estimate"].erase("available");
  bad.push_back(good);
  bad.back()["duration_s"] = "long";
  for (const auto& report : bad) {
    try {
      (void)store.add(report, "run");
      ADD_FAILURE() << "accepted " << report.dump().substr(0, 80);
    } catch (const StoreError& error) {
      EXPECT_EQ(error.problem(), StoreError::Problem::BadReport);
    }
  }
  EXPECT_TRUE(store.list({}).empty());
}

class RunStoreListTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_.emplace(RunStore::open(dir_.path() / "runs.db", RunStore::Mode::Create));
    const json base = golden("report_phases.json");
    a_ = store_
             ->add(variant(base, "aaaaaaaa-0000-4000-8000-000000000001", "2026-11-01T10:00:00Z",
                           {{"gpu", "t4"}, {"project", "resnet"}}),
                   "run")
             .id;
    json b = variant(base, "bbbbbbbb-0000-4000-8000-000000000002", "2026-11-05T10:00:00Z", {{"gpu", "a100"}});
    b["host"]["hostname"] = "node08";
    b["command"] = {"python", "eval model.py"};
    b["methods"]["server"]["available"] = false;
    b_ = store_->add(b, "run").id;
    json c = variant(base, "bbbbbbbb-1111-4000-8000-000000000003", "2026-11-09T10:00:00Z", {{"gpu", "t4"}});
    for (auto& [name, method] : c["methods"].items()) method["available"] = name == "estimate";
    c_ = store_->add(c, "run").id;
  }
  std::vector<std::int64_t> ids(const RunFilter& filter) {
    std::vector<std::int64_t> out;
    for (const auto& run : store_->list(filter)) out.push_back(run.id);
    return out;
  }
  TestDir dir_;
  std::optional<RunStore> store_;
  std::int64_t a_ = 0, b_ = 0, c_ = 0;
};

TEST_F(RunStoreListTest, MostRecentFirstWithHeadlineAndTags) {
  const auto runs = store_->list({});
  ASSERT_EQ(runs.size(), 3U);
  EXPECT_EQ(runs[0].id, c_);
  EXPECT_EQ(runs[2].id, a_);
  const json base = golden("report_phases.json");
  EXPECT_EQ(runs[2].headline_method, "server");
  EXPECT_EQ(runs[2].headline_kwh, base["methods"]["server"]["energy_kwh"].get<double>());
  EXPECT_EQ(runs[2].headline_co2_g, base["methods"]["server"]["co2_g"].get<double>());
  EXPECT_EQ(runs[1].headline_method, "process");  // server unavailable
  EXPECT_EQ(runs[1].headline_kwh, base["methods"]["process"]["energy_kwh"].get<double>());
  EXPECT_EQ(runs[0].headline_method, "estimate");
  EXPECT_EQ(runs[2].tags, (std::map<std::string, std::string>{{"gpu", "t4"}, {"project", "resnet"}}));
  EXPECT_EQ(runs[1].command, (std::vector<std::string>{"python", "eval model.py"}));
  EXPECT_EQ(runs[1].hostname, "node08");
  EXPECT_EQ(runs[1].started_at, "2026-11-05T10:00:00Z");
  EXPECT_EQ(runs[1].exit_code, base["exit_code"].get<int>());
  EXPECT_DOUBLE_EQ(runs[1].duration_s, base["duration_s"].get<double>());
}

TEST_F(RunStoreListTest, Filters) {
  using V = std::vector<std::int64_t>;
  RunFilter f;
  f.tags = {{"gpu", "t4"}};
  EXPECT_EQ(ids(f), (V{c_, a_}));
  f.tags = {{"gpu", "t4"}, {"project", "resnet"}};
  EXPECT_EQ(ids(f), (V{a_}));
  f.tags = {{"project", "*"}};
  EXPECT_EQ(ids(f), (V{a_}));
  f.tags = {{"gpu", "h100"}};
  EXPECT_EQ(ids(f), V{});
  f = {};
  f.since = "2026-11-05T10:00:00Z";
  EXPECT_EQ(ids(f), (V{c_, b_}));
  f.until = "2026-11-09";
  EXPECT_EQ(ids(f), (V{b_}));
  f = {};
  f.command_contains = "eval model";
  EXPECT_EQ(ids(f), (V{b_}));
  f.command_contains = "train.py";
  EXPECT_EQ(ids(f), (V{c_, a_}));
  f.command_contains = "nothing like it";
  EXPECT_EQ(ids(f), V{});
  f = {};
  f.host = "node08";
  EXPECT_EQ(ids(f), (V{b_}));
  f.host = "node0";  // exact, not a prefix
  EXPECT_EQ(ids(f), V{});
  f = {};
  f.limit = 2;
  EXPECT_EQ(ids(f), (V{c_, b_}));
  f.tags = {{"gpu", "t4"}};
  f.limit = 1;
  EXPECT_EQ(ids(f), (V{c_}));
}

TEST_F(RunStoreListTest, Resolve) {
  EXPECT_EQ(store_->resolve(std::to_string(b_)), b_);
  EXPECT_EQ(store_->resolve("last"), c_);
  EXPECT_EQ(store_->resolve("aaaaaaaa"), a_);
  EXPECT_EQ(store_->resolve("bbbbbbbb-1111"), c_);
  EXPECT_EQ(store_->resolve("aaaaaaaa-0000-4000-8000-000000000001"), a_);
  const auto problem = [&](const std::string& id) -> std::string {
    try {
      (void)store_->resolve(id);
    } catch (const StoreError& error) {
      EXPECT_EQ(error.problem(), StoreError::Problem::NotFound);
      return error.what();
    }
    return "resolved";
  };
  EXPECT_NE(problem("bbbbbbbb").find("matches 2 runs: give more characters"), std::string::npos);
  EXPECT_NE(problem("aaaa").find("`wattprint runs` lists the IDs"), std::string::npos);  // too short
  EXPECT_NE(problem("99").find((dir_.path() / "runs.db").string()), std::string::npos);
  EXPECT_NE(problem("cccccccc").find("no run 'cccccccc'"), std::string::npos);
  EXPECT_THROW((void)store_->report(999), StoreError);
}

// ---- concurrency ----

/// Forks `children` processes that wait on a pipe, then run `body(i)`; returns how many exited 0.
template <typename Body>
int fork_together(int children, Body body) {
  int barrier[2];
  if (::pipe(barrier) != 0) return -1;
  std::vector<pid_t> pids;
  for (int i = 0; i < children; ++i) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(barrier[1]);
      char c = 0;
      if (::read(barrier[0], &c, 1) != 0) ::_exit(3);  // EOF: all released together
      ::_exit(body(i));
    }
    pids.push_back(pid);
  }
  ::close(barrier[0]);
  ::close(barrier[1]);
  int ok = 0;
  for (const pid_t pid : pids) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) ++ok;
  }
  return ok;
}

TEST(RunStoreConcurrency, EightWritersAllLand) {
  TestDir dir;
  const fs::path path = dir.path() / "new" / "runs.db";
  const json base = golden("report_v1.json");
  const int ok = fork_together(8, [&](int child) {
    try {
      auto store = RunStore::open(path, RunStore::Mode::Create);
      for (int i = 0; i < 25; ++i) {
        json report = base;
        report["run_id"] = "writer-" + std::to_string(child) + "-run-" + std::to_string(i);
        if (!store.add(report, "run").added) return 2;
      }
      return 0;
    } catch (const std::exception& error) {
      std::fprintf(stderr, "child %d: %s\n", child, error.what());
      return 1;
    }
  });
  EXPECT_EQ(ok, 8);
  auto store = RunStore::open(path, RunStore::Mode::Existing);
  EXPECT_EQ(store.list({}).size(), 200U);
  EXPECT_EQ(count_rows(path, "SELECT count(DISTINCT run_uuid) FROM runs"), 200);
}

TEST(RunStoreConcurrency, EightWritersAllLandWithTheRollbackJournal) {
  // What a store on NFS or Lustre uses (WAL cannot work across machines): the same writers, all land.
  ::setenv("WATTPRINT_STORE_JOURNAL", "delete", 1);
  TestDir dir;
  const fs::path path = dir.path() / "shared" / "runs.db";
  const json base = golden("report_v1.json");
  const int ok = fork_together(8, [&](int child) {
    try {
      auto store = RunStore::open(path, RunStore::Mode::Create);
      if (store.journal_mode() != "delete") return 3;
      for (int i = 0; i < 25; ++i) {
        json report = base;
        report["run_id"] = "nfs-writer-" + std::to_string(child) + "-run-" + std::to_string(i);
        if (!store.add(report, "run").added) return 2;
      }
      return 0;
    } catch (const std::exception& error) {
      std::fprintf(stderr, "child %d: %s\n", child, error.what());
      return 1;
    }
  });
  ::unsetenv("WATTPRINT_STORE_JOURNAL");
  EXPECT_EQ(ok, 8);
  auto store = RunStore::open(path, RunStore::Mode::Existing);
  EXPECT_EQ(store.journal_mode(), "wal");  // a local disk again: back to WAL
  EXPECT_EQ(store.list({}).size(), 200U);
}

TEST(RunStore, NetworkFileSystemsAreRecognised) {
  EXPECT_TRUE(is_network_filesystem(0x6969));       // NFS
  EXPECT_TRUE(is_network_filesystem(0x0BD00BD0));   // Lustre
  EXPECT_TRUE(is_network_filesystem(0x47504653));   // GPFS
  EXPECT_TRUE(is_network_filesystem(0x19830326));   // BeeGFS
  EXPECT_FALSE(is_network_filesystem(0xEF53));      // ext2/3/4
  EXPECT_FALSE(is_network_filesystem(0x01021994));  // tmpfs
  EXPECT_FALSE(is_network_filesystem(0x58465342));  // XFS
  TestDir dir;
  const RunStore fresh = RunStore::open(dir.path() / "runs.db", RunStore::Mode::Create);
  EXPECT_EQ(fresh.journal_mode(), "wal");
  EXPECT_EQ(fresh.migration_note(), "");  // a new store is not an upgrade
}

TEST(RunStoreConcurrency, TwoProcessesMigrateAnOldStoreOnce) {
  TestDir dir;
  const fs::path path = dir.path() / "runs.db";
  make_schema_v1_store(path);
  const int ok = fork_together(2, [&](int) {
    try {
      auto store = RunStore::open(path, RunStore::Mode::Existing);
      return store.schema_version() == kStoreSchemaVersion && store.list({}).size() == 2 ? 0 : 2;
    } catch (const std::exception& error) {
      std::fprintf(stderr, "%s\n", error.what());
      return 1;
    }
  });
  EXPECT_EQ(ok, 2);
  EXPECT_EQ(count_rows(path, "SELECT count(*) FROM methods"), 10);  // not filled twice
  EXPECT_EQ(count_rows(path, "PRAGMA user_version"), kStoreSchemaVersion);
  EXPECT_TRUE(fs::exists(dir.path() / "runs.db.schema-1.bak"));
  EXPECT_FALSE(fs::exists(dir.path() / "runs.db.schema-1.bak.2"));  // the loser found it migrated
}

// ---- migration ----

TEST(RunStoreMigration, SchemaOneIsMigratedWithItsData) {
  TestDir dir;
  const fs::path path = dir.path() / "runs.db";
  make_schema_v1_store(path);
  const std::string before = read_text(path);
  const json run1 = json::parse(read_text(fs::path(WATTPRINT_STORE_FIXTURE_DIR) / "schema_v1_run1.json"));
  const json run2 = json::parse(read_text(fs::path(WATTPRINT_STORE_FIXTURE_DIR) / "schema_v1_run2.json"));

  auto store = RunStore::open(path, RunStore::Mode::Existing);
  EXPECT_EQ(store.schema_version(), 2);
  const fs::path backup = dir.path() / "runs.db.schema-1.bak";
  ASSERT_TRUE(fs::exists(backup));
  EXPECT_EQ(store.migration_note(), "upgraded " + path.string() +
                                        " from store schema 1 to 2 (the file as it was is kept as " +
                                        backup.string() + ")");
  EXPECT_EQ(RunStore::open(path, RunStore::Mode::Existing).migration_note(), "");  // once only
  EXPECT_EQ(count_rows(backup, "PRAGMA user_version"), 1);
  EXPECT_EQ(count_rows(backup, "SELECT count(*) FROM runs"), 2);
  (void)before;

  EXPECT_EQ(count_rows(path, "SELECT count(*) FROM methods"), 10);
  EXPECT_EQ(count_rows(path, "SELECT count(*) FROM phases WHERE run_id = 1"), 3);
  EXPECT_EQ(count_rows(path, "SELECT count(*) FROM phase_methods"), 2 * 3 * 5);
  EXPECT_EQ(count_rows(path, "SELECT parent_seq FROM phases WHERE run_id = 1 AND seq = 2"), 0);
  EXPECT_EQ(count_rows(path, "SELECT count(*) FROM samples WHERE run_id = 1"), 5);
  EXPECT_EQ(count_rows(path, "SELECT count(*) FROM samples WHERE run_id = 2"), 3);
  EXPECT_EQ(count_rows(path, "SELECT count(*) FROM sample_power WHERE run_id = 1"), 5 * 6 - 1);  // one null
  EXPECT_EQ(real_value(path, "SELECT start_s FROM samples WHERE run_id = 1 AND bucket = 1"),
            run1["timeline"]["start_s"][1].get<double>());
  EXPECT_EQ(
      real_value(path, "SELECT mean_w FROM sample_power WHERE run_id = 1 AND bucket = 3 AND series = 5"),
      run1["timeline"]["mean_w"][5][3].get<double>());
  EXPECT_EQ(real_value(path,
                       "SELECT energy_kwh FROM phase_methods WHERE run_id = 1 AND seq = 0 AND "
                       "method = 'server'"),
            run1["phases"][0]["methods"]["server"]["energy_kwh"].get<double>());
  EXPECT_EQ(count_rows(path, "SELECT count(*) FROM runs WHERE instr(report_json, '\"timeline\"') > 0"), 0);

  EXPECT_EQ(store.report(1), run1);
  EXPECT_EQ(store.report(2), run2);
  const auto runs = store.list({});
  ASSERT_EQ(runs.size(), 2U);
  EXPECT_EQ(runs[0].id, 2);
  EXPECT_EQ(runs[0].headline_method, "process");
  EXPECT_EQ(runs[0].headline_kwh, run2["methods"]["process"]["energy_kwh"].get<double>());
  EXPECT_EQ(runs[1].headline_method, "server");
  EXPECT_EQ(runs[1].headline_co2_g, run1["methods"]["server"]["co2_g"].get<double>());
  EXPECT_EQ(store.resolve("3f2b8c1e-5d4a"), 1);

  // Opening again migrates nothing and keeps no second copy.
  auto again = RunStore::open(path, RunStore::Mode::Existing);
  EXPECT_EQ(again.report(1), run1);
  EXPECT_FALSE(fs::exists(dir.path() / "runs.db.schema-1.bak.2"));
}

// ---- files that are refused and never written ----

struct Refused {
  std::string what;
  fs::path path;
  StoreError::Problem problem;
};

void expect_refused_unchanged(const Refused& refused) {
  const std::string before = read_text(refused.path);
  for (const auto mode : {RunStore::Mode::Existing, RunStore::Mode::Create}) {
    EXPECT_EQ(problem_of_open(refused.path, mode), refused.problem) << refused.what;
    EXPECT_EQ(read_text(refused.path), before) << refused.what << ": the file was written";
    for (const char* suffix : {"-wal", "-journal"}) {
      fs::path side = refused.path;
      side += suffix;
      EXPECT_TRUE(!fs::exists(side) || fs::file_size(side) == 0) << refused.what << ": " << side << " left";
    }
  }
}

TEST(RunStoreRefuses, FilesThatAreNotUsableStores) {
  TestDir dir;
  std::mt19937_64 random(42);

  const fs::path noise = dir.path() / "noise.db";
  std::string bytes(16384, '\0');
  for (auto& c : bytes) c = static_cast<char>(random() & 0xffU);
  write_text(noise, bytes);
  expect_refused_unchanged({"random bytes", noise, StoreError::Problem::NotAStore});

  const fs::path text = dir.path() / "notes.txt";
  write_text(text, "these are my notes, not a database\n");
  expect_refused_unchanged({"a text file", text, StoreError::Problem::NotAStore});

  const fs::path other = dir.path() / "other.db";
  exec_sql(other,
           "CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO photos VALUES (1, 'a');");
  expect_refused_unchanged({"another program's database", other, StoreError::Problem::NotAStore});

  const fs::path other_app = dir.path() / "other_app.db";
  exec_sql(other_app, "PRAGMA application_id = 1234; CREATE TABLE runs (id INTEGER PRIMARY KEY);");
  expect_refused_unchanged({"another application id", other_app, StoreError::Problem::NotAStore});

  const fs::path newer = dir.path() / "newer.db";
  make_schema_v1_store(newer);
  exec_sql(newer, "PRAGMA user_version = 99;");
  expect_refused_unchanged({"a newer store", newer, StoreError::Problem::Newer});
  try {
    (void)RunStore::open(newer, RunStore::Mode::Existing);
  } catch (const StoreError& error) {
    EXPECT_NE(std::string(error.what()).find("store schema 99; this one reads up to 2"), std::string::npos);
  }

  // An old store damaged in its middle pages: the check before migrating finds it.
  const fs::path old_damaged = dir.path() / "old_damaged.db";
  make_schema_v1_store(old_damaged);
  {
    std::string data = read_text(old_damaged);
    ASSERT_GT(data.size(), 4 * 4096U);
    for (std::size_t i = 4096; i < data.size() - 4096; ++i) data[i] = static_cast<char>(random() & 0xffU);
    write_text(old_damaged, data);
  }
  expect_refused_unchanged({"an old store with damaged pages", old_damaged, StoreError::Problem::Corrupt});
  EXPECT_FALSE(fs::exists(dir.path() / "old_damaged.db.schema-1.bak"));
}

TEST(RunStoreRefuses, CurrentStoreWithDamagedPages) {
  TestDir dir;
  const fs::path path = dir.path() / "runs.db";
  {
    auto store = RunStore::open(path, RunStore::Mode::Create);
    const json base = golden("report_phases.json");
    for (int i = 0; i < 20; ++i) {
      json report = base;
      report["run_id"] = "damaged-" + std::to_string(i);
      (void)store.add(report, "run");
    }
  }
  ASSERT_FALSE(fs::exists(dir.path() / "runs.db-wal") && fs::file_size(dir.path() / "runs.db-wal") > 0);
  std::string data = read_text(path);
  ASSERT_GT(data.size(), 64 * 4096U);
  for (std::size_t i = data.size() / 3; i < 2 * data.size() / 3; ++i) data[i] = '\xff';
  write_text(path, data);
  const std::string before = read_text(path);
  EXPECT_EQ(problem_of_open(path, RunStore::Mode::Existing), StoreError::Problem::Corrupt);
  EXPECT_EQ(read_text(path), before);
}

TEST(RunStoreOpen, MissingEmptyAndReadOnlyFiles) {
  TestDir dir;
  const fs::path missing = dir.path() / "nowhere" / "runs.db";
  try {
    (void)RunStore::open(missing, RunStore::Mode::Existing);
    ADD_FAILURE() << "opened a missing store";
  } catch (const StoreError& error) {
    EXPECT_EQ(error.problem(), StoreError::Problem::Missing);
    EXPECT_NE(std::string(error.what()).find("no run history at " + missing.string() + " yet"),
              std::string::npos);
  }
  EXPECT_FALSE(fs::exists(missing.parent_path()));

  const fs::path empty = dir.path() / "empty.db";
  write_text(empty, "");
  {
    auto store = RunStore::open(empty, RunStore::Mode::Create);
    EXPECT_EQ(store.schema_version(), kStoreSchemaVersion);
    (void)store.add(golden("report_v1.json"), "run");
  }
  EXPECT_EQ(count_rows(empty, "PRAGMA application_id"), kStoreApplicationId);

  if (::geteuid() == 0) GTEST_SKIP() << "root ignores permission bits: the read-only case cannot be made";
  ASSERT_EQ(::chmod(empty.c_str(), 0444), 0);
  const std::string before = read_text(empty);
  auto store = RunStore::open(empty, RunStore::Mode::Existing);
  EXPECT_EQ(store.list({}).size(), 1U);
  EXPECT_THROW((void)store.add(golden("report_phases.json"), "run"), StoreError);
  EXPECT_EQ(read_text(empty), before);
}

TEST(RunStoreIds, NewRunIdIsAVersion4Uuid) {
  const std::string a = new_run_id();
  const std::string b = new_run_id();
  EXPECT_NE(a, b);
  ASSERT_EQ(a.size(), 36U);
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      EXPECT_EQ(a[i], '-');
    } else {
      EXPECT_NE(std::string("0123456789abcdef").find(a[i]), std::string::npos) << a;
    }
  }
  EXPECT_EQ(a[14], '4');
  EXPECT_NE(std::string("89ab").find(a[19]), std::string::npos);
  EXPECT_EQ(content_run_id(json{{"a", 1}}), content_run_id(json{{"a", 1}}));
  EXPECT_NE(content_run_id(json{{"a", 1}}), content_run_id(json{{"a", 2}}));
  EXPECT_EQ(content_run_id(json{{"a", 1}}).rfind("content-", 0), 0U);
  EXPECT_EQ(content_run_id(json{{"a", 1}}).size(), 8U + 16U);
}

}  // namespace
}  // namespace wattprint

namespace wattprint {
namespace {

void exec_sql(const fs::path& path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
}

TEST(RunStoreRefuses, ANewerOrForeignStoreGetsNoSideFiles) {
  // Refused from the file's header alone: no -wal or -shm appears beside a file wattprint must not touch.
  TestDir dir;
  const fs::path newer = dir.path() / "newer.db";
  {
    auto store = RunStore::open(newer, RunStore::Mode::Create);
    (void)store.add(golden("report_v1.json"), "run");
  }
  exec_sql(newer, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE; PRAGMA user_version = 99");
  ASSERT_FALSE(fs::exists(newer.string() + "-wal"));
  const fs::path foreign = dir.path() / "foreign.db";
  exec_sql(foreign, "PRAGMA journal_mode = WAL; PRAGMA application_id = 42; CREATE TABLE notes (t TEXT)");
  exec_sql(foreign, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE");
  for (const auto& [path, problem] :
       {std::pair{newer, StoreError::Problem::Newer}, std::pair{foreign, StoreError::Problem::NotAStore}}) {
    for (const auto mode : {RunStore::Mode::Existing, RunStore::Mode::Create}) {
      try {
        (void)RunStore::open(path, mode);
        ADD_FAILURE() << path << " was opened";
      } catch (const StoreError& error) {
        EXPECT_EQ(error.problem(), problem) << error.what();
      }
      EXPECT_FALSE(fs::exists(path.string() + "-wal")) << path;
      EXPECT_FALSE(fs::exists(path.string() + "-shm")) << path;
    }
  }
}

TEST(RunStoreOpen, AStoreInADirectoryNobodyElseCanWriteIsReadable) {
  // A colleague's store (or a read-only share): the reader cannot create runs.db-shm next to it.
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to read as another user (nobody)";
  TestDir dir;
  const fs::path path = dir.path() / "team" / "runs.db";
  {
    auto store = RunStore::open(path, RunStore::Mode::Create);
    (void)store.add(golden("report_phases.json"), "run");
    (void)store.add(golden("report_v1.json"), "run");
  }
  fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(path.parent_path(), fs::perms::owner_all | fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
  // Read before the fork: the sources may lie where nobody cannot read (/root in CI).
  json another = golden("report_v1.json");
  another["run_id"] = "not-stored-yet";
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(10);
    try {
      auto store = RunStore::open(path, RunStore::Mode::Existing);
      if (store.list({}).size() != 2) ::_exit(11);
      const json report = store.report(store.resolve("last"));
      if (!report.is_object()) ::_exit(12);
      (void)store.add(another, "run");  // must fail: read-only
      ::_exit(13);
    } catch (const StoreError& error) {
      std::fprintf(stderr, "%s\n", error.what());
      ::_exit(error.problem() == StoreError::Problem::BadReport ? 14 : 0);
    } catch (const std::exception& error) {
      std::fprintf(stderr, "%s\n", error.what());
      ::_exit(15);
    }
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(RunStoreOpen, AMissingRunInADamagedStoreIsReportedAsDamage) {
  TestDir dir;
  const fs::path path = dir.path() / "runs.db";
  {
    auto store = RunStore::open(path, RunStore::Mode::Create);
    for (int i = 0; i < 40; ++i) {
      json report = golden("report_v1.json");
      report["run_id"] = "run-" + std::to_string(i);
      (void)store.add(report, "run");
    }
  }
  exec_sql(path, "PRAGMA wal_checkpoint(TRUNCATE)");
  // Overwrite the middle of the file (the runs table's pages), leaving the header whole.
  const auto size = fs::file_size(path);
  {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(size / 2));
    const std::string junk(8192, '\x5a');
    file.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  try {
    auto store = RunStore::open(path, RunStore::Mode::Existing);
    (void)store.report(store.resolve("1"));
    (void)store.report(store.resolve("999"));
    ADD_FAILURE() << "a damaged store answered";
  } catch (const StoreError& error) {
    EXPECT_EQ(error.problem(), StoreError::Problem::Corrupt) << error.what();
  }
}

}  // namespace
}  // namespace wattprint
