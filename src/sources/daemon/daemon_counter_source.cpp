// The wattprintd client: HELLO once, READ per sample.
#include "sources/daemon/daemon_counter_source.hpp"

#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "daemon/protocol.hpp"

namespace wattprint {

namespace {

constexpr std::size_t kMaxHelloBytes = daemon::kMaxResponseLine * (daemon::kMaxSensors + 1);

bool send_all(int fd, std::string_view data) noexcept {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

std::optional<std::filesystem::path> daemon_socket_from_environment() {
  const char* value = std::getenv("WATTPRINT_DAEMON_SOCKET");
  if (value == nullptr || *value == '\0') return std::filesystem::path(kDefaultDaemonSocket);
  if (std::string_view(value) == "none") return std::nullopt;
  return std::filesystem::path(value);
}

DaemonCounterSource::DaemonCounterSource(std::filesystem::path socket, std::chrono::milliseconds timeout)
    : socket_(std::move(socket)), buffer_(kMaxHelloBytes) {
  const std::string origin = fmt::format("wattprintd {}", socket_.string());
  const auto fail = [&](SensorStatus::State state, std::string why, std::string remedy) {
    failure_ = why;
    statuses_ = {{"wattprintd", state, socket_.string(), std::move(why), std::move(remedy)}};
    sensors_.clear();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  };
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string path = socket_.string();
  if (path.empty() || path.size() >= sizeof(address.sun_path)) {
    fail(SensorStatus::State::Error, fmt::format("socket path '{}' is too long", path), "");
    return;
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  if (fd_ < 0 || ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
      ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0) {
    fail(SensorStatus::State::Error, fmt::format("socket: {}", std::strerror(errno)), "");
    return;
  }
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    const int error = errno;
    const bool absent = error == ENOENT || error == ECONNREFUSED;
    fail(absent ? SensorStatus::State::Absent : SensorStatus::State::Unreadable,
         fmt::format("cannot connect to {}: {}", path, std::strerror(error)),
         error == EACCES ? "ask the administrator to add you to wattprintd's group (docs/permissions.md)"
                         : "install and start wattprintd (docs/permissions.md)");
    return;
  }
  // A refusing daemon answers with one error line and closes at once, maybe before HELLO is sent: its line
  // is read even when the send fails.
  const int send_error = send_all(fd_, daemon::encode_hello_request()) ? 0 : errno;
  std::size_t have = 0;
  std::size_t complete = 0;
  while ((complete = daemon::hello_response_length(std::string_view(buffer_.data(), have))) == 0) {
    if (have == buffer_.size()) break;
    const ssize_t n = ::recv(fd_, buffer_.data() + have, buffer_.size() - have, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      fail(SensorStatus::State::Error,
           fmt::format("{} did not answer HELLO: {}", path,
                       n < 0 ? std::strerror(errno)
                             : (send_error != 0 ? std::strerror(send_error) : "connection closed")),
           "");
      return;
    }
    have += static_cast<std::size_t>(n);
  }
  const daemon::HelloResponse hello =
      daemon::parse_hello_response(std::string_view(buffer_.data(), complete == 0 ? have : complete));
  if (!hello.error.empty()) {
    const bool refused = hello.error.find("access denied") != std::string::npos;
    fail(refused ? SensorStatus::State::Unreadable : SensorStatus::State::Error, hello.error,
         refused ? "ask the administrator to add you to wattprintd's group (docs/permissions.md)" : "");
    return;
  }
  if (hello.sensors.empty()) {
    fail(SensorStatus::State::Error, fmt::format("{} serves no sensor", path), "");
    return;
  }
  sensors_ = hello.sensors;
  for (SensorInfo& info : sensors_) {
    info.origin = fmt::format("{}: {}", origin, info.origin);
    statuses_.push_back({info.name, SensorStatus::State::Ok, info.origin, "", ""});
  }
}

DaemonCounterSource::~DaemonCounterSource() {
  if (fd_ >= 0) ::close(fd_);
}

void DaemonCounterSource::fail_all(std::vector<int>& errors, int error) noexcept {
  lost_error_ = error;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  std::fill(errors.begin(), errors.end(), error);
}

int DaemonCounterSource::receive_line(std::size_t& length) noexcept {
  length = 0;
  for (;;) {
    if (length == buffer_.size()) return EBADMSG;
    const ssize_t n = ::recv(fd_, buffer_.data() + length, buffer_.size() - length, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? ETIMEDOUT : errno;
    if (n == 0) return ECONNRESET;
    length += static_cast<std::size_t>(n);
    if (buffer_[length - 1] == '\n') return 0;
  }
}

void DaemonCounterSource::read(std::vector<std::uint64_t>& raw, std::vector<int>& errors) noexcept {
  if (fd_ < 0) {
    std::fill(errors.begin(), errors.end(), lost_error_ != 0 ? lost_error_ : ECONNRESET);
    return;
  }
  static const std::string request = daemon::encode_read_request();
  if (!send_all(fd_, request)) {
    fail_all(errors, errno == EPIPE ? ECONNRESET : errno);
    return;
  }
  std::size_t length = 0;
  if (const int error = receive_line(length); error != 0) {
    fail_all(errors, error);
    return;
  }
  try {
    if (!daemon::parse_read_response(std::string_view(buffer_.data(), length), raw, errors).empty())
      fail_all(errors, EBADMSG);
  } catch (...) {
    fail_all(errors, ENOMEM);
  }
}

}  // namespace wattprint
