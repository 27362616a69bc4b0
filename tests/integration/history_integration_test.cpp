// The run history through the real binary: runs stored by default (in the test's HOME), `runs` filters,
// `show` printing what the run's summary said, concurrent runs on one database, export/import between
// stores, an unusable database left untouched with the run's report kept in a file, `compare`.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "fakes/fake_powercap.hpp"
#include "integration/harness.hpp"

namespace wattprint::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string describe(const ProcessResult& r) {
  return "exit " + std::to_string(r.exit_code) + (r.timed_out ? " (timed out)" : "") + "\n--- stdout:\n" +
         r.out + "\n--- stderr:\n" + r.err;
}

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::size_t lines_of(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

class History : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto bin = wattprint_bin_from_env();
    if (!bin) GTEST_SKIP() << "WATTPRINT_BIN is not set: point it at the wattprint executable";
    bin_ = *bin;
    tree_.start(std::chrono::milliseconds(10));
  }
  [[nodiscard]] SpawnOptions options(std::vector<std::string> args, std::vector<std::string> env = {}) const {
    SpawnOptions o;
    o.args = std::move(args);
    o.home = home_.path();
    o.cwd = home_.path();
    o.extra_env = std::move(env);
    return o;
  }
  ProcessResult wattprint(std::vector<std::string> args, std::vector<std::string> env = {}) const {
    return run_process(bin_, options(std::move(args), std::move(env)));
  }
  /// `wattprint run --sysfs-root FAKE OPTIONS -- COMMAND`
  [[nodiscard]] std::vector<std::string> run_args(std::vector<std::string> run_options,
                                                  const std::vector<std::string>& command) const {
    std::vector<std::string> args{"run", "--sysfs-root", tree_.sysfs_root().string(), "--interval", "0.1"};
    args.insert(args.end(), run_options.begin(), run_options.end());
    args.emplace_back("--");
    args.insert(args.end(), command.begin(), command.end());
    return args;
  }
  [[nodiscard]] fs::path default_store() const {
    return home_.path() / ".local" / "share" / "wattprint" / "runs.db";
  }
  json runs_json(const std::vector<std::string>& extra = {}) const {
    std::vector<std::string> args{"runs", "--json", "--limit", "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    const ProcessResult r = wattprint(args);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    return json::parse(r.out);
  }

  fs::path bin_;
  TempDir home_{"wattprint-history"};
  FakePowercapTree tree_{{FakeZone("intel-rapl:0", "package-0", 20.0)}};
};

TEST_F(History, ARunIsStoredByDefaultAndShowPrintsItsSummary) {
  const ProcessResult run = wattprint(run_args({"--tag", "model=tiny", "--tag", "gpu=none"},
                                               {"sh", "-c", "echo $WATTPRINT_RUN_ID; sleep 0.3"}));
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  ASSERT_TRUE(fs::exists(default_store())) << describe(run);
  EXPECT_NE(run.err.find("stored as run 1 in " + default_store().string() + " (wattprint show 1)"),
            std::string::npos)
      << describe(run);
  // The summary the run printed, from its first line to the line that says where it was stored.
  const auto begin = run.err.find("wattprint: sh -c");
  const auto end = run.err.find("  stored as run 1");
  ASSERT_NE(begin, std::string::npos) << run.err;
  ASSERT_NE(end, std::string::npos) << run.err;
  const std::string summary = run.err.substr(begin, end - begin);

  const ProcessResult show = wattprint({"show", "1"});
  ASSERT_EQ(show.exit_code, 0) << describe(show);
  const auto first_line = show.out.find('\n');
  ASSERT_NE(first_line, std::string::npos);
  EXPECT_EQ(show.out.substr(first_line + 1), summary);
  EXPECT_NE(show.out.substr(0, first_line).find("tags gpu=none model=tiny"), std::string::npos) << show.out;

  // The report keeps the run's UUID (which the command saw) and its tags; `last` and a run_id prefix work.
  const ProcessResult as_json = wattprint({"show", "last", "--format", "json"});
  ASSERT_EQ(as_json.exit_code, 0) << describe(as_json);
  const json report = json::parse(as_json.out);
  const std::string run_id = report.at("run_id").get<std::string>();
  EXPECT_EQ(run.out, run_id + "\n");
  EXPECT_EQ(report.at("tags"), (json{{"model", "tiny"}, {"gpu", "none"}}));
  EXPECT_GT(report.at("measured").at("cpu_j").get<double>(), 0.0);
  const ProcessResult by_prefix = wattprint({"show", run_id.substr(0, 8), "--format", "json"});
  ASSERT_EQ(by_prefix.exit_code, 0) << describe(by_prefix);
  EXPECT_EQ(json::parse(by_prefix.out), report);

  // Other formats render the stored report like `wattprint report` does.
  const ProcessResult markdown = wattprint({"show", "1", "--format", "md"});
  ASSERT_EQ(markdown.exit_code, 0) << describe(markdown);
  EXPECT_NE(markdown.out.find("| Method |"), std::string::npos) << markdown.out;

  const ProcessResult missing = wattprint({"show", "7"});
  EXPECT_EQ(missing.exit_code, 1) << describe(missing);
  EXPECT_EQ(lines_of(missing.err), 1U) << missing.err;
  EXPECT_NE(missing.err.find("wattprint runs"), std::string::npos) << missing.err;
}

