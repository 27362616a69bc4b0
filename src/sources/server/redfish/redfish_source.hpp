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

/// Finds the power reading and checks that it reads. Discovery, per chassis of /redfish/v1/Chassis (or the
/// one chassis given), the first chassis with a reading winning: EnvironmentMetrics PowerWatts.Reading; else
/// the PowerSubsystem's power supplies, Metrics InputPowerWatts.Reading added over the present supplies; else
/// the legacy Power PowerControl[0].PowerConsumedWatts. read() then GETs only that resource (one per supply
/// for the sum) over one kept-alive connection, all within `timeout`; readings are instantaneous (window 0).
/// Each GET of the discovery is bounded by `timeout`. Links are followed on the URL's origin only, redirects
/// never. Status "redfish", path the URL (credentials redacted): Ok; Absent when the service has no power
/// reading (the reason lists what was tried); Unreadable on HTTP 401/403; Error for a refused URL (http://
/// without `insecure`, credentials in the URL), connection, timeout, TLS and certificate failures, HTTP
/// errors and malformed JSON on the URL given. Never throws; no reason, remedy or origin holds the password.
OpenedServerSource open_redfish_source(const RedfishOptions& options);

}  // namespace wattprint
