// Whole-server power from a Redfish service over HTTPS: EnvironmentMetrics PowerWatts, PowerSubsystem power
// supply metrics, or the legacy Power resource's PowerControl PowerConsumedWatts.
#pragma once

#include <optional>
#include <string>

#include "core/secret.hpp"
#include "core/units.hpp"
#include "sources/server/server_power_source.hpp"

namespace wattprint {

struct RedfishOptions {
  /// The service ("https://bmc.example", "https://10.0.0.5:8443") or one chassis
  /// ("https://bmc/redfish/v1/Chassis/1U").
  std::string url;
  std::string user;
  Secret password;
  std::optional<std::string> ca_file;  ///< PEM bundle to verify the BMC's certificate against
  bool insecure = false;               ///< no certificate verification (explicit opt-in only)
  Seconds timeout{5.0};                ///< the longest one request may take
};

/// Finds the power reading (discovery order in the implementation) and checks that it reads.
OpenedServerSource open_redfish_source(const RedfishOptions& options);

}  // namespace wattprint
