// The wattprintd client: HELLO once, READ per sample.
#include "sources/daemon/daemon_counter_source.hpp"

#include <fmt/format.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "daemon/protocol.hpp"
#include "sources/daemon/daemon_socket.hpp"

namespace wattprint {

namespace {

constexpr std::size_t kMaxHelloBytes = daemon::kMaxResponseLine * (daemon::kMaxSensors + 1);

}  // namespace

std::optional<std::filesystem::path> daemon_socket_from_environment() {
  const char* value = std::getenv("WATTPRINT_DAEMON_SOCKET");
  if (value == nullptr || *value == '\0') return std::filesystem::path(kDefaultDaemonSocket);
  if (std::string_view(value) == "none") return std::nullopt;
  return std::filesystem::path(value);
}

namespace {

constexpr const char* kRefusedRemedy =
    "ask the administrator to add you to wattprintd's group (docs/permissions.md)";

/// A connection that said HELLO: its socket and sensor list, or (fd -1) why not, as a status would say it.
struct Handshake {
  int fd = -1;
  std::vector<SensorInfo> sensors;
  SensorStatus::State state = SensorStatus::State::Error;
  std::string why;
  std::string remedy;
};

Handshake connect_and_hello(const std::filesystem::path& socket, std::chrono::milliseconds timeout,
                            std::vector<char>& buffer) {
  Handshake h;
  const std::string path = socket.string();
  const auto fail = [&](SensorStatus::State state, std::string why, std::string remedy) {
    if (h.fd >= 0) ::close(h.fd);
    h.fd = -1;
    h.state = state;
    h.why = std::move(why);
    h.remedy = std::move(remedy);
    return std::move(h);
  };
  h.fd = connect_to_daemon(socket, timeout);
  if (h.fd < 0) {
    const int error = -h.fd;
    h.fd = -1;
    if (error == ENAMETOOLONG) {
      return fail(SensorStatus::State::Error, fmt::format("socket path '{}' is too long", path), "");
    }
    const bool absent = error == ENOENT || error == ECONNREFUSED;
    return fail(absent ? SensorStatus::State::Absent : SensorStatus::State::Unreadable,
                fmt::format("cannot connect to {}: {}", path, std::strerror(error)),
                error == EACCES ? kRefusedRemedy : "install and start wattprintd (docs/permissions.md)");
  }
  // A refusing daemon answers with one error line and closes at once, maybe before HELLO is sent: its line
  // is read even when the send fails.
  const int send_error = send_all(h.fd, daemon::encode_hello_request()) ? 0 : errno;
  std::size_t have = 0;
  std::size_t complete = 0;
  while ((complete = daemon::hello_response_length(std::string_view(buffer.data(), have))) == 0) {
    if (have == buffer.size()) break;
    const ssize_t n = ::recv(h.fd, buffer.data() + have, buffer.size() - have, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return fail(SensorStatus::State::Error,
                  fmt::format("{} did not answer HELLO: {}", path,
                              n < 0 ? std::strerror(errno)
                                    : (send_error != 0 ? std::strerror(send_error) : "connection closed")),
                  "");
    }
    have += static_cast<std::size_t>(n);
  }
  daemon::HelloResponse hello =
      daemon::parse_hello_response(std::string_view(buffer.data(), complete == 0 ? have : complete));
  if (!hello.error.empty()) {
    const bool refused = hello.error.find("access denied") != std::string::npos;
    return fail(refused ? SensorStatus::State::Unreadable : SensorStatus::State::Error, hello.error,
                refused ? kRefusedRemedy : "");
  }
  if (hello.sensors.empty())
    return fail(SensorStatus::State::Error, fmt::format("{} serves no sensor", path), "");
  h.sensors = std::move(hello.sensors);
  return h;
}

/// Whether a daemon that came back serves the same counters (same names, ranges and units), so that its raw
/// values continue the ones read before.
bool same_counters(const std::vector<SensorInfo>& now, const std::vector<SensorInfo>& before) {
  if (now.size() != before.size()) return false;
  for (std::size_t i = 0; i < now.size(); ++i) {
    if (now[i].name != before[i].name || now[i].counter_max != before[i].counter_max ||
        now[i].joules_per_raw_unit != before[i].joules_per_raw_unit)
      return false;
  }
  return true;
}

}  // namespace

DaemonCounterSource::DaemonCounterSource(std::filesystem::path socket, std::chrono::milliseconds timeout)
    : socket_(std::move(socket)), timeout_(timeout), buffer_(kMaxHelloBytes) {
  Handshake h = connect_and_hello(socket_, timeout_, buffer_);
  if (h.fd < 0) {
    failure_ = h.why;
    statuses_ = {{"wattprintd", h.state, socket_.string(), std::move(h.why), std::move(h.remedy)}};
    return;
  }
  fd_ = h.fd;
  sensors_ = std::move(h.sensors);
  const std::string origin = fmt::format("wattprintd {}", socket_.string());
  for (SensorInfo& info : sensors_) {
    info.origin = fmt::format("{}: {}", origin, info.origin);
    statuses_.push_back({info.name, SensorStatus::State::Ok, info.origin, "", ""});
  }
}

bool DaemonCounterSource::reconnect() noexcept {
  const auto now = std::chrono::steady_clock::now();
  if (last_reconnect_ && now - *last_reconnect_ < kReconnectPeriod) return false;
  last_reconnect_ = now;
  try {
    Handshake h = connect_and_hello(socket_, timeout_, buffer_);
    if (h.fd < 0) return false;
    if (!same_counters(h.sensors, sensors_)) {
      ::close(h.fd);
      lost_error_ = ENODEV;  // another machine's or another kernel's counters: not a continuation
      return false;
    }
    fd_ = h.fd;
    lost_error_ = 0;
    return true;
  } catch (...) {
    return false;
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

void DaemonCounterSource::read(std::vector<std::uint64_t>& raw, std::vector<int>& errors) noexcept {
  if (fd_ < 0 && (sensors_.empty() || lost_error_ == ENODEV || !reconnect())) {
    std::fill(errors.begin(), errors.end(), lost_error_ != 0 ? lost_error_ : ECONNRESET);
    return;
  }
  static const std::string request = daemon::encode_read_request();
  if (!send_all(fd_, request)) {
    fail_all(errors, errno == EPIPE ? ECONNRESET : errno);
    return;
  }
  std::size_t length = 0;
  if (const int error = receive_line(fd_, buffer_, length); error != 0) {
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
