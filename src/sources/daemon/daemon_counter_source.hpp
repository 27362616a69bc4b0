// RAPL counters read through wattprintd (src/daemon) when the kernel lets only root read them: the sensor
// list once (HELLO), the raw counters on every read (READ), over the daemon's Unix socket.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "sources/sensor.hpp"

namespace wattprint {

/// The default socket of wattprintd.
inline constexpr const char* kDefaultDaemonSocket = "/run/wattprintd.sock";

/// WATTPRINT_DAEMON_SOCKET, else the default; nullopt when it is `none`.
std::optional<std::filesystem::path> daemon_socket_from_environment();

class DaemonCounterSource final : public EnergyCounterSource {
 public:
  /// Connects and asks for the sensor list, waiting at most `timeout` per answer. Never throws for the
  /// daemon's failures: statuses() then holds one "wattprintd" entry saying why, and sensors() is empty.
  explicit DaemonCounterSource(std::filesystem::path socket,
                               std::chrono::milliseconds timeout = std::chrono::milliseconds(500));
  DaemonCounterSource(const DaemonCounterSource&) = delete;
  DaemonCounterSource& operator=(const DaemonCounterSource&) = delete;
  ~DaemonCounterSource() override;

  [[nodiscard]] const std::vector<SensorStatus>& statuses() const override { return statuses_; }
  [[nodiscard]] const std::vector<SensorInfo>& sensors() const override { return sensors_; }
  /// One READ. A lost or misbehaving daemon gives every sensor an error (ECONNRESET, ETIMEDOUT, EBADMSG), so
  /// the run marks them degraded; a read at least a second after the last try connects again, and reads on
  /// once the daemon is back with the same counters (a daemon that comes back with others: ENODEV for good).
  void read(std::vector<std::uint64_t>& raw, std::vector<int>& errors) noexcept override;

  /// Whether the daemon answered with at least one sensor.
  [[nodiscard]] bool usable() const { return !sensors_.empty(); }
  /// Why not usable (the daemon's own refusal, e.g. "not in group wattprint", or the socket error).
  [[nodiscard]] const std::string& failure() const { return failure_; }
  [[nodiscard]] const std::filesystem::path& socket() const { return socket_; }

 private:
  void fail_all(std::vector<int>& errors, int error) noexcept;
  /// Connects and says HELLO again (at most once per kReconnectPeriod); true when reading can go on.
  bool reconnect() noexcept;

  static constexpr std::chrono::seconds kReconnectPeriod{1};

  std::filesystem::path socket_;
  std::chrono::milliseconds timeout_;
  int fd_ = -1;
  std::optional<std::chrono::steady_clock::time_point> last_reconnect_;
  int lost_error_ = 0;  ///< set once the connection is lost
  std::vector<SensorStatus> statuses_;
  std::vector<SensorInfo> sensors_;
  std::string failure_;
  std::vector<char> buffer_;
};

}  // namespace wattprint
