// Which whole-server power source a run uses: the one asked for, or the first usable of IPMI over the
// network (when configured), Redfish (when configured), the local BMC, and the ACPI power meter.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sources/server/ipmi/ipmi_dcmi_source.hpp"
#include "sources/server/redfish/redfish_source.hpp"
#include "sources/server/server_power_source.hpp"

namespace wattprint {

enum class ServerSourceChoice { Auto, Ipmi, Redfish, Acpi, None };

/// "auto", "ipmi", "redfish", "acpi", "none"; nullopt for anything else.
std::optional<ServerSourceChoice> parse_server_source_choice(const std::string& text);

struct ServerSourceOptions {
  ServerSourceChoice choice = ServerSourceChoice::Auto;
  std::filesystem::path sysfs_root = "/sys";
  std::optional<IpmiLanOptions> ipmi_lan;  ///< set when an IPMI host is configured
  std::string ipmi_device = "/dev/ipmi0";
  std::optional<RedfishOptions> redfish;  ///< set when a Redfish URL is configured
  /// wattprintd's socket, asked for the server power when the local meters cannot be read (the local BMC is
  /// root-only); nullopt: not asked.
  std::optional<std::filesystem::path> daemon_socket;
  Seconds timeout{5.0};
  /// Look at every family (for `wattprint sensors`) instead of stopping at the first usable one.
  bool probe_all = false;
};

struct ServerSources {
  /// One status per family looked at, in the order tried.
  std::vector<SensorStatus> statuses;
  /// The source the run reads, or null.
  std::unique_ptr<ServerPowerSource> source;
  /// Why there is no source, with the remedy (empty when there is one).
  std::string unavailable_reason;
};

ServerSources open_server_sources(const ServerSourceOptions& options);

}  // namespace wattprint
