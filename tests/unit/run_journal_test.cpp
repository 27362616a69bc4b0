// The run journal against an injected file system: atomic replacement of report.json, one sample line per
// row, a write failure (ENOSPC, EIO) that stops the journal with one warning and never throws.
#include "journal/run_journal.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>

#include "unit/test_dir.hpp"

namespace wattprint {
namespace {

namespace fs = std::filesystem;
using testing::TestDir;

std::string file_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::size_t lines_of(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

/// POSIX, except that once armed, write() writes half of what it is given and fails with `error`, and
/// fsync() can fail too.
class FailingFileSystem : public JournalFileSystem {
 public:
  int write(int fd, std::string_view data) override {
    if (write_error != 0) {
      JournalFileSystem::write(fd, data.substr(0, data.size() / 2));
      return write_error;
    }
    return JournalFileSystem::write(fd, data);
  }
  int fsync(int fd) override { return fsync_error != 0 ? fsync_error : JournalFileSystem::fsync(fd); }
  int write_error = 0;
  int fsync_error = 0;
};

SampleRow row_at(double t) {
  SampleRow row;
  row.t_s = t;
  row.interval_s = 1.0;
  row.power_w = {20.0};
  row.energy_j = {20.0 * t};
  row.cpu_share = 0.5;
  return row;
}

JournalOwner owner() {
  JournalOwner o;
  o.run_id = "0b3c7c9e-run";
  o.pid = 4242;
  o.host = "node1";
  o.boot_id = "boot-a";
  o.started_at = "2026-01-01T00:00:00Z";
  o.command = {"sleep", "30"};
  return o;
}

TEST(ReplaceFileDurably, ATruncatedTemporaryFileNeverReplacesTheReport) {
  const TestDir dir;
  const fs::path report = dir.path() / "report.json";
  FailingFileSystem files;
  ASSERT_EQ(replace_file_durably(files, report, "{\"duration_s\": 1}\n"), 0);
  EXPECT_EQ(file_text(report), "{\"duration_s\": 1}\n");

  files.write_error = ENOSPC;
  EXPECT_EQ(replace_file_durably(files, report, "{\"duration_s\": 2, \"long\": \"xxxxxxxxxxxxxxxx\"}\n"),
            ENOSPC);
  EXPECT_EQ(file_text(report), "{\"duration_s\": 1}\n") << "the old report stays whole";
  EXPECT_FALSE(fs::exists(dir.path() / "report.json.tmp")) << "the half-written temporary file is removed";

  files.write_error = 0;
  files.fsync_error = EIO;
  EXPECT_EQ(replace_file_durably(files, report, "{\"duration_s\": 3}\n"), EIO);
  EXPECT_EQ(file_text(report), "{\"duration_s\": 1}\n") << "a file not known to be on disk is not renamed";
}

TEST(RunJournal, WritesOwnerSamplesAndSnapshots) {
  const TestDir dir;
  FailingFileSystem files;
  RunJournal journal(dir.path() / "journal", owner(), files);
  const fs::path run = dir.path() / "journal" / "0b3c7c9e-run";
  EXPECT_EQ(journal.directory(), run);
  EXPECT_EQ(fs::status(run).permissions() & fs::perms::all, fs::perms::owner_all);
  EXPECT_NE(file_text(run / "owner.json").find("\"boot_id\": \"boot-a\""), std::string::npos);

  journal.begin({{"package-0", "cpu-package", "measured", "powercap intel-rapl:0"}});
  journal.add(row_at(1.0));
  journal.add(row_at(2.0));
  journal.submit(2.0, [] { return std::string("{\"duration_s\": 2}\n"); });
  journal.wait_idle();
  const std::string first = file_text(run / "samples.jsonl");
  EXPECT_EQ(lines_of(first), 3U) << "a header and one line per row:\n" << first;
  EXPECT_EQ(file_text(run / "report.json"), "{\"duration_s\": 2}\n");

  // One more row per interval: the file grows by one line of about the same size.
  journal.add(row_at(3.0));
  journal.submit(3.0, [] { return std::string("{\"duration_s\": 3}\n"); });
  journal.wait_idle();
  const std::string second = file_text(run / "samples.jsonl");
  EXPECT_EQ(lines_of(second), 4U);
  EXPECT_EQ(second.substr(0, first.size()), first) << "appended, never rewritten";
  EXPECT_LT(second.size() - first.size(), 200U) << "one row costs under 200 bytes";
  EXPECT_EQ(file_text(run / "report.json"), "{\"duration_s\": 3}\n");
  EXPECT_TRUE(journal.failure().empty());

  journal.remove();
  EXPECT_FALSE(fs::exists(run));
}

TEST(RunJournal, AFullDiskStopsTheJournalWithOneWarningAndKeepsTheLastGoodReport) {
  const TestDir dir;
  FailingFileSystem files;
  RunJournal journal(dir.path(), owner(), files);
  const fs::path run = dir.path() / "0b3c7c9e-run";
  journal.begin({{"package-0", "cpu-package", "measured", "powercap intel-rapl:0"}});
  journal.add(row_at(1.0));
  journal.submit(1.0, [] { return std::string("{\"duration_s\": 1}\n"); });
  journal.wait_idle();

  files.write_error = ENOSPC;
  journal.add(row_at(2.0));
  journal.submit(2.0, [] { return std::string("{\"duration_s\": 2}\n"); });
  journal.wait_idle();
  const std::string failure = journal.failure();
  EXPECT_NE(failure.find("No space left on device"), std::string::npos) << failure;
  EXPECT_NE(failure.find("at t=2.0s"), std::string::npos) << failure;
  EXPECT_NE(failure.find("measuring continued in memory"), std::string::npos) << failure;
  EXPECT_EQ(file_text(run / "report.json"), "{\"duration_s\": 1}\n");

  // Journaling has stopped: later snapshots are not rendered, and nothing throws.
  files.write_error = 0;
  bool rendered = false;
  journal.add(row_at(3.0));
  journal.submit(3.0, [&rendered] {
    rendered = true;
    return std::string("{}");
  });
  journal.wait_idle();
  EXPECT_FALSE(rendered);
  EXPECT_EQ(journal.failure(), failure) << "one warning, not one per flush";
}

TEST(RunJournal, CompactKeepsTheFinalReportAndMarksTheRunFinished) {
  const TestDir dir;
  FailingFileSystem files;
  RunJournal journal(dir.path(), owner(), files);
  journal.begin({{"package-0", "cpu-package", "measured", "powercap intel-rapl:0"}});
  journal.add(row_at(1.0));
  ASSERT_EQ(journal.compact("{\"duration_s\": 9, \"exit_code\": 0}\n"), 0);
  const fs::path run = dir.path() / "0b3c7c9e-run";
  EXPECT_FALSE(fs::exists(run / "samples.jsonl"));
  EXPECT_TRUE(fs::exists(run / "finished"));
  const auto entries = list_journals(dir.path(), "node1", "boot-a", [](pid_t) { return false; });
  ASSERT_EQ(entries.size(), 1U);
  EXPECT_EQ(state_text(entries[0]), "finished, not stored");
  EXPECT_EQ(entries[0].covered_s, std::optional<double>(9.0));
}

TEST(ListJournals, TellsRunningFromInterruptedFromRebooted) {
  const TestDir dir;
  FailingFileSystem files;
  RunJournal journal(dir.path(), owner(), files);
  journal.stop();
  const auto state = [&](const std::string& host, const std::string& boot, bool alive) {
    const auto entries =
        list_journals(dir.path(), host, boot, [alive](pid_t pid) { return alive && pid == 4242; });
    return entries.size() == 1 ? state_text(entries[0]) : std::string("none");
  };
  EXPECT_EQ(state("node1", "boot-a", true), "running");
  EXPECT_EQ(state("node1", "boot-a", false), "interrupted");
  EXPECT_EQ(state("node1", "boot-b", true), "interrupted by a reboot")
      << "a pid of another boot is not the run";
  EXPECT_EQ(state("node2", "boot-a", false), "on host node1");
}

TEST(JournalRoot, FromTheEnvironment) {
  const auto root = [](std::map<std::string, std::string> vars) {
    return default_journal_root([vars](const std::string& name) -> std::optional<std::string> {
      const auto it = vars.find(name);
      return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
    });
  };
  EXPECT_EQ(root({{"WATTPRINT_JOURNAL_DIR", "/j"}, {"HOME", "/h"}}), fs::path("/j"));
  EXPECT_EQ(root({{"XDG_STATE_HOME", "/s"}, {"HOME", "/h"}}), fs::path("/s/wattprint/journal"));
  EXPECT_EQ(root({{"HOME", "/h"}}), fs::path("/h/.local/state/wattprint/journal"));
  EXPECT_EQ(root({}), std::nullopt);
}

}  // namespace
}  // namespace wattprint
