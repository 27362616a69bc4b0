// wattprintd's whole-server power: one thread reads the meter (the local BMC, a BMC over the network with
// credentials only root holds, Redfish, ACPI) every interval; clients get the latest reading (POWER) without
// ever waiting on the management card, so a slow BMC cannot hold up the RAPL readings served beside it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/clock.hpp"
#include "core/units.hpp"
#include "sources/server/server_power_source.hpp"

namespace wattprint::daemon {

/// The latest outcome of reading the meter.
struct LatestServerRead {
  std::optional<ServerPowerReading> reading;  ///< the last read's reading (none when it failed)
  std::string error;                          ///< why the last read failed
  std::optional<SteadyTime> at;               ///< when the last read ended; none before the first
};

/// The POWER answer for `latest` at `now`: the reading, or "POWER - why". A state older than `stale_after`
/// (a read that hangs) is a failure that says for how long there has been none.
std::string power_answer(const LatestServerRead& latest, SteadyTime now, Seconds stale_after);

class ServerPowerPoller {
 public:
  /// Reads `source` every `interval`; a read blocks at most `timeout` (the source's own bound).
  ServerPowerPoller(std::unique_ptr<ServerPowerSource> source, Seconds interval, Seconds timeout,
                    const Clock& clock);
  ServerPowerPoller(const ServerPowerPoller&) = delete;
  ServerPowerPoller& operator=(const ServerPowerPoller&) = delete;
  /// Stops the thread (waiting for a read in progress, at most about the timeout).
  ~ServerPowerPoller();

  /// Reads once now (so the first client has a reading), then starts the thread.
  void start();

  [[nodiscard]] const std::string& family() const { return source_->family(); }
  [[nodiscard]] const std::string& origin() const { return source_->origin(); }
  /// The POWER answer now; never blocks on the meter.
  [[nodiscard]] std::string answer() const;
  /// Reads made so far (successful or not).
  [[nodiscard]] std::uint64_t reads() const;
  /// How old a state may get before answer() calls it a failure: two intervals and a timeout.
  [[nodiscard]] Seconds stale_after() const;

 private:
  void read_once();
  void loop();

  std::unique_ptr<ServerPowerSource> source_;
  Seconds interval_;
  Seconds timeout_;
  const Clock& clock_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  LatestServerRead latest_;
  std::uint64_t reads_ = 0;
  std::thread thread_;
};

}  // namespace wattprint::daemon
