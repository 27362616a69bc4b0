// Runs the real wattprint binary for integration tests: clean environment, separate stdout/stderr, signals,
// optional other user; reads its JSON report.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace wattprint::testing {

/// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "wattprint-test");
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  /// Makes the directory (not its contents) owned by another user, e.g. before running a child as `nobody`.
  void chown_to(uid_t uid, gid_t gid) const;

 private:
  std::filesystem::path path_;
};

/// The path in $WATTPRINT_BIN made absolute, or nullopt when it is unset or empty.
std::optional<std::filesystem::path> wattprint_bin_from_env();

struct SpawnOptions {
  /// Arguments after argv[0].
  std::vector<std::string> args;
  /// Written to the child's stdin, which is then closed (the child sees EOF at once when empty).
  std::string stdin_data;
  /// HOME of the child; XDG_CONFIG_HOME is HOME/.config. The environment is otherwise only PATH, TZ=UTC and
  /// the sanitizer options if set.
  std::filesystem::path home;
  /// More "NAME=value" entries for the child's environment (e.g. CUDA_VISIBLE_DEVICES).
  std::vector<std::string> extra_env;
  /// Working directory of the child (the current one when empty).
  std::filesystem::path cwd;
  /// Run as this user and group (supplementary groups cleared); needs root.
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  /// The child is killed (its whole process group) after this long.
  std::chrono::milliseconds timeout{60'000};
};

struct ProcessResult {
  /// As a shell reports it: the exit status, or 128 + N when killed by signal N.
  int exit_code = -1;
  bool signaled = false;
  bool timed_out = false;
  std::string out;
  std::string err;
  /// Wall time from fork to reaping, in seconds.
  double wall_s = 0.0;
};

/// A child process in its own process group, with a thread pumping its stdin/stdout/stderr.
class Process {
 public:
  /// Forks and execs `exe`; throws std::system_error when fork/pipe fail or the exec itself fails.
  Process(const std::filesystem::path& exe, const SpawnOptions& options);
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  /// Kills the process group and reaps the child if wait() was not called.
  ~Process();

  [[nodiscard]] pid_t pid() const { return pid_; }
  /// Sends `sig` to the child only (not its process group).
  void signal(int sig) const;
  /// Waits for the child (killing its process group at the timeout) and for its output; call once.
  ProcessResult wait();

 private:
  void pump(int in_fd, int out_fd, int err_fd);

  pid_t pid_ = -1;
  std::chrono::steady_clock::time_point started_;
  std::chrono::milliseconds timeout_;
  std::string stdin_data_;
  std::string out_;
  std::string err_;
  std::atomic<bool> stop_pump_{false};
  std::atomic<bool> pump_done_{false};
  std::thread pump_thread_;
  bool waited_ = false;
};

/// Runs to completion.
ProcessResult run_process(const std::filesystem::path& exe, const SpawnOptions& options);

/// Parses a JSON file; throws std::runtime_error (with the file's content) when missing or malformed.
nlohmann::json read_json(const std::filesystem::path& path);

/// Waits until `path` exists (a command under test creates it to say it has started), polling every
/// millisecond; false when it still does not after `timeout`.
bool wait_for_file(const std::filesystem::path& path,
                   std::chrono::milliseconds timeout = std::chrono::milliseconds(30'000));

/// Writes a file (creating parent directories) with the given mode.
void write_text_file(const std::filesystem::path& path, const std::string& text, unsigned mode = 0644);

}  // namespace wattprint::testing