TEST_F(History, RunsListsMostRecentFirstAndFilters) {
  ASSERT_EQ(wattprint(run_args({"--tag", "gpu=t4", "--tag", "model=resnet50"}, {"true"})).exit_code, 0);
  ASSERT_EQ(wattprint(run_args({"--tag", "gpu=rtx6000", "--tag", "model=resnet50"}, {"echo", "b"})).exit_code,
            0);
  ASSERT_EQ(wattprint(run_args({"--tag", "gpu=t4"}, {"sh", "-c", "exit 3"})).exit_code, 3);

  const json all = runs_json();
  ASSERT_EQ(all.size(), 3U) << all.dump(2);
  EXPECT_EQ(all[0].at("id"), 3);  // most recent first
  EXPECT_EQ(all[0].at("exit_code"), 3);
  EXPECT_EQ(all[2].at("command"), json::array({"true"}));
  EXPECT_EQ(runs_json({"--tag", "gpu=t4"}).size(), 2U);
  EXPECT_EQ(runs_json({"--tag", "gpu=t4", "--tag", "model=resnet50"}).size(), 1U);
  EXPECT_EQ(runs_json({"--tag", "model=*"}).size(), 2U);
  EXPECT_EQ(runs_json({"--command", "echo"}).size(), 1U);
  EXPECT_EQ(runs_json({"--host", "no-such-host"}).size(), 0U);
  EXPECT_EQ(runs_json({"--since", "1h"}).size(), 3U);
  EXPECT_EQ(runs_json({"--until", "2000-01-01"}).size(), 0U);
  EXPECT_EQ(runs_json({"--since", "today"}).size(), 3U);

  const ProcessResult table = wattprint({"runs", "--limit", "2"});
  ASSERT_EQ(table.exit_code, 0) << describe(table);
  EXPECT_EQ(lines_of(table.out), 3U) << table.out;  // header and two runs
  EXPECT_EQ(table.out.rfind("ID", 0), 0U) << table.out;
  EXPECT_NE(table.out.find("gpu=t4"), std::string::npos) << table.out;
  EXPECT_NE(table.err.find("2 of 3 matching runs"), std::string::npos) << table.err;

  const ProcessResult bad = wattprint({"runs", "--since", "last tuesday"});
  EXPECT_EQ(bad.exit_code, 2) << describe(bad);
  EXPECT_EQ(lines_of(bad.err), 1U) << bad.err;
  const ProcessResult bad_tag = wattprint(run_args({"--tag", "no value"}, {"true"}));
  EXPECT_EQ(bad_tag.exit_code, 2) << describe(bad_tag);
  const ProcessResult twice = wattprint(run_args({"--tag", "k=1", "--tag", "k=2"}, {"true"}));
  EXPECT_EQ(twice.exit_code, 2) << describe(twice);
}

