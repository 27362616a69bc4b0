// wattprintd's server: one thread, poll(), non-blocking Unix stream sockets; peers checked by SO_PEERCRED,
// connections and requests limited. The listening socket is its own (--socket) or systemd's (fd 3).
#pragma once

#include <sys/types.h>

#include <csignal>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "daemon/access.hpp"
#include "daemon/server_power_poller.hpp"
#include "sources/sensor.hpp"

namespace wattprint::daemon {

struct ServerLimits {
  std::size_t max_connections = 64;
  std::size_t max_per_uid = 16;
  double reads_per_s = 50.0;  ///< per connection; a wattprint run reads at most about 20 times a second
  double burst = 50.0;
};

struct ServerOptions {
  gid_t group = 0;
  std::string group_label;  ///< "wattprint (gid 998)", for messages
  ServerLimits limits;
  /// The whole-server power served beside the counters (SERVER, POWER); null when there is none, for the
  /// reason below.
  const ServerPowerPoller* server_power = nullptr;
  std::string no_server_power_reason = "this wattprintd reads no server power meter";
};

class Server {
 public:
  /// Serves `source`'s sensors on `listen_fd` (a listening Unix stream socket, made non-blocking here).
  Server(int listen_fd, EnergyCounterSource& source, const GroupDatabase& groups, const Clock& clock,
         ServerOptions options);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();

  /// Serves until `stop` becomes non-zero. `poll_mask` is the signal mask while waiting (ppoll), so that
  /// a stop signal blocked elsewhere interrupts the wait without a race. Returns 0, or 1 on a fatal error.
  int run(const volatile std::sig_atomic_t& stop, const sigset_t& poll_mask);

 private:
  struct Connection;
  void accept_all();
  void refuse(int fd, const std::string& reason, uid_t uid, pid_t pid);
  void receive(Connection& c);
  void handle_line(Connection& c, std::string_view line);
  void flush(Connection& c);
  void log(const std::string& line);

  int listen_fd_;
  EnergyCounterSource& source_;
  const GroupDatabase& groups_;
  const Clock& clock_;
  ServerOptions options_;
  std::string hello_;
  std::vector<std::uint64_t> raw_;
  std::vector<int> errors_;
  std::vector<Connection> connections_;
  TokenBucket log_bucket_;
  std::uint64_t suppressed_logs_ = 0;
};

/// The socket systemd passed (fd 3) when LISTEN_PID is this process and LISTEN_FDS >= 1; the variables are
/// then removed from the environment. nullopt when not socket-activated. Throws std::runtime_error when fd 3
/// is not a listening stream socket.
std::optional<int> systemd_listen_fd();

/// Creates the listening socket at `path`: mode 0660, group `group`. A stale socket there is replaced;
/// a live one (another wattprintd) or a file that is not a socket is an error (std::runtime_error).
int listen_on_path(const std::filesystem::path& path, gid_t group);

}  // namespace wattprint::daemon
