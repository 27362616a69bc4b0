// Starting the measured command with the terminal untouched, forwarding signals to it, and reaping it.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "attribution/process_tree.hpp"

namespace wattprint {

struct SpawnResult {
  pid_t pid = -1;
  int exec_error = 0;  ///< errno of a failed exec (the child then exited 127 or 126)
};

/// What the command gets besides wattprint's own stdin, stdout, stderr and environment.
struct SpawnOptions {
  int stdout_fd = -1;  ///< becomes the command's stdout (-1: inherit wattprint's)
  int stderr_fd = -1;  ///< becomes the command's stderr (-1: inherit wattprint's)
  /// Variables set (or replaced) in the command's environment, e.g. WATTPRINT_CONTROL_SOCKET.
  std::vector<std::pair<std::string, std::string>> environment;
};

/// fork + execvp of `argv` (PATH searched), inheriting stdin, stdout and stderr unless `options` says
/// otherwise. The child gets the signal dispositions and mask wattprint itself was started with.
SpawnResult spawn_command(const std::vector<std::string>& argv, const SpawnOptions& options = {});

/// How the command ended, as `time` reports it: exit status, or 128 + N when killed by signal N.
struct CommandExit {
  int exit_code = 0;
  std::optional<int> signal;
};
CommandExit decode_wait_status(int status);

/// Forwards SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to wattprint (by kill, a scheduler, a supervisor) to
/// the command while it runs. Signals from the terminal already reach the command, which shares
/// wattprint's process group, and are not sent twice. A signal wattprint was started with ignored stays
/// ignored. Restores the previous handlers on destruction.
class SignalForwarding {
 public:
  SignalForwarding();
  ~SignalForwarding();
  SignalForwarding(const SignalForwarding&) = delete;
  SignalForwarding& operator=(const SignalForwarding&) = delete;
  void set_target(pid_t pid);
};

/// Waits until `command_pid` ends, reaping (and accounting through `tree`) any other descendant that
/// was re-parented to wattprint and ends meanwhile.
CommandExit wait_for_command(pid_t command_pid, ProcessTreeMonitor& tree);

/// Makes wattprint a child subreaper so that orphans of the command stay in its tree.
bool become_child_subreaper();

}  // namespace wattprint
