// `wattprint sensors`: every source wattprint knows, whether it is here, readable, and the remedy if not.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "attribution/procfs.hpp"
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "methods/estimate.hpp"
#include "platform/host_info.hpp"
#include "sources/gpu/gpu_sources.hpp"
#include "sources/rapl/powercap_rapl.hpp"

namespace wattprint::cli {

namespace {

struct SensorsFlags {
  std::optional<std::string> sysfs_root;
  std::optional<std::string> nvml_library;
  std::optional<std::string> rocm_smi_library;
};

void print_row(const std::string& name, const std::string& state, const std::string& detail,
               const std::string& remedy = "") {
  std::fputs(fmt::format("  {:<24} {:<11} {}\n", name, state, detail).c_str(), stdout);
  if (!remedy.empty())
    std::fputs(fmt::format("  {:<24} {:<11} remedy: {}\n", "", "", remedy).c_str(), stdout);
}

int execute(const SensorsFlags& flags) {
  const ConfigValues config = load_configuration(FootprintFlags{});
  const std::string root = flags.sysfs_root.value_or(config.sysfs_root.value_or("/sys"));
  std::fputs(fmt::format("wattprint {} sensors (sysfs root {}, running as {})\n\n", version(), root,
                         ::geteuid() == 0 ? "root" : "uid " + std::to_string(::geteuid()))
                 .c_str(),
             stdout);
  std::fputs(fmt::format("  {:<24} {:<11} {}\n", "SENSOR", "STATUS", "DETAIL").c_str(), stdout);

  const PowercapRaplSource rapl(root);
  for (const SensorStatus& status : rapl.statuses()) {
    std::string detail = status.state == SensorStatus::State::Ok ? status.path : status.reason;
    for (const SensorInfo& info : rapl.sensors()) {
      if (info.name != status.name) continue;
      detail += fmt::format(" ({}, wraps at {:.1f} J{}{})", component_name(info.component),
                            static_cast<double>(info.counter_max) * info.joules_per_raw_unit,
                            info.max_power ? fmt::format(", max {:.1f} W", info.max_power->value) : "",
                            is_additive(info.component) ? "" : ", not added to the totals");
    }
    print_row(status.name, state_name(status.state), detail, status.remedy);
  }
  std::error_code ec;
  const bool perf_power =
      std::filesystem::exists(std::filesystem::path(root) / "bus/event_source/devices/power", ec);
  print_row("perf.power", perf_power ? "found" : "absent",
            perf_power ? "perf power PMU present (not read by this version; RAPL through powercap is used)"
                       : "no perf power PMU");

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

  const GpuSourceOptions gpu_options = gpu_source_options(root, flags.nvml_library, flags.rocm_smi_library);
  for (const auto& gpu_source : open_gpu_sources(gpu_options)) {
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
  constexpr const char* kLater = "not supported by this version of wattprint yet";
  print_row("ipmi.dcmi", "planned", std::string("whole-server power from the BMC: ") + kLater);
  print_row("redfish", "planned", std::string("whole-server power over Redfish: ") + kLater);
  return 0;
}

}  // namespace

Action add_sensors_command(CLI::App& app) {
  auto flags = std::make_shared<SensorsFlags>();
  CLI::App* cmd = app.add_subcommand(
      "sensors", "List every energy source wattprint knows: found or not, readable or not, and the remedy");
  add_text_option(*cmd, "--sysfs-root", flags->sysfs_root, "Read this directory in place of /sys")
      ->type_name("DIR");
  add_text_option(*cmd, "--nvml-library", flags->nvml_library,
                  "The NVML library to load (default libnvidia-ml.so.1; also WATTPRINT_NVML_LIBRARY)")
      ->type_name("PATH");
  add_text_option(
      *cmd, "--rocm-smi-library", flags->rocm_smi_library,
      "The ROCm SMI library to load (default librocm_smi64.so.1; also WATTPRINT_ROCM_SMI_LIBRARY)")
      ->type_name("PATH");
  return [flags] { return execute(*flags); };
}

}  // namespace wattprint::cli
