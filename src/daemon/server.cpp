// wattprintd's poll() loop, peer checks and listening sockets.
#include "daemon/server.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "daemon/protocol.hpp"

namespace wattprint::daemon {

namespace {

/// Output a connection may hold unsent before it is dropped (a client that does not read its answers).
constexpr std::size_t kMaxPendingOutput = std::size_t{64} * 1024;

std::string system_error(const char* what) { return fmt::format("{}: {}", what, std::strerror(errno)); }

void set_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
    throw std::runtime_error(system_error("fcntl"));
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
}

sockaddr_un unix_address(const std::filesystem::path& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string text = path.string();
  if (text.empty() || text.size() >= sizeof(address.sun_path))
    throw std::runtime_error(
        fmt::format("socket path '{}' is empty or longer than {} bytes", text, sizeof(address.sun_path) - 1));
  std::memcpy(address.sun_path, text.c_str(), text.size() + 1);
  return address;
}

}  // namespace

struct Server::Connection {
  int fd = -1;
  uid_t uid = 0;
  std::string in;
  std::string out;
  TokenBucket bucket;
  bool closing = false;  ///< an error was queued: send it, read nothing more, close
};

Server::Server(int listen_fd, EnergyCounterSource& source, const GroupDatabase& groups, const Clock& clock,
               ServerOptions options)
    : listen_fd_(listen_fd),
      source_(source),
      groups_(groups),
      clock_(clock),
      options_(std::move(options)),
      hello_(encode_hello_response(source.sensors())),
      raw_(source.sensors().size()),
      errors_(source.sensors().size()),
      log_bucket_(1.0, 10.0, clock.steady_now()) {
  set_nonblocking(listen_fd_);
}

Server::~Server() {
  for (const Connection& c : connections_) ::close(c.fd);
}

void Server::log(const std::string& line) {
  if (!log_bucket_.take(clock_.steady_now())) {
    ++suppressed_logs_;
    return;
  }
  std::string text = "wattprintd: " + line;
  if (suppressed_logs_ > 0) text += fmt::format(" ({} similar messages suppressed)", suppressed_logs_);
  suppressed_logs_ = 0;
  std::fprintf(stderr, "%s\n", text.c_str());
}

void Server::refuse(int fd, const std::string& reason, uid_t uid, pid_t pid) {
  const std::string line = encode_error(reason);
  (void)::send(fd, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::close(fd);
  log(fmt::format("refused uid {} pid {}: {}", uid, pid, reason));
}

void Server::accept_all() {
  for (;;) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
        log(system_error("accept"));
      return;
    }
    ucred peer{};
    socklen_t size = sizeof(peer);
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &size) != 0) {
      refuse(fd, "cannot identify the peer (SO_PEERCRED)", static_cast<uid_t>(-1), 0);
      continue;
    }
    if (connections_.size() >= options_.limits.max_connections) {
      refuse(fd, fmt::format("too many connections ({}), try again later", connections_.size()), peer.uid,
             peer.pid);
      continue;
    }
    const auto same_uid =
        static_cast<std::size_t>(std::count_if(connections_.begin(), connections_.end(),
                                               [&peer](const Connection& c) { return c.uid == peer.uid; }));
    if (same_uid >= options_.limits.max_per_uid) {
      refuse(fd, fmt::format("too many connections of uid {} ({})", peer.uid, same_uid), peer.uid, peer.pid);
      continue;
    }
    const AccessDecision decision = check_access(peer.uid, options_.group, options_.group_label, groups_);
    if (!decision.allowed) {
      refuse(fd, decision.reason, peer.uid, peer.pid);
      continue;
    }
    connections_.push_back(
        Connection{fd,
                   peer.uid,
                   {},
                   {},
                   TokenBucket(options_.limits.reads_per_s, options_.limits.burst, clock_.steady_now()),
                   false});
  }
}

void Server::handle_line(Connection& c, std::string_view line) {
  const Request request = parse_request(line);
  if (request.kind == Request::Kind::Invalid) {
    c.out += encode_error(request.error);
    c.closing = true;
    log(fmt::format("closed a connection of uid {}: {}", c.uid, request.error));
    return;
  }
  if (!c.bucket.take(clock_.steady_now())) {
    c.out += encode_error(fmt::format("rate limit exceeded ({:g} requests/s, burst {:g})",
                                      options_.limits.reads_per_s, options_.limits.burst));
    c.closing = true;
    log(fmt::format("closed a connection of uid {}: rate limit exceeded", c.uid));
    return;
  }
  const ServerPowerPoller* power = options_.server_power;
  switch (request.kind) {
    case Request::Kind::Hello:
      c.out += hello_;
      return;
    case Request::Kind::Server:
      c.out += power != nullptr ? encode_server_response(power->family(), power->origin())
                                : encode_no_server_response(options_.no_server_power_reason);
      return;
    case Request::Kind::Power:
      c.out += power != nullptr ? power->answer() : encode_power_failure(options_.no_server_power_reason);
      return;
    case Request::Kind::Read:
    case Request::Kind::Invalid:
      break;
  }
  source_.read(raw_, errors_);
  c.out += encode_read_response(raw_, errors_);
}

