// The run's control socket (phases/control_socket.hpp): a Unix stream socket in a private directory, served
// by one thread that polls the listening socket and every client, splits what they send into lines and
// pushes each valid mark into the run's MarkQueue.
#include "phases/control_socket.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace wattprint {

namespace {

constexpr const char* kSocketName = "control";
constexpr const char* kDirPattern = "wattprint-XXXXXX";
/// Clients served at once; more wait in the listen backlog until one closes (bounds the fds used).
constexpr std::size_t kMaxClients = 1024;
constexpr int kListenBacklog = 4096;  // the kernel caps it at net.core.somaxconn

std::string errno_text(int error) { return std::error_code(error, std::generic_category()).message(); }

/// Whether `dir`/wattprint-XXXXXX/control fits in sockaddr_un::sun_path (with its terminating NUL).
bool socket_path_fits(const std::filesystem::path& dir) {
  const std::size_t length =
      dir.string().size() + 1 + std::strlen(kDirPattern) + 1 + std::strlen(kSocketName) + 1;
  return length <= sizeof(sockaddr_un::sun_path);
}

std::vector<std::filesystem::path> candidate_parents(std::optional<std::filesystem::path> parent_dir) {
  std::vector<std::filesystem::path> out;
  if (parent_dir) {
    out.push_back(std::move(*parent_dir));
  } else {
    for (const char* variable : {"XDG_RUNTIME_DIR", "TMPDIR"}) {
      const char* value = std::getenv(variable);  // NOLINT(concurrency-mt-unsafe): read once at start-up
      if (value != nullptr && value[0] != '\0') out.emplace_back(value);
    }
  }
  out.emplace_back("/tmp");
  return out;
}

struct Client {
  int fd = -1;
  std::string origin;
  std::string line;         ///< the line being received (without its '\n')
  bool discarding = false;  ///< inside a line that was too long: skip up to its '\n'
};

}  // namespace

std::optional<PhaseMark> parse_marker_line(std::string_view line, const std::string& origin) {
  PhaseMark mark;
  if (line.starts_with("begin ")) {
    mark.kind = PhaseMark::Kind::Begin;
    line.remove_prefix(6);
  } else if (line.starts_with("end ")) {
    mark.kind = PhaseMark::Kind::End;
    line.remove_prefix(4);
  } else {
    return std::nullopt;
  }
  const std::size_t space = line.find(' ');
  if (space == std::string_view::npos || space == 0) return std::nullopt;
  const std::string_view digits = line.substr(0, space);
  for (const char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;  // no sign, no '+', no spaces
  }
  std::int64_t ns = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), ns);
  if (error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;  // overflow
  const std::string_view name = line.substr(space + 1);
  if (!valid_phase_name(name)) return std::nullopt;
  mark.name = std::string(name);
  mark.at = SteadyTime(std::chrono::nanoseconds(ns));
  mark.origin = origin;
  return mark;
}

struct ControlSocketServer::State {
  explicit State(MarkQueue& q) : queue(q) {}
  MarkQueue& queue;
  std::filesystem::path dir;
  std::filesystem::path socket_path;
  int listen_fd = -1;
  std::array<int, 2> wake{-1, -1};  ///< self-pipe: stop() writes, the thread wakes
  std::thread thread;
  std::mutex stop_mutex;  ///< serialises start() and stop()
  std::atomic<std::int64_t> grace_ns{0};
  std::atomic<std::uint64_t> malformed{0};
  MemberHandler member_handler;

  void serve() noexcept;
  void accept_clients(std::vector<Client>& clients, bool& accept_paused) const;
  /// False when the client is done (EOF or an error): it is then closed by the caller.
  bool read_client(Client& client);
  void take_bytes(Client& client, std::string_view bytes);
  void take_line(const Client& client);
};