TEST_F(History, NoStoreFlagEnvironmentAndConfigurationKeepNoHistory) {
  ASSERT_EQ(wattprint(run_args({"--no-store"}, {"true"})).exit_code, 0);
  ASSERT_EQ(wattprint(run_args({}, {"true"}), {"WATTPRINT_STORE=none"}).exit_code, 0);
  write_text_file(home_.path() / ".config/wattprint/config.toml", "store = false\n");
  ASSERT_EQ(wattprint(run_args({}, {"true"})).exit_code, 0);
  EXPECT_FALSE(fs::exists(default_store()));

  const fs::path elsewhere = home_.path() / "team" / "runs.db";
  write_text_file(home_.path() / ".config/wattprint/config.toml",
                  "store = \"" + elsewhere.string() + "\"\n[tags]\nproject = \"carbon\"\n");
  const ProcessResult stored = wattprint(run_args({"--tag", "gpu=t4"}, {"true"}));
  ASSERT_EQ(stored.exit_code, 0) << describe(stored);
  EXPECT_FALSE(fs::exists(default_store()));
  ASSERT_TRUE(fs::exists(elsewhere)) << describe(stored);
  const json runs = runs_json();
  ASSERT_EQ(runs.size(), 1U);
  EXPECT_EQ(runs[0].at("tags"), (json{{"gpu", "t4"}, {"project", "carbon"}}));
  // WATTPRINT_STORE wins over the configuration, --store over both.
  const fs::path from_env = home_.path() / "env.db";
  const fs::path from_flag = home_.path() / "flag.db";
  ASSERT_EQ(wattprint(run_args({}, {"true"}), {"WATTPRINT_STORE=" + from_env.string()}).exit_code, 0);
  ASSERT_EQ(
      wattprint(run_args({"--store", from_flag.string()}, {"true"}), {"WATTPRINT_STORE=" + from_env.string()})
          .exit_code,
      0);
  EXPECT_EQ(runs_json({"--store", from_env.string()}).size(), 1U);
  EXPECT_EQ(runs_json({"--store", from_flag.string()}).size(), 1U);
  const ProcessResult both = wattprint(run_args({"--store", from_flag.string(), "--no-store"}, {"true"}));
  EXPECT_EQ(both.exit_code, 2) << describe(both);
}

TEST_F(History, RunsEndingTogetherOnOneDatabaseAllLand) {
  // Six runs of the same short command start together and end within milliseconds of each other.
  constexpr int kRuns = 6;
  const fs::path store = home_.path() / "shared.db";
  std::vector<std::unique_ptr<Process>> runs;
  for (int i = 0; i < kRuns; ++i) {
    runs.push_back(std::make_unique<Process>(
        bin_,
        options(run_args({"--store", store.string(), "--tag", "n=" + std::to_string(i)}, {"sleep", "1"}))));
  }
  for (auto& process : runs) {
    const ProcessResult r = process->wait();
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_NE(r.err.find("stored as run"), std::string::npos) << describe(r);
  }
  const json stored = runs_json({"--store", store.string()});
  ASSERT_EQ(stored.size(), static_cast<std::size_t>(kRuns)) << stored.dump(2);
  std::vector<std::string> tags;
  for (const json& run : stored) tags.push_back(run.at("tags").at("n").get<std::string>());
  std::sort(tags.begin(), tags.end());
  EXPECT_EQ(tags, (std::vector<std::string>{"0", "1", "2", "3", "4", "5"}));
}

