// The run's control socket: where `wattprint mark`, the C API and the Python module send phase marks.
// Protocol (docs/markers.md): a Unix stream socket whose path is in the environment variable
// WATTPRINT_CONTROL_SOCKET of every process of the command's tree. A client connects, writes any number of
// lines and closes; it never waits for an answer. Each line (at most 256 bytes with its '\n'):
//   begin <monotonic_ns> <name>\n      a phase starts (a phase of the same name still open ends there)
//   end <monotonic_ns> <name>\n        the innermost open phase of that name ends
// <monotonic_ns>: CLOCK_MONOTONIC in nanoseconds, decimal, taken by the client when the event happened
// (so queueing does not move the mark). <name>: valid_phase_name(). Bad lines are counted and skipped.
// Two more lines, from the other `wattprint run` of a job step on this node that joined this one as its
// measurer (src/cluster/node_group.hpp), go to the member handler when one is set:
//   join <pid>\n                        that wattprint process (and its command) is part of the run
//   leave <pid> <cpu_seconds>\n         it is about to exit, having used that much CPU with its children
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "phases/phase_mark.hpp"

namespace wattprint {

inline constexpr const char* kControlSocketVariable = "WATTPRINT_CONTROL_SOCKET";
inline constexpr std::size_t kMaxMarkerLineBytes = 256;

/// One protocol line (without its '\n') → a mark; nullopt when malformed. `origin` is copied into the mark.
std::optional<PhaseMark> parse_marker_line(std::string_view line, const std::string& origin);

/// Listens on a fresh socket in a private directory (mode 0700) under `parent_dir` (default: XDG_RUNTIME_DIR,
/// else TMPDIR, else /tmp) and pushes every valid mark into `queue` from its own thread (all signals
/// blocked). Serves many clients at once (poll); never blocks a client longer than it takes to read.
/// Removes the socket and its directory on destruction.
class ControlSocketServer {
 public:
  explicit ControlSocketServer(MarkQueue& queue, std::optional<std::filesystem::path> parent_dir = {});
  ~ControlSocketServer();
  ControlSocketServer(const ControlSocketServer&) = delete;
  ControlSocketServer& operator=(const ControlSocketServer&) = delete;

  /// The socket's path, for WATTPRINT_CONTROL_SOCKET.
  [[nodiscard]] const std::filesystem::path& path() const;
  /// Receives the "join" and "leave" lines (whole, without '\n'), from the server's thread; set before
  /// start(). Without one they are malformed marks.
  using MemberHandler = std::function<void(std::string_view line)>;
  void set_member_handler(MemberHandler handler);
  void start();
  /// Reads what clients already sent (bounded: at most `grace` more), then stops the thread.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(200));
  [[nodiscard]] std::uint64_t malformed_lines() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace wattprint