void ControlSocketServer::State::take_line(const Client& client) {
  const std::string_view line = client.line;
  if (member_handler && (line.rfind("join ", 0) == 0 || line.rfind("leave ", 0) == 0)) {
    try {
      member_handler(line);
    } catch (const std::exception&) {
      malformed.fetch_add(1, std::memory_order_relaxed);
    }
    return;
  }
  std::optional<PhaseMark> mark = parse_marker_line(client.line, client.origin);
  if (!mark) {
    malformed.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  queue.push(std::move(*mark));  // false when the run already holds MarkQueue::kMaxMarks: counted there
}

void ControlSocketServer::State::take_bytes(Client& client, std::string_view bytes) {
  while (!bytes.empty()) {
    const std::size_t newline = bytes.find('\n');
    const std::string_view piece = bytes.substr(0, newline);
    if (client.discarding) {
      if (newline == std::string_view::npos) return;
      client.discarding = false;
    } else if (client.line.size() + piece.size() > kMaxMarkerLineBytes - 1) {
      // A line longer than the protocol allows (its '\n' included): counted once, skipped to its end.
      malformed.fetch_add(1, std::memory_order_relaxed);
      client.line.clear();
      client.discarding = newline == std::string_view::npos;
    } else {
      client.line.append(piece);
      if (newline == std::string_view::npos) return;
      take_line(client);
      client.line.clear();
    }
    if (newline == std::string_view::npos) return;
    bytes.remove_prefix(newline + 1);
  }
}

bool ControlSocketServer::State::read_client(Client& client) {
  std::array<char, 16384> buffer{};
  // Bounded per wake-up, so that one busy client cannot starve the others.
  for (int round = 0; round < 16; ++round) {
    const ssize_t n = ::read(client.fd, buffer.data(), buffer.size());
    if (n > 0) {
      take_bytes(client, std::string_view(buffer.data(), static_cast<std::size_t>(n)));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    // EOF or an error: a line left without its '\n' was cut off and is not a mark.
    if (!client.line.empty() || client.discarding) {
      if (!client.discarding) malformed.fetch_add(1, std::memory_order_relaxed);
      client.line.clear();
    }
    return false;
  }
  return true;
}

void ControlSocketServer::State::accept_clients(std::vector<Client>& clients, bool& accept_paused) const {
  while (clients.size() < kMaxClients) {
    const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) accept_paused = true;
      return;  // EAGAIN: nothing more waiting
    }
    Client client;
    client.fd = fd;
    ucred credentials{};
    socklen_t length = sizeof(credentials);
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0 && credentials.pid > 0) {
      client.origin = fmt::format("control socket (pid {})", credentials.pid);
    } else {
      client.origin = "control socket";
    }
    clients.push_back(std::move(client));
  }
  accept_paused = true;  // at kMaxClients: the rest wait in the backlog
}

