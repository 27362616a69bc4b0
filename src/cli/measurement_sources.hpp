// The sources a measuring command (run, idle) opens: RAPL, GPUs and the whole server, from flags, the
// configuration and the environment; validated before anything starts.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config_file.hpp"
#include "sampling/run_sampler.hpp"
#include "sources/gpu/gpu_sources.hpp"
#include "sources/sensor.hpp"
#include "sources/server/server_sources.hpp"

namespace wattprint::cli {

/// Flags of the whole-server power sources, kept as text and validated after parsing.
struct ServerFlags {
  std::optional<std::string> source;
  std::optional<std::string> interval;
  std::optional<std::string> timeout;
  std::optional<std::string> ipmi_host;
  std::optional<std::string> ipmi_user;
  std::optional<std::string> ipmi_password_file;
  std::optional<std::string> ipmi_cipher_suite;
  std::optional<std::string> ipmi_privilege;
  std::optional<std::string> ipmi_device;
  std::optional<std::string> redfish_url;
  std::optional<std::string> redfish_user;
  std::optional<std::string> redfish_password_file;
  std::optional<std::string> redfish_ca;
  bool insecure = false;
  bool password_on_command_line = false;  ///< someone typed --ipmi-password or --redfish-password
};

struct SourceFlags {
  std::optional<std::string> sysfs_root;
  std::optional<std::string> nvml_library;
  std::optional<std::string> rocm_smi_library;
  ServerFlags server;
};

/// --sysfs-root, the GPU group and the "Server power" group.
void add_source_flags(CLI::App& app, SourceFlags& flags);
/// The "Server power" group alone; `default_interval_s` is the --server-interval its help names (wattprintd
/// reads more often than a run).
void add_server_flags(CLI::App& app, ServerFlags& flags, double default_interval_s = 5.0);

/// Everything needed to open the sources, checked. Password files are read here.
struct SourceSettings {
  std::string sysfs_root;
  GpuSourceOptions gpu;
  ServerSourceOptions server;
  Seconds server_interval{5.0};
  /// A server source was asked for by name or configured (an IPMI host, a Redfish URL): its failure is
  /// worth a warning before the command starts.
  bool server_requested = false;
  std::vector<std::string> warnings;
};

/// Throws UsageError (one line naming the option) for anything wrong.
SourceSettings resolve_source_settings(const SourceFlags& flags, const ConfigValues& config);
/// The server part alone (for `wattprint sensors`).
void resolve_server_settings(const ServerFlags& flags, const ConfigValues& config, SourceSettings& settings);

struct OpenedSources {
  std::vector<std::unique_ptr<EnergyCounterSource>> counters;  ///< RAPL, then the GPU families
  std::vector<SensorStatus> statuses;                          ///< RAPL, GPUs, then the server families
  std::string rapl_reason;                                     ///< why no RAPL package counter (when none)
  std::string gpu_reason;                                      ///< why no GPU (when none)
  ServerSources server;  ///< the server source (or why none) and the families' statuses
};

OpenedSources open_measurement_sources(const SourceSettings& settings);

/// What the machine's sources read while nothing of ours runs.
struct IdleMeasurement {
  RunMeasurement measurement;
  std::vector<SensorStatus> statuses;
  std::string server_reason;  ///< why no server power (empty when measured)
  std::string warning;        ///< set when the machine was busy during the measurement
};

/// Opens the sources, samples them for `duration` (every `interval`; the server at its own interval) and
/// returns the totals.
IdleMeasurement measure_idle(const SourceSettings& settings, Seconds duration, Seconds interval);

/// Busy cores on average above which a measurement is not called idle.
inline constexpr double kIdleBusyCoresLimit = 0.25;

}  // namespace wattprint::cli
