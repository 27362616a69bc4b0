// Server source selection: explicit choice, else network sources that were configured, then local ones.
#include "sources/server/server_sources.hpp"

#include <fmt/format.h>

#include <system_error>

#include "sources/daemon/daemon_server_source.hpp"
#include "sources/server/acpi_power_meter.hpp"

namespace wattprint {

std::optional<ServerSourceChoice> parse_server_source_choice(const std::string& text) {
  if (text == "auto") return ServerSourceChoice::Auto;
  if (text == "ipmi") return ServerSourceChoice::Ipmi;
  if (text == "redfish") return ServerSourceChoice::Redfish;
  if (text == "acpi") return ServerSourceChoice::Acpi;
  if (text == "none") return ServerSourceChoice::None;
  return std::nullopt;
}

namespace {

SensorStatus not_configured(const std::string& name, const std::string& reason, const std::string& remedy) {
  SensorStatus status;
  status.name = name;
  status.state = SensorStatus::State::Absent;
  status.reason = reason;
  status.remedy = remedy;
  return status;
}

/// Whether wattprintd's meter (family "ipmi-dcmi", "redfish", "acpi-power-meter") is of the family asked for.
bool family_matches(ServerSourceChoice choice, const std::string& family) {
  switch (choice) {
    case ServerSourceChoice::Auto:
      return true;
    case ServerSourceChoice::Ipmi:
      return family.rfind("ipmi", 0) == 0;
    case ServerSourceChoice::Redfish:
      return family.rfind("redfish", 0) == 0;
    case ServerSourceChoice::Acpi:
      return family.rfind("acpi", 0) == 0;
    case ServerSourceChoice::None:
      return false;
  }
  return false;
}

/// The daemon's meter, when it is of the family asked for.
OpenedServerSource open_daemon_meter(const ServerSourceOptions& options) {
  OpenedServerSource opened = open_daemon_server_source(*options.daemon_socket, options.timeout);
  if (opened.source && !family_matches(options.choice, opened.source->family())) {
    opened.status.state = SensorStatus::State::Absent;
    opened.status.reason =
        fmt::format("wattprintd reads {}, not the family asked for", opened.source->family());
    opened.status.remedy = "--server-source auto";
    opened.source.reset();
  }
  return opened;
}

}  // namespace

ServerSources open_server_sources(const ServerSourceOptions& options) {
  ServerSources result;
  if (options.choice == ServerSourceChoice::None) {
    result.unavailable_reason = "no server power source (--server-source none)";
    return result;
  }
  using Choice = ServerSourceChoice;
  const auto wanted = [&](Choice family) {
    return options.choice == Choice::Auto || options.choice == family;
  };
  const auto consider = [&](OpenedServerSource opened) {
    result.statuses.push_back(opened.status);
    if (!result.source && opened.source) result.source = std::move(opened.source);
  };
  const auto done = [&] { return result.source && !options.probe_all; };

  if (wanted(Choice::Ipmi) && options.ipmi_lan && !done()) consider(open_ipmi_lan_source(*options.ipmi_lan));
  if (wanted(Choice::Redfish) && options.redfish && !done()) consider(open_redfish_source(*options.redfish));
  if (wanted(Choice::Ipmi) && !done()) consider(open_ipmi_local_source(options.ipmi_device, options.timeout));
  // wattprintd: what the administrator set up for users who cannot read the BMC themselves. Looked at when
  // its socket is there (or when listing everything).
  std::error_code ignored;
  if (options.daemon_socket && !done() &&
      (options.probe_all || std::filesystem::exists(*options.daemon_socket, ignored))) {
    consider(open_daemon_meter(options));
  }
  if (wanted(Choice::Acpi) && !done()) consider(open_acpi_power_meter(options.sysfs_root));
  // Network sources that were not configured: said when asked for by name, or when listing everything.
  if (wanted(Choice::Ipmi) && !options.ipmi_lan && (options.probe_all || options.choice == Choice::Ipmi)) {
    result.statuses.push_back(
        not_configured("ipmi-dcmi.lan", "no BMC address configured",
                       "pass --ipmi-host HOST with --ipmi-user and --ipmi-password-file"));
  }
  if (wanted(Choice::Redfish) && !options.redfish &&
      (options.probe_all || options.choice == Choice::Redfish)) {
    result.statuses.push_back(not_configured("redfish", "no Redfish service configured",
                                             "pass --redfish https://BMC with --redfish-user and "
                                             "--redfish-password-file"));
  }

  if (!result.source) {
    std::string reasons;
    for (const SensorStatus& status : result.statuses) {
      reasons += fmt::format("{}{}: {}", reasons.empty() ? "" : "; ", status.name, status.reason);
    }
    result.unavailable_reason = fmt::format("no usable server power source ({})", reasons);
  }
  return result;
}

}  // namespace wattprint