void ControlSocketServer::State::serve() noexcept {
  std::vector<Client> clients;
  try {
    std::vector<pollfd> fds;
    bool draining = false;
    bool accept_paused = false;
    std::chrono::steady_clock::time_point deadline{};
    for (;;) {
      fds.clear();
      fds.push_back({draining ? -1 : wake[0], POLLIN, 0});
      fds.push_back({accept_paused ? -1 : listen_fd, POLLIN, 0});  // a negative fd is ignored by poll
      for (const Client& client : clients) fds.push_back({client.fd, POLLIN, 0});
      int timeout_ms = -1;
      if (draining) {
        timeout_ms = 0;  // only what is readable now
      } else if (accept_paused && clients.empty()) {
        timeout_ms = 100;  // out of fds with no client to close: retry accept() shortly
      }
      const int ready = ::poll(fds.data(), fds.size(), timeout_ms);
      if (ready < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (draining && (ready == 0 || std::chrono::steady_clock::now() >= deadline)) break;
      if (ready == 0 && accept_paused) accept_paused = false;
      if (fds[0].revents != 0) {
        char sink = 0;
        while (::read(wake[0], &sink, 1) > 0) {
        }
        draining = true;
        deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(grace_ns.load());
      }
      // Clients first, so that a client accepted below is read on the next round (its fd is not in `fds`).
      bool closed_any = false;
      std::size_t kept = 0;
      for (std::size_t i = 0; i < clients.size(); ++i) {
        bool keep = true;
        if (fds[i + 2].revents != 0) keep = read_client(clients[i]);
        if (keep) {
          if (kept != i) clients[kept] = std::move(clients[i]);
          ++kept;
        } else {
          ::close(clients[i].fd);
          closed_any = true;
        }
      }
      clients.resize(kept);
      if (closed_any) accept_paused = false;
      if (fds[1].revents != 0) accept_clients(clients, accept_paused);
      if (draining && std::chrono::steady_clock::now() >= deadline) break;
    }
  } catch (...) {
    // Out of memory in a push: the marks stop here; the run itself goes on.
  }
  for (const Client& client : clients) ::close(client.fd);
}

ControlSocketServer::ControlSocketServer(MarkQueue& queue, std::optional<std::filesystem::path> parent_dir)
    : state_(std::make_unique<State>(queue)) {
  std::string errors;
  for (const std::filesystem::path& parent : candidate_parents(std::move(parent_dir))) {
    if (!socket_path_fits(parent)) {
      errors += fmt::format("{}{}: too long for a socket path", errors.empty() ? "" : "; ", parent.string());
      continue;
    }
    std::string pattern = (parent / kDirPattern).string();
    if (::mkdtemp(pattern.data()) == nullptr) {  // mode 0700
      errors += fmt::format("{}{}: {}", errors.empty() ? "" : "; ", parent.string(), errno_text(errno));
      continue;
    }
    state_->dir = pattern;
    break;
  }
  if (state_->dir.empty()) {
    throw std::runtime_error(fmt::format(
        "cannot create the control socket's directory ({}); set TMPDIR to a writable directory", errors));
  }
  state_->socket_path = state_->dir / kSocketName;
  const auto fail = [this](const char* what) {
    const int error = errno;
    if (state_->listen_fd >= 0) ::close(state_->listen_fd);
    for (const int fd : state_->wake) {
      if (fd >= 0) ::close(fd);
    }
    ::unlink(state_->socket_path.c_str());
    ::rmdir(state_->dir.c_str());
    throw std::runtime_error(fmt::format("cannot {} the control socket {}: {}", what,
                                         state_->socket_path.string(), errno_text(error)));
  };
  state_->listen_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (state_->listen_fd < 0) fail("create");
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string path = state_->socket_path.string();
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);  // fits: socket_path_fits()
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
  if (::bind(state_->listen_fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0)
    fail("bind");
  if (::listen(state_->listen_fd, kListenBacklog) != 0) fail("listen on");
  if (::pipe2(state_->wake.data(), O_CLOEXEC | O_NONBLOCK) != 0) fail("create the wake-up pipe of");
}

ControlSocketServer::~ControlSocketServer() {
  stop(std::chrono::milliseconds(0));
  ::close(state_->listen_fd);
  ::close(state_->wake[0]);
  ::close(state_->wake[1]);
  ::unlink(state_->socket_path.c_str());
  ::rmdir(state_->dir.c_str());
}

const std::filesystem::path& ControlSocketServer::path() const { return state_->socket_path; }

void ControlSocketServer::start() {
  const std::lock_guard lock(state_->stop_mutex);
  if (state_->thread.joinable()) return;
  // The thread inherits the creating thread's signal mask: every signal is blocked in it, so that the
  // signals forwarded to the command are handled by the main thread only.
  sigset_t all{};
  sigset_t previous{};
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  try {
    state_->thread = std::thread([state = state_.get()] { state->serve(); });
  } catch (...) {
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    throw;
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

void ControlSocketServer::stop(std::chrono::milliseconds grace) {
  const std::lock_guard lock(state_->stop_mutex);
  if (!state_->thread.joinable()) return;
  state_->grace_ns.store(std::chrono::duration_cast<std::chrono::nanoseconds>(grace).count());
  const char byte = 1;
  while (::write(state_->wake[1], &byte, 1) < 0 && errno == EINTR) {
  }
  state_->thread.join();
}

void ControlSocketServer::set_member_handler(MemberHandler handler) {
  state_->member_handler = std::move(handler);
}

std::uint64_t ControlSocketServer::malformed_lines() const {
  return state_->malformed.load(std::memory_order_relaxed);
}

}  // namespace wattprint
