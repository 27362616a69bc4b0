// `wattprint idle`: measure this host's idle power on every source and store it for server-minus-idle.
#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "attribution/procfs.hpp"
#include "cli/commands.hpp"
#include "cli/measurement_sources.hpp"
#include "cli/options.hpp"
#include "core/error.hpp"
#include "idle/idle_baseline.hpp"
#include "platform/host_info.hpp"
#include "report/summary_text.hpp"

namespace wattprint::cli {

namespace {

struct IdleFlags {
  SourceFlags sources;
  std::optional<std::string> duration;
  std::optional<std::string> interval;
  std::optional<std::string> state_dir;
  std::optional<std::string> json_path;
  std::optional<std::string> config_file;
  bool no_store = false;
};

void print_row(const std::string& what, const std::optional<double>& watts, const std::string& detail) {
  const std::string value = watts ? fmt::format("{:8.1f} W", *watts) : fmt::format("{:>10}", "-");
  std::fputs(fmt::format("  {:<22} {}  {}\n", what, value, detail).c_str(), stdout);
}

int execute(const IdleFlags& flags) {
  FootprintFlags footprint;
  footprint.config_file = flags.config_file;
  const ConfigValues config = load_configuration(footprint);
  const double duration = flags.duration ? parse_number("--duration", *flags.duration, 1.0, 86400.0) : 60.0;
  const double interval = flags.interval ? parse_number("--interval", *flags.interval, 0.01, 60.0) : 1.0;
  const SourceSettings settings = resolve_source_settings(flags.sources, config);
  if (flags.json_path) check_writable_path("--json", *flags.json_path);
  std::optional<std::filesystem::path> state_dir;
  if (flags.state_dir) {
    state_dir = *flags.state_dir;
  } else if (config.state_dir) {
    state_dir = *config.state_dir;
  }
  const std::filesystem::path dir = state_dir.value_or(default_state_dir());
  const HostInfo host = detect_host(ProcFs("/proc"));
  for (const std::string& warning : settings.warnings)
    std::fprintf(stderr, "wattprint: warning: %s\n", warning.c_str());

  std::fprintf(stderr, "wattprint: measuring the idle power of %s for %s; leave the machine idle\n",
               host.hostname.c_str(), format_duration(duration).c_str());
  const std::string measured_at = iso8601_utc_now();
  const IdleMeasurement idle = measure_idle(settings, Seconds(duration), Seconds(interval));
  const std::string how =
      fmt::format("wattprint idle --duration {}", flags.duration.value_or(std::string("60")));
  IdleBaseline baseline = idle_baseline_from(idle.measurement, host.hostname, measured_at, how);

  std::fputs(fmt::format("wattprint idle: {} for {} from {}\n", host.hostname,
                         format_duration(idle.measurement.duration_s), measured_at)
                 .c_str(),
             stdout);
  print_row("server", baseline.server_w, baseline.server_w ? baseline.server_source : idle.server_reason);
  print_row("CPU packages (RAPL)", baseline.cpu_package_w,
            baseline.cpu_package_w ? "" : "no readable package counter");
  print_row("DRAM (RAPL)", baseline.dram_w, baseline.dram_w ? "" : "no readable DRAM counter");
  for (std::size_t i = 0; i < baseline.gpus.size(); ++i) {
    print_row(fmt::format("GPU {}", i), baseline.gpus[i].watts,
              fmt::format("{} {}", baseline.gpus[i].name, baseline.gpus[i].uuid));
  }
  if (baseline.busy_cores) {
    std::fputs(fmt::format("  machine load: {:.2f} cores busy on average\n", *baseline.busy_cores).c_str(),
               stdout);
  }
  if (!idle.warning.empty()) std::fprintf(stderr, "wattprint: warning: %s\n", idle.warning.c_str());

  const bool measured_anything =
      baseline.server_w || baseline.cpu_package_w || baseline.dram_w || !baseline.gpus.empty();
  if (!measured_anything) {
    throw std::runtime_error(
        "nothing to measure: no readable server, RAPL or GPU power source here (see wattprint sensors)");
  }
  if (!flags.no_store) {
    const std::filesystem::path file = idle_baseline_path(dir, host.hostname);
    baseline.stored_in = file.string();
    store_idle_baseline(baseline, file);
    std::fputs(fmt::format("stored in {}: `wattprint run` on this host uses it for server-minus-idle\n",
                           file.string())
                   .c_str(),
               stdout);
  }
  if (flags.json_path) {
    const std::filesystem::path file = *flags.json_path;
    store_idle_baseline(baseline, file);
  }
  return 0;
}

}  // namespace

Action add_idle_command(CLI::App& app) {
  auto flags = std::make_shared<IdleFlags>();
  CLI::App* cmd = app.add_subcommand(
      "idle",
      "Measure this host's idle power on every source (server, CPU packages, DRAM, GPUs) and store it, so "
      "that `wattprint run` can report server-minus-idle. Run it while nothing else runs.\n"
      "  wattprint idle --duration 60\n"
      "  sudo wattprint idle --ipmi-host bmc01 --ipmi-user admin --ipmi-password-file /root/bmc.pw");
  add_text_option(*cmd, "--duration", flags->duration, "How long to measure, in seconds (default 60)")
      ->type_name("SECONDS");
  add_text_option(*cmd, "--interval", flags->interval,
                  "Sampling interval of the counters in seconds (default 1)")
      ->type_name("SECONDS");
  add_text_option(*cmd, "--state-dir", flags->state_dir,
                  "Store the baseline under DIR/idle/HOST.json (default: WATTPRINT_STATE_DIR, else "
                  "/var/lib/wattprint for root, else ~/.local/state/wattprint)")
      ->type_name("DIR");
  add_text_option(*cmd, "--json", flags->json_path, "Also write the baseline as JSON to FILE")
      ->type_name("FILE");
  cmd->add_flag("--no-store", flags->no_store, "Measure and print, but do not store the baseline");
  add_text_option(*cmd, "--config", flags->config_file,
                  "Read this TOML file after /etc/wattprint/config.toml and ~/.config/wattprint/config.toml")
      ->type_name("FILE");
  add_source_flags(*cmd, flags->sources);
  return [flags] { return execute(*flags); };
}

}  // namespace wattprint::cli
