// Whole-server power from the BMC: IPMI DCMI Get Power Reading, in-band (/dev/ipmi0) or over the network
// (IPMI 2.0 lanplus). Both transports carry the same request and decode the same response (dcmi_codec.hpp).
#pragma once

#include <optional>
#include <string>

#include "core/secret.hpp"
#include "core/units.hpp"
#include "sources/server/server_power_source.hpp"

namespace wattprint {

/// IPMI over the network (IPMI 2.0 / RMCP+, "lanplus").
struct IpmiLanOptions {
  std::string host;  ///< "HOST" or "HOST:PORT" (port 623 by default)
  std::string user;
  Secret password;
  /// The cipher suite. nullopt: 17 (SHA-256, AES) if the BMC has it, else 3 (SHA-1, AES). Suites without
  /// authentication or integrity (0, 1, 6, 15) are used only when named here.
  std::optional<int> cipher_suite;
  std::string privilege = "admin";  ///< "user", "operator" or "admin"
  Seconds timeout{5.0};             ///< the longest one request (or the session set-up) may take
};

/// Opens a lanplus session and checks with one DCMI Get Power Reading that the BMC answers it.
OpenedServerSource open_ipmi_lan_source(const IpmiLanOptions& options);

/// The local BMC through the kernel's IPMI driver (`device`, default /dev/ipmi0).
OpenedServerSource open_ipmi_local_source(const std::string& device, Seconds timeout);

}  // namespace wattprint
