// `wattprint sensors`: every source wattprint knows, whether it is here, readable, and the remedy if not.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <vector>

#include "attribution/procfs.hpp"
#include "cli/commands.hpp"
#include "cli/measurement_sources.hpp"
#include "cli/options.hpp"
#include "methods/estimate.hpp"
#include "platform/host_info.hpp"
#include "sources/daemon/daemon_counter_source.hpp"
#include "sources/gpu/gpu_sources.hpp"
#include "sources/perf/cpu_energy_access.hpp"
#include "sources/perf/perf_power_source.hpp"
#include "sources/rapl/powercap_rapl.hpp"

namespace wattprint::cli {

namespace {

struct SensorsFlags {
  SourceFlags sources;
};

void print_row(const std::string& name, const std::string& state, const std::string& detail,
               const std::string& remedy = "") {
  std::fputs(fmt::format("  {:<24} {:<11} {}\n", name, state, detail).c_str(), stdout);
  if (!remedy.empty())
    std::fputs(fmt::format("  {:<24} {:<11} remedy: {}\n", "", "", remedy).c_str(), stdout);
}

/// The rows of a counter family: where each counter is read, or why it cannot be.
void print_counter_rows(const EnergyCounterSource& source) {
  for (const SensorStatus& status : source.statuses()) {
    std::string detail = status.state == SensorStatus::State::Ok ? status.path : status.reason;
    for (const SensorInfo& info : source.sensors()) {
      if (info.name != status.name) continue;
      const double range_j = static_cast<double>(info.counter_max) * info.joules_per_raw_unit;
      detail += fmt::format(" ({}, {}{}{})", component_name(info.component),
                            info.counter_max == std::numeric_limits<std::uint64_t>::max()
                                ? "64-bit count, no wrap"
                                : fmt::format("wraps at {:.1f} J", range_j),
                            info.max_power ? fmt::format(", max {:.1f} W", info.max_power->value) : "",
                            is_additive(info.component) ? "" : ", not added to the totals");
    }
    print_row(status.name, state_name(status.state), detail, status.remedy);
  }
}

/// wattprintd (src/sources/daemon): whether its socket is there and serves this user the RAPL counters.
AccessWay daemon_access() {
  const auto socket = daemon_socket_from_environment();
  if (!socket) return {"wattprintd", "off", "WATTPRINT_DAEMON_SOCKET=none", ""};
  std::error_code ec;
  if (!std::filesystem::exists(*socket, ec)) {
    return {
        "wattprintd", "absent", fmt::format("no socket at {}", socket->string()),
        "an administrator installs wattprintd, which serves the counters to one group (docs/permissions.md)"};
  }
  const DaemonCounterSource daemon(*socket);
  if (daemon.usable()) {
    return {"wattprintd", "ok",
            fmt::format("{}: usable ({} sensors; used when energy_uj is root-only)", socket->string(),
                        daemon.sensors().size()),
            ""};
  }
  if (daemon.statuses().empty()) return {"wattprintd", "error", socket->string() + ": serves no counter", ""};
  const SensorStatus& status = daemon.statuses().front();
  return {"wattprintd", state_name(status.state), status.reason, status.remedy};
}

/// "Reading CPU energy without root": each way, its state here, and the command that enables it.
void print_access_section(const AccessProbeOptions& access, const EnergyCounterSource& powercap,
                          const PerfPowerSource& perf) {
  const std::vector<AccessWay> ways{powercap_access(powercap, access.proc_root),
                                    perf_access(perf, access.proc_root), daemon_access(),
                                    rules_access(access)};
  std::fputs("\nReading CPU energy without root\n", stdout);
  for (const AccessWay& way : ways) print_row(way.name, way.state, way.detail, way.remedy);
}

int execute(const SensorsFlags& flags) {
  const ConfigValues config = load_configuration(FootprintFlags{});
  SourceSettings settings = resolve_source_settings(flags.sources, config);
  settings.server.probe_all = true;
  for (const std::string& warning : settings.warnings)
    std::fprintf(stderr, "wattprint: warning: %s\n", warning.c_str());
  const std::string root = settings.sysfs_root;
  std::fputs(fmt::format("wattprint {} sensors (sysfs root {}, running as {})\n\n", version(), root,
                         ::geteuid() == 0 ? "root" : "uid " + std::to_string(::geteuid()))
                 .c_str(),
             stdout);
  std::fputs(fmt::format("  {:<24} {:<11} {}\n", "SENSOR", "STATUS", "DETAIL").c_str(), stdout);

  const PowercapRaplSource rapl(root);
  print_counter_rows(rapl);
  const AccessProbeOptions access{root, "/proc", "/etc/udev/rules.d", "/etc/tmpfiles.d"};
  const PerfPowerSource perf(PerfPowerOptions{root, access.proc_root}, system_perf_event_syscalls());
  print_counter_rows(perf);
  const AccessWay daemon = daemon_access();
  print_row(daemon.name, daemon.state, daemon.detail, daemon.remedy);

  const ProcFs procfs("/proc");
  const auto self = procfs.process_stat(::getpid());
  const bool children = procfs.children(::getpid(), self ? self->num_threads : 1).has_value();
  const bool stat_ok = procfs.machine_cpu_ticks().has_value() && procfs.machine_memory().has_value();
  print_row(
      "procfs", stat_ok ? "ok" : "error",
      stat_ok ? (children ? "process tree through /proc/<pid>/task/<tid>/children; /proc/stat; /proc/meminfo"
                          : "process tree by scanning /proc (no CONFIG_PROC_CHILDREN); /proc/stat; "
                            "/proc/meminfo")
              : "cannot read /proc/stat or /proc/meminfo: the process method cannot attribute energy");

  const HostInfo host = detect_host(procfs);
  const CpuPowerModel cpu = resolve_cpu_power(host.cpu_model, config.cpu_tdp_w, host.cores_per_socket);
  print_row("model.cpu", cpu.fallback ? "fallback" : "ok", cpu.source,
            cpu.fallback ? "give --cpu MODEL or --cpu-tdp W (or cpu / cpu_tdp in the config)" : "");

  for (const auto& gpu_source : open_gpu_sources(settings.gpu)) {
    for (const SensorStatus& status : gpu_source->statuses()) {
      std::string detail = status.state == SensorStatus::State::Ok ? status.path : status.reason;
      for (std::size_t i = 0; i < gpu_source->sensors().size(); ++i) {
        if (gpu_source->sensors()[i].name != status.name) continue;
        const GpuDevice& d = gpu_source->devices()[i];
        detail =
            fmt::format("{} {} {}: {}{}", d.name, d.uuid, d.pci_bus_id, d.energy_method,
                        d.power_limit ? fmt::format(", power limit {:.0f} W", d.power_limit->value) : "");
      }
      print_row(status.name, state_name(status.state), detail, status.remedy);
    }
  }
  const ServerSources server = open_server_sources(settings.server);
  bool first_ok = true;
  for (const SensorStatus& status : server.statuses) {
    std::string detail = status.state == SensorStatus::State::Ok ? status.path : status.reason;
    if (status.state == SensorStatus::State::Ok && first_ok && server.source) {
      first_ok = false;
      const ServerRead read = server.source->read();
      detail = server.source->origin();
      detail += read.reading
                    ? fmt::format(": {:.0f} W now{}; used for the server methods", read.reading->power.value,
                                  read.reading->window.count() > 0
                                      ? fmt::format(" (mean over {:.3g} s)", read.reading->window.count())
                                      : "")
                    : fmt::format(": reading failed now ({})", read.error);
    }
    print_row(status.name, state_name(status.state), detail, status.remedy);
  }
  if (server.statuses.empty()) print_row("server", "off", server.unavailable_reason);
  if (::geteuid() != 0 || !has_package_counter(rapl)) print_access_section(access, rapl, perf);
  return 0;
}

}  // namespace

Action add_sensors_command(CLI::App& app) {
  auto flags = std::make_shared<SensorsFlags>();
  CLI::App* cmd = app.add_subcommand(
      "sensors", "List every energy source wattprint knows: found or not, readable or not, and the remedy");
  add_source_flags(*cmd, flags->sources);
  return [flags] { return execute(*flags); };
}

}  // namespace wattprint::cli
