// The wattprintd server power client: SERVER at open, POWER per reading.
#include "sources/daemon/daemon_server_source.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/protocol.hpp"
#include "sources/daemon/daemon_socket.hpp"

namespace wattprint {

namespace {

constexpr const char* kStatusName = "wattprintd.server";
constexpr const char* kRefusedRemedy =
    "ask the administrator to add you to wattprintd's group (docs/permissions.md)";

std::chrono::milliseconds to_milliseconds(Seconds timeout) {
  return std::max(std::chrono::milliseconds(1),
                  std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
}

/// One request, one answer line on `fd`; 0 with `line` set, or an errno value.
int ask(int fd, std::string_view request, std::vector<char>& buffer, std::string_view& line) noexcept {
  if (!send_all(fd, request)) return errno == EPIPE ? ECONNRESET : errno;
  std::size_t length = 0;
  if (const int error = receive_line(fd, buffer, length); error != 0) return error;
  line = std::string_view(buffer.data(), length);
  return 0;
}

class DaemonServerSource final : public ServerPowerSource {
 public:
  DaemonServerSource(std::filesystem::path socket, std::chrono::milliseconds timeout, int fd,
                     std::string family, std::string origin)
      : socket_(std::move(socket)),
        timeout_(timeout),
        fd_(fd),
        family_(std::move(family)),
        origin_(std::move(origin)),
        buffer_(daemon::kMaxResponseLine) {}
  DaemonServerSource(const DaemonServerSource&) = delete;
  DaemonServerSource& operator=(const DaemonServerSource&) = delete;
  ~DaemonServerSource() override { disconnect(); }

  [[nodiscard]] const std::string& family() const override { return family_; }
  [[nodiscard]] const std::string& origin() const override { return origin_; }

  ServerRead read() noexcept override {
    ServerRead result;
    try {
      if (fd_ < 0) {
        fd_ = connect_to_daemon(socket_, timeout_);
        if (fd_ < 0) {
          const int error = -fd_;
          fd_ = -1;
          result.error =
              fmt::format("wattprintd: cannot connect to {}: {}", socket_.string(), std::strerror(error));
          return result;
        }
      }
      std::string_view line;
      static const std::string request = daemon::encode_power_request();  // built once, not per reading
      if (const int error = ask(fd_, request, buffer_, line); error != 0) {
        disconnect();
        result.error = fmt::format("wattprintd: no answer to POWER: {}", std::strerror(error));
        return result;
      }
      const daemon::PowerResponse power = daemon::parse_power_response(line);
      if (!power.error.empty()) {
        disconnect();  // a daemon that says ERR closes the connection
        result.error = power.error;
      } else if (!power.ok) {
        result.error = power.failure;
      } else {
        result.reading = ServerPowerReading{Watts{power.watts}, Seconds(power.window_s)};
      }
    } catch (...) {
      result.reading.reset();
      result.error = "wattprintd: out of memory";
    }
    return result;
  }

 private:
  void disconnect() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  std::filesystem::path socket_;
  std::chrono::milliseconds timeout_;
  int fd_;
  std::string family_;
  std::string origin_;
  std::vector<char> buffer_;
};

}  // namespace

OpenedServerSource open_daemon_server_source(const std::filesystem::path& socket, Seconds timeout) {
  OpenedServerSource opened;
  SensorStatus& status = opened.status;
  status.name = kStatusName;
  status.path = socket.string();
  const auto fail = [&](SensorStatus::State state, std::string reason, std::string remedy) {
    status.state = state;
    status.reason = std::move(reason);
    status.remedy = std::move(remedy);
    return std::move(opened);
  };
  const std::chrono::milliseconds wait = to_milliseconds(timeout);
  const int fd = connect_to_daemon(socket, wait);
  if (fd < 0) {
    const int error = -fd;
    if (error == ENAMETOOLONG) {
      return fail(SensorStatus::State::Error, fmt::format("socket path '{}' is too long", socket.string()),
                  "");
    }
    const bool absent = error == ENOENT || error == ECONNREFUSED;
    return fail(absent ? SensorStatus::State::Absent : SensorStatus::State::Unreadable,
                fmt::format("cannot connect to {}: {}", socket.string(), std::strerror(error)),
                error == EACCES ? kRefusedRemedy : "install and start wattprintd (docs/permissions.md)");
  }
  std::vector<char> buffer(daemon::kMaxResponseLine);
  std::string_view line;
  const int error = ask(fd, daemon::encode_server_request(), buffer, line);
  // A refusing daemon answers with one line and closes at once: its line may still arrive after a failed
  // send.
  const daemon::ServerResponse server =
      error == 0 ? daemon::parse_server_response(line)
                 : daemon::ServerResponse{
                       false, "", "", "",
                       fmt::format("{} did not answer SERVER: {}", socket.string(), std::strerror(error))};
  if (!server.served) ::close(fd);
  if (!server.error.empty()) {
    if (server.error.find("access denied") != std::string::npos) {
      return fail(SensorStatus::State::Unreadable, server.error, kRefusedRemedy);
    }
    if (server.error.find("unknown request") != std::string::npos) {
      return fail(SensorStatus::State::Absent,
                  fmt::format("the wattprintd at {} serves no server power (a version before SERVER)",
                              socket.string()),
                  "update wattprintd");
    }
    return fail(SensorStatus::State::Error, server.error, "");
  }
  if (!server.served) {
    return fail(SensorStatus::State::Absent, server.reason,
                "start wattprintd where it can read the BMC (docs/permissions.md, \"The BMC\")");
  }
  status.state = SensorStatus::State::Ok;
  const std::string origin = fmt::format("wattprintd {}: {}", socket.string(), server.origin);
  opened.source = std::make_unique<DaemonServerSource>(socket, wait, fd, server.family, origin);
  return opened;
}

}  // namespace wattprint