TEST_F(History, ExportAndImportMoveRunsBetweenMachines) {
  const fs::path here = home_.path() / "here.db";
  const fs::path there = home_.path() / "there.db";
  ASSERT_EQ(wattprint(run_args({"--store", here.string(), "--tag", "gpu=t4"}, {"true"})).exit_code, 0);
  ASSERT_EQ(wattprint(run_args({"--store", here.string(), "--tag", "gpu=rtx6000"}, {"true"})).exit_code, 0);
  const fs::path exported = home_.path() / "runs.json";
  const ProcessResult out = wattprint({"export", "--store", here.string(), "--output", exported.string()});
  ASSERT_EQ(out.exit_code, 0) << describe(out);
  const json file = read_json(exported);
  EXPECT_EQ(file.at("kind"), "wattprint-runs");
  ASSERT_EQ(file.at("runs").size(), 2U);

  const ProcessResult in = wattprint({"import", "--store", there.string(), exported.string()});
  ASSERT_EQ(in.exit_code, 0) << describe(in);
  const ProcessResult again = wattprint({"import", "--store", there.string(), exported.string()});
  ASSERT_EQ(again.exit_code, 0) << describe(again);
  EXPECT_NE(again.err.find("already stored as run"), std::string::npos) << again.err;
  EXPECT_EQ(runs_json({"--store", there.string()}).size(), 2U);
  // The same reports on both sides, byte for byte as JSON.
  for (const char* id : {"1", "2"}) {
    const ProcessResult a = wattprint({"show", id, "--store", here.string(), "--format", "json"});
    const ProcessResult b = wattprint({"show", id, "--store", there.string(), "--format", "json"});
    ASSERT_EQ(a.exit_code, 0) << describe(a);
    EXPECT_EQ(json::parse(a.out), json::parse(b.out));
  }
  // A single report file imports too, with a tag added on the way.
  const fs::path single = home_.path() / "single.json";
  ASSERT_EQ(wattprint(run_args({"--no-store", "--json", single.string()}, {"true"})).exit_code, 0);
  const ProcessResult one =
      wattprint({"import", "--store", there.string(), "--tag", "site=lyon", single.string()});
  ASSERT_EQ(one.exit_code, 0) << describe(one);
  EXPECT_EQ(runs_json({"--store", there.string(), "--tag", "site=lyon"}).size(), 1U);
  // Not a report: one line, exit 1, nothing stored.
  write_text_file(home_.path() / "notes.json", "{\"hello\": 1}\n");
  const ProcessResult bad =
      wattprint({"import", "--store", there.string(), (home_.path() / "notes.json").string()});
  EXPECT_EQ(bad.exit_code, 1) << describe(bad);
  EXPECT_NE(bad.err.find("not a wattprint report"), std::string::npos) << bad.err;
  EXPECT_EQ(runs_json({"--store", there.string()}).size(), 3U);
  // A missing file is one failure among the files, not the end of the import.
  const ProcessResult partly = wattprint(
      {"import", "--store", (home_.path() / "third.db").string(), "/nonexistent/runs.json", single.string()});
  EXPECT_EQ(partly.exit_code, 1) << describe(partly);
  EXPECT_EQ(runs_json({"--store", (home_.path() / "third.db").string()}).size(), 1U);
  // IDs or filters, not both; an ID given twice is exported once.
  EXPECT_EQ(wattprint({"export", "--store", here.string(), "1", "--tag", "gpu=t4"}).exit_code, 2);
  const ProcessResult twice = wattprint({"export", "--store", here.string(), "1", "1"});
  ASSERT_EQ(twice.exit_code, 0) << describe(twice);
  EXPECT_EQ(json::parse(twice.out).at("runs").size(), 1U);

  // CSV: a header, then one row per (run, span, method): two runs without phases, five methods each.
  const ProcessResult csv = wattprint({"export", "--store", here.string(), "--format", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << describe(csv);
  EXPECT_EQ(csv.out.rfind("run_id,id,started_at,hostname,command,tags,scope,name,", 0), 0U) << csv.out;
  EXPECT_EQ(lines_of(csv.out), 1U + 2U * 5U) << csv.out;
  EXPECT_NE(csv.out.find(R"({""gpu"":""rtx6000""})"), std::string::npos) << csv.out;
}

TEST_F(History, AnUnusableDatabaseIsLeftAsItWasAndTheReportIsKept) {
  fs::create_directories(default_store().parent_path());
  const std::string garbage = "this is not a database, but someone's notes\n";
  write_text_file(default_store(), garbage);
  const ProcessResult run = wattprint(run_args({}, {"sh", "-c", "exit 4"}));
  EXPECT_EQ(run.exit_code, 4) << describe(run);  // the command's status, whatever the history
  EXPECT_EQ(file_bytes(default_store()), garbage);
  EXPECT_NE(run.err.find("not a wattprint"), std::string::npos) << run.err;
  const auto import_at = run.err.find("wattprint import ");
  ASSERT_NE(import_at, std::string::npos) << run.err;
  std::string kept = run.err.substr(import_at + 17);
  kept = kept.substr(0, kept.find('`'));
  ASSERT_TRUE(fs::exists(kept)) << run.err;
  EXPECT_TRUE(fs::path(kept).is_absolute()) << kept;
  EXPECT_EQ(fs::status(kept).permissions() & fs::perms::others_read, fs::perms::none);
  // Once the user has moved the bad file aside, the kept report imports.
  const ProcessResult imported = wattprint({"import", "--store", (home_.path() / "new.db").string(), kept});
  ASSERT_EQ(imported.exit_code, 0) << describe(imported);
  const json runs = runs_json({"--store", (home_.path() / "new.db").string()});
  ASSERT_EQ(runs.size(), 1U);
  EXPECT_EQ(runs[0].at("exit_code"), 4);
  // Reading commands say what is wrong in one line and do not touch the file either.
  const ProcessResult list = wattprint({"runs"});
  EXPECT_EQ(list.exit_code, 1) << describe(list);
  EXPECT_EQ(lines_of(list.err), 1U) << list.err;
  EXPECT_EQ(file_bytes(default_store()), garbage);
  // No database yet: said, with what to do.
  const ProcessResult none = wattprint({"runs", "--store", (home_.path() / "absent.db").string()});
  EXPECT_EQ(none.exit_code, 1) << describe(none);
  EXPECT_NE(none.err.find("wattprint run"), std::string::npos) << none.err;
  EXPECT_FALSE(fs::exists(home_.path() / "absent.db"));
}

TEST_F(History, CompareTwoStoredRunsByEpoch) {
  for (const char* gpu : {"t4", "rtx6000"}) {
    const ProcessResult r =
        wattprint(run_args({"--tag", std::string("gpu=") + gpu, "--mark-regex", "Epoch (\\d+)"},
                           {bin_.string(), "demo", "--seconds", "1.5", "--epochs", "2"}));
    ASSERT_EQ(r.exit_code, 0) << describe(r);
  }
  const fs::path html = home_.path() / "compare.html";
  const ProcessResult compare = wattprint({"compare", "1", "2", "--by", "epoch", "--html", html.string()});
  ASSERT_EQ(compare.exit_code, 0) << describe(compare);
  EXPECT_NE(compare.out.find("2 runs"), std::string::npos) << compare.out;
  EXPECT_NE(compare.out.find("gpu=rtx6000"), std::string::npos) << compare.out;
  EXPECT_NE(compare.out.find("epoch 2"), std::string::npos) << compare.out;
  EXPECT_NE(compare.out.find("×1.00"), std::string::npos) << compare.out;  // #1 against itself
  const std::string page = file_bytes(html);
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0U) << page.substr(0, 200);
  EXPECT_NE(page.find("<svg"), std::string::npos);
  // A saved report compares with a stored run.
  const fs::path saved = home_.path() / "saved.json";
  ASSERT_EQ(wattprint({"show", "2", "--format", "json", "--output", saved.string()}).exit_code, 0);
  const ProcessResult mixed = wattprint({"compare", "1", saved.string()});
  ASSERT_EQ(mixed.exit_code, 0) << describe(mixed);
  EXPECT_NE(mixed.out.find("2 runs"), std::string::npos) << mixed.out;
  // An export file brings all its runs; a file that is not there is said to be missing.
  const fs::path exported = home_.path() / "both.json";
  ASSERT_EQ(wattprint({"export", "--output", exported.string()}).exit_code, 0);
  const ProcessResult from_export = wattprint({"compare", "1", exported.string()});
  ASSERT_EQ(from_export.exit_code, 0) << describe(from_export);
  EXPECT_NE(from_export.out.find("3 runs"), std::string::npos) << from_export.out;
  const ProcessResult no_file = wattprint({"compare", "1", "nosuch.json"});
  EXPECT_EQ(no_file.exit_code, 2) << describe(no_file);
  EXPECT_NE(no_file.err.find("no such file"), std::string::npos) << no_file.err;
  // A misspelt --by is an error that lists the phases there are.
  const ProcessResult misspelt = wattprint({"compare", "1", "2", "--by", "epochs"});
  EXPECT_EQ(misspelt.exit_code, 2) << describe(misspelt);
  EXPECT_NE(misspelt.err.find("phases: epoch"), std::string::npos) << misspelt.err;
  const ProcessResult unknown = wattprint({"compare", "1", "9"});
  EXPECT_EQ(unknown.exit_code, 1) << describe(unknown);
  EXPECT_EQ(lines_of(unknown.err), 1U) << unknown.err;
}

}  // namespace
}  // namespace wattprint::testing
