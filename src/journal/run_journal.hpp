// The journal of a running `wattprint run`: what it measured so far, kept on disk so that a crash, a
// kill -9, a reboot or a full disk loses at most one flush period (docs/recovery.md).
//
// One directory per run, JOURNAL_ROOT/RUN_ID (0700):
//   owner.json    pid, host, boot id, start time, command: tells a running run from an interrupted one
//   report.json   the complete report of the run so far, replaced atomically (temp file, fsync, rename,
//                 fsync of the directory) every kFlushPeriodS
//   samples.jsonl a header line {"series": [...]} then one line per attribution interval (a SampleRow),
//                 appended and fdatasync'd at each flush (about 150 bytes per row with 3 series: ~0.5 MB
//                 per hour at the default 1-s interval)
//   finished      present when the run ended normally but its report was kept nowhere else
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cluster/batch_job.hpp"
#include "samples/sample_row.hpp"

namespace wattprint {

/// The file-system calls of the journal; each returns 0 or an errno value. The default is POSIX; tests
/// derive from it to make a call fail (ENOSPC, EIO...).
class JournalFileSystem {
 public:
  virtual ~JournalFileSystem() = default;
  virtual int open(const std::filesystem::path& path, int flags, mode_t mode, int& fd);
  /// Writes all of `data` (retrying short writes).
  virtual int write(int fd, std::string_view data);
  virtual int fsync(int fd);
  virtual int fdatasync(int fd);
  virtual int close(int fd);
  virtual int rename(const std::filesystem::path& from, const std::filesystem::path& to);
  virtual int unlink(const std::filesystem::path& path);
};

/// Replaces `path` with `text` so that after a crash it holds either the old or the new text, whole: a
/// temporary file beside it, written, fsync'd, renamed over it, then the directory fsync'd. On failure the
/// temporary file is removed and `path` is untouched. Returns 0 or the errno of the failing call.
int replace_file_durably(JournalFileSystem& fs, const std::filesystem::path& path, std::string_view text);

/// The journal root: WATTPRINT_JOURNAL_DIR, else $XDG_STATE_HOME/wattprint/journal, else
/// $HOME/.local/state/wattprint/journal; nullopt when none of them is set.
std::optional<std::filesystem::path> default_journal_root(const EnvironmentLookup& environment);

/// This boot's id: the file WATTPRINT_BOOT_ID_FILE names (tests), else /proc/sys/kernel/random/boot_id;
/// empty when unreadable.
std::string current_boot_id(const EnvironmentLookup& environment);

/// How often the report is flushed: kFlushPeriodS, or WATTPRINT_JOURNAL_INTERVAL seconds (tests).
double journal_flush_period_s(const EnvironmentLookup& environment);

struct JournalOwner {
  std::string run_id;
  pid_t pid = 0;
  std::string host;
  std::string boot_id;
  std::string started_at;  ///< ISO 8601 UTC
  std::vector<std::string> command;
};

class RunJournal final : public SampleSink {
 public:
  static constexpr double kFlushPeriodS = 2.0;
  /// Creates ROOT/RUN_ID (0700, ROOT too) and writes owner.json. Throws std::runtime_error "journal: cannot
  /// create DIR: reason" (the run then goes on without a journal).
  RunJournal(const std::filesystem::path& root, const JournalOwner& owner, JournalFileSystem& fs);
  ~RunJournal() override;
  RunJournal(const RunJournal&) = delete;
  RunJournal& operator=(const RunJournal&) = delete;

  [[nodiscard]] const std::filesystem::path& directory() const { return directory_; }

  // SampleSink (the sampler's thread): rows are formatted into memory, written at the next flush.
  void begin(const std::vector<SampleSeries>& series) override;
  void add(const SampleRow& row) override;
  void end() override {}

  /// Hands a snapshot taken at `at_s` to the writer thread, which calls `render` (the report's JSON text)
  /// and writes it with the samples. Never blocks on I/O: a snapshot not yet written is replaced.
  void submit(double at_s, std::function<std::string()> render);
  /// Waits until the writer has written every snapshot submitted so far.
  void wait_idle();
  /// Writes what is pending and stops the writer thread.
  void stop();
  /// Empty, or the warning for the write failure that stopped the journal (also said once on stderr).
  [[nodiscard]] std::string failure() const;
  /// The run's report was kept elsewhere: removes the journal.
  void remove();
  /// The run ended but its report was kept nowhere: report.json becomes `final_report`, the samples go,
  /// and a `finished` file marks it. Returns 0 or an errno.
  int compact(std::string_view final_report);

 private:
  void loop();
  void fail(int error, std::string_view what, double at_s);

  std::filesystem::path directory_;
  JournalFileSystem& fs_;
  int samples_fd_ = -1;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::string rows_;  ///< formatted rows not yet written
  std::function<std::string()> pending_;
  double pending_at_s_ = 0.0;
  bool busy_ = false;
  bool stopping_ = false;
  std::atomic<bool> failed_{false};
  std::string failure_;
};

/// A journal as `wattprint report --recover` sees it.
struct JournalEntry {
  enum class State { Running, Interrupted, Rebooted, Finished, OtherHost };
  std::filesystem::path directory;
  State state = State::Interrupted;
  JournalOwner owner;
  bool has_report = false;
  std::optional<double> covered_s;  ///< report.json's duration_s: the run up to the last flush
  std::string last_flush_at;        ///< report.json's modification time, ISO 8601 UTC
};

/// "running", "interrupted", "interrupted by a reboot", "finished, not stored", "on host H".
std::string state_text(const JournalEntry& entry);

/// Is process `pid` alive (kill(pid, 0))? Injectable for tests.
using PidAlive = std::function<bool(pid_t)>;
bool process_alive(pid_t pid);

/// The journals under `root`, oldest first. `host` and `boot_id` are this machine's.
std::vector<JournalEntry> list_journals(const std::filesystem::path& root, const std::string& host,
                                        const std::string& boot_id, const PidAlive& alive = process_alive);

}  // namespace wattprint
