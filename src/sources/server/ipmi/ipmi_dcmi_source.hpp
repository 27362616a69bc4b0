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
/// status.name "ipmi-dcmi.lan", status.path "HOST:PORT". The source's origin() names the cipher suite used
/// ("IPMI DCMI over lanplus to 10.0.0.5:623 as admin (cipher suite 3)"). A read gives up after about
/// options.timeout (plus at most a fifth of it); after a transport failure the next read opens a new session.
OpenedServerSource open_ipmi_lan_source(const IpmiLanOptions& options);

/// The local BMC through the kernel's IPMI driver (`device`, default /dev/ipmi0). status.name
/// "ipmi-dcmi.local": Absent when the device node is missing, Unreadable without permission to open it.
/// libfreeipmi's in-band driver takes no timeout; the kernel driver times out unanswered requests itself
/// (completion code 0xC3), so `timeout` is validated but not applied.
OpenedServerSource open_ipmi_local_source(const std::string& device, Seconds timeout);

}  // namespace wattprint