void Server::receive(Connection& c) {
  char buffer[512];
  for (;;) {
    const ssize_t n = ::recv(c.fd, buffer, sizeof(buffer), 0);
    if (n == 0) {  // the client is done sending: answer what it asked, then close
      c.closing = true;
      return;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        c.closing = true;
        c.out.clear();
      }
      return;
    }
    c.in.append(buffer, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (std::size_t end = 0; !c.closing && (end = c.in.find('\n', start)) != std::string::npos;
         start = end + 1)
      handle_line(c, std::string_view(c.in).substr(start, end - start));
    c.in.erase(0, start);
    if (!c.closing && c.in.size() >= kMaxRequestLine) {
      c.out += encode_error(fmt::format("request longer than {} bytes", kMaxRequestLine));
      c.closing = true;
      log(fmt::format("closed a connection of uid {}: over-long request", c.uid));
    }
    if (c.closing) return;
    if (c.out.size() > kMaxPendingOutput) {
      c.out.clear();
      c.closing = true;
      return;
    }
  }
}

void Server::flush(Connection& c) {
  while (!c.out.empty()) {
    const ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        c.out.clear();
        c.closing = true;
      }
      return;
    }
    c.out.erase(0, static_cast<std::size_t>(n));
  }
}

int Server::run(const volatile std::sig_atomic_t& stop, const sigset_t& poll_mask) {
  std::vector<pollfd> fds;
  while (stop == 0) {
    fds.clear();
    fds.push_back({listen_fd_, POLLIN, 0});
    for (const Connection& c : connections_) {
      const auto events = static_cast<short>((c.closing ? 0 : POLLIN) | (c.out.empty() ? 0 : POLLOUT));
      fds.push_back({c.fd, events, 0});
    }
    if (::ppoll(fds.data(), fds.size(), nullptr, &poll_mask) < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "wattprintd: %s\n", system_error("poll").c_str());
      return 1;
    }
    // Connections first (their indices match fds[1..]), then new ones.
    for (std::size_t i = 0; i < connections_.size(); ++i) {
      Connection& c = connections_[i];
      const short revents = fds[i + 1].revents;
      if ((revents & POLLIN) != 0) receive(c);
      if ((revents & (POLLERR | POLLNVAL)) != 0 || ((revents & POLLHUP) != 0 && (revents & POLLIN) == 0)) {
        c.closing = true;
        c.out.clear();
      }
      flush(c);
    }
    std::erase_if(connections_, [](const Connection& c) {
      if (!c.closing || !c.out.empty()) return false;
      ::close(c.fd);
      return true;
    });
    if ((fds[0].revents & POLLIN) != 0) accept_all();
  }
  return 0;
}

std::optional<int> systemd_listen_fd() {
  const char* pid = std::getenv("LISTEN_PID");
  const char* fds = std::getenv("LISTEN_FDS");
  if (pid == nullptr || fds == nullptr) return std::nullopt;
  const bool ours = std::strtoll(pid, nullptr, 10) == static_cast<long long>(::getpid());
  const long long count = std::strtoll(fds, nullptr, 10);
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  if (!ours || count < 1) return std::nullopt;
  constexpr int kFirstFd = 3;  // SD_LISTEN_FDS_START
  int type = 0;
  int listening = 0;
  socklen_t size = sizeof(type);
  const bool stream = ::getsockopt(kFirstFd, SOL_SOCKET, SO_TYPE, &type, &size) == 0 && type == SOCK_STREAM;
  size = sizeof(listening);
  if (!stream || ::getsockopt(kFirstFd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) != 0 ||
      listening == 0) {
    throw std::runtime_error(
        "socket activation: fd 3 is not a listening stream socket (check ListenStream= in "
        "wattprintd.socket)");
  }
  return kFirstFd;
}

int listen_on_path(const std::filesystem::path& path, gid_t group) {
  // Bound and made listening under a temporary name, then renamed into place: a client that sees the path
  // can connect.
  const std::filesystem::path temporary = path.string() + fmt::format(".{}.tmp", ::getpid());
  const sockaddr_un final_address = unix_address(path);
  const sockaddr_un address = unix_address(temporary);
  const auto* generic = reinterpret_cast<const sockaddr*>(&address);              // NOLINT: the sockets API
  const auto* final_generic = reinterpret_cast<const sockaddr*>(&final_address);  // NOLINT: the sockets API
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      throw std::runtime_error(
          fmt::format("{} exists and is not a socket: remove it or give --socket PATH", path.string()));
    const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const bool live = probe >= 0 && ::connect(probe, final_generic, sizeof(final_address)) == 0;
    if (probe >= 0) ::close(probe);
    if (live)
      throw std::runtime_error(fmt::format("another wattprintd already listens on {}", path.string()));
    ::unlink(path.c_str());  // stale: left by a daemon that was killed
  }
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) throw std::runtime_error(system_error("socket"));
  // Created 0600 (no one else can connect before the group and mode are set), then group, then 0660.
  const mode_t old_mask = ::umask(0177);
  ::unlink(temporary.c_str());
  const int bound = ::bind(fd, generic, sizeof(address));
  ::umask(old_mask);
  if (bound != 0 || ::chown(temporary.c_str(), static_cast<uid_t>(-1), group) != 0 ||
      ::chmod(temporary.c_str(), 0660) != 0 || ::listen(fd, 64) != 0 ||
      ::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string why = system_error(fmt::format("cannot listen on {}", path.string()).c_str());
    ::close(fd);
    if (bound == 0) ::unlink(temporary.c_str());
    throw std::runtime_error(why);
  }
  return fd;
}

}  // namespace wattprint::daemon
