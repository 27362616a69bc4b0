// What every whole-server power family (IPMI DCMI, Redfish, ACPI power meter) provides: one power reading on
// demand, with the period it averages over, and a status that says whether and why it can be used.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/units.hpp"
#include "sources/sensor.hpp"

namespace wattprint {

/// One whole-server power reading, already in SI units.
struct ServerPowerReading {
  Watts power;
  /// The reading is the mean power over the `window` that ended when it was taken (a DCMI rolling average,
  /// an ACPI power1_average interval); zero for an instantaneous value.
  Seconds window{0.0};
};

/// The outcome of one read: a reading, or a one-line reason (never containing a credential).
struct ServerRead {
  std::optional<ServerPowerReading> reading;
  std::string error;
};

/// A whole-server power meter. read() is called from the server sampling thread only, at the server
/// interval; it blocks at most the source's own timeout and never throws.
class ServerPowerSource {
 public:
  virtual ~ServerPowerSource() = default;
  /// "ipmi-dcmi", "redfish", "acpi-power-meter".
  [[nodiscard]] virtual const std::string& family() const = 0;
  /// Where the readings come from, for reports: "IPMI DCMI over lanplus to 10.0.0.5:623 as admin (cipher
  /// suite 3)", "Redfish https://bmc/redfish/v1/Chassis/1U/Power PowerControl[0].PowerConsumedWatts".
  /// Never a password.
  [[nodiscard]] virtual const std::string& origin() const = 0;
  virtual ServerRead read() noexcept = 0;
};

/// A family's answer to "can it be used here?": the status (named after the family, with the path or
/// address looked at, and the reason and remedy when not usable) and the opened source when it can.
struct OpenedServerSource {
  SensorStatus status;
  std::unique_ptr<ServerPowerSource> source;  ///< null unless status.state is Ok
};

}  // namespace wattprint
