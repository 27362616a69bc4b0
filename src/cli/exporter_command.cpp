// `wattprint exporter`: this node's and its jobs' energy and CO2 as Prometheus / OpenMetrics counters.
#include <fmt/format.h>
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <thread>
#include <utility>

#include "attribution/procfs.hpp"
#include "cli/commands.hpp"
#include "cli/measurement_sources.hpp"
#include "cli/options.hpp"
#include "cluster/cgroup.hpp"
#include "core/error.hpp"
#include "exporter/metrics_server.hpp"
#include "exporter/node_sampler.hpp"
#include "idle/idle_baseline.hpp"
#include "platform/host_info.hpp"

namespace wattprint::cli {

namespace {

struct ExporterFlags {
  SourceFlags sources;
  FootprintFlags footprint;
  std::optional<std::string> listen;
  std::optional<std::string> interval;
  std::optional<std::string> keep_ended;
  std::optional<std::string> cgroup_root;
  std::optional<std::string> proc_root;
  std::optional<std::string> idle_watts;
  std::optional<std::string> state_dir;
  std::optional<std::string> cpu;
  std::optional<std::string> cpu_tdp;
};

constexpr std::size_t kHttpThreads = 4;

/// The idle server power server-minus-idle subtracts: --idle-watts, the configuration, else the stored
/// baseline of this host; nullopt (the method is left out) when none.
void resolve_idle(const ExporterFlags& flags, const ConfigValues& config, const std::string& host,
                  exporter::AccountingSettings& settings) {
  if (flags.idle_watts) {
    settings.idle_server_power = Watts{parse_number("--idle-watts", *flags.idle_watts, 0.0, 1e6)};
    settings.idle_source = "--idle-watts " + *flags.idle_watts;
    return;
  }
  if (config.idle_watts) {
    settings.idle_server_power = Watts{*config.idle_watts};
    settings.idle_source = "idle_watts in the configuration";
    return;
  }
  std::optional<std::filesystem::path> state_dir;
  if (flags.state_dir) {
    state_dir = *flags.state_dir;
  } else if (config.state_dir) {
    state_dir = *config.state_dir;
  }
  try {
    if (auto stored = load_idle_baseline(idle_search_dirs(state_dir), host); stored && stored->server_w) {
      settings.idle_server_power = Watts{*stored->server_w};
      settings.idle_source = "stored baseline " + stored->stored_in;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wattprint: warning: %s\n", e.what());
  }
}

int execute(const ExporterFlags& flags) {
  const ConfigValues config = load_configuration(flags.footprint);
  const Footprint footprint = resolve_footprint(flags.footprint, config);
  const exporter::ListenAddress address =
      exporter::parse_listen_address("--listen", flags.listen.value_or("127.0.0.1:9464"));
  const double interval_s = flags.interval ? parse_number("--interval", *flags.interval, 0.1, 3600.0) : 5.0;
  const double keep_ended_s =
      flags.keep_ended ? parse_number("--keep-ended", *flags.keep_ended, 0.0, 7.0 * 86400.0) : 600.0;
  const std::optional<double> cpu_tdp =
      flags.cpu_tdp ? std::optional(parse_number("--cpu-tdp", *flags.cpu_tdp, 1.0, 10000.0)) : std::nullopt;
  const std::filesystem::path cgroup_root = flags.cgroup_root.value_or("/sys/fs/cgroup");
  if (!std::filesystem::is_directory(cgroup_root))
    throw UsageError(
        fmt::format("--cgroup-root {}: not a directory; give where cgroups are mounted "
                    "(default /sys/fs/cgroup)",
                    cgroup_root.string()));
  const ProcFs procfs(flags.proc_root.value_or("/proc"));
  if (!procfs.machine_cpu_ticks())
    throw UsageError(fmt::format("--proc-root {}: cannot read {}/stat; give where /proc is mounted",
                                 procfs.root().string(), procfs.root().string()));
  const SourceSettings settings = resolve_source_settings(flags.sources, config);
  for (const std::string& warning : settings.warnings)
    std::fprintf(stderr, "wattprint: warning: %s\n", warning.c_str());
  const HostInfo host = detect_host(procfs);

  exporter::AccountingSettings accounting;
  accounting.footprint = footprint;
  accounting.keep_ended = Seconds(keep_ended_s);
  accounting.version = version();
  accounting.cpu = resolve_cpu_power(flags.cpu.value_or(config.cpu.value_or(host.cpu_model)), cpu_tdp,
                                     host.cores_per_socket);
  resolve_idle(flags, config, host.hostname, accounting);

  OpenedSources sources = open_measurement_sources(settings);
  if (!sources.rapl_reason.empty())
    std::fprintf(stderr, "wattprint: RAPL: %s\n", sources.rapl_reason.c_str());
  std::string gpu_model;
  for (const auto& source : sources.counters) {
    if (const auto* gpu = dynamic_cast<const GpuSource*>(source.get());
        gpu && !gpu->devices().empty() && gpu_model.empty())
      gpu_model = gpu->devices().front().name;
  }
  accounting.gpu = resolve_gpu_power(gpu_model, std::nullopt);
  const SystemClock clock;
  std::unique_ptr<ServerSampler> server;
  std::string server_sensor;
  if (sources.server.source) {
    server_sensor = sources.server.source->family();
    server =
        std::make_unique<ServerSampler>(std::move(sources.server.source), clock, settings.server_interval);
  } else if (settings.server_requested) {
    std::fprintf(stderr, "wattprint: warning: server power: %s\n", sources.server.unavailable_reason.c_str());
  }

  exporter::CgroupJobSource jobs(CgroupFs(cgroup_root, procfs), system_user_names());
  // serve() starts after the sampler exists; until then nothing accepts connections.
  std::unique_ptr<exporter::NodeSampler> sampler;
  exporter::MetricsServer http(
      [&sampler]() -> std::shared_ptr<const exporter::Snapshot> { return sampler->latest(); }, kHttpThreads);
  http.bind(address);  // before sampling: a port in use is said at once

  // SIGTERM and SIGINT end the exporter, SIGUSR1 takes a sample now: all are taken by sigwait below, and
  // every thread (all started after this) blocks them.
  sigset_t handled;
  sigemptyset(&handled);
  sigaddset(&handled, SIGTERM);
  sigaddset(&handled, SIGINT);
  sigaddset(&handled, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &handled, nullptr);

  sampler =
      std::make_unique<exporter::NodeSampler>(std::move(sources.counters), std::move(server), server_sensor,
                                              jobs, procfs, clock, Seconds(interval_s), accounting);
  sampler->start();
  std::thread serving([&http] { http.serve(); });
  std::fprintf(stderr,
               "wattprint: exporting on http://%s/metrics, a sample every %s s (counters read every %s s)\n",
               address.text().c_str(), fmt::format("{}", interval_s).c_str(),
               fmt::format("{:.3g}", sampler->counter_period().count()).c_str());
  for (;;) {
    int signal_number = 0;
    if (sigwait(&handled, &signal_number) != 0) continue;
    if (signal_number == SIGUSR1) {
      sampler->sample_now();
      continue;
    }
    break;
  }
  std::fprintf(stderr, "wattprint: exporter stopping\n");
  http.stop();
  serving.join();
  sampler->stop();
  return 0;
}

}  // namespace

Action add_exporter_command(CLI::App& app) {
  auto flags = std::make_shared<ExporterFlags>();
  CLI::App* cmd = app.add_subcommand(
      "exporter",
      "Serve this node's energy and CO2, and every batch job's, to Prometheus (read-only HTTP, localhost by "
      "default)");
  cmd->footer(
      "Samples every --interval on its own schedule (scrapes only read the latest sample, so every scraper "
      "sees the same counters). Counters start at 0 when the exporter starts; Prometheus handles the reset. "
      "Jobs are found through their cgroups (Slurm, OAR, systemd services). SIGUSR1 takes a sample now; "
      "SIGTERM or SIGINT stop it. See docs/exporter.md for the metrics and PromQL examples.");
  add_text_option(*cmd, "--listen", flags->listen,
                  "HOST:PORT to serve /metrics on (default 127.0.0.1:9464; [::1]:9464 for IPv6; 0.0.0.0:9464 "
                  "exposes it to the network)");
  add_text_option(*cmd, "--interval", flags->interval,
                  "Seconds between samples (default 5; counters are read more often when they could wrap)");
  add_text_option(*cmd, "--keep-ended", flags->keep_ended,
                  "Seconds an ended job keeps its series before they disappear (default 600)");
  add_text_option(*cmd, "--cgroup-root", flags->cgroup_root,
                  "Where cgroups are mounted (default /sys/fs/cgroup; v1 and v2)");
  add_text_option(
      *cmd, "--proc-root", flags->proc_root,
      "Where /proc is (default /proc; for containers that mount the host's elsewhere, and tests)");
  const std::string idle_group = "Idle baseline (server-minus-idle)";
  add_text_option(*cmd, "--idle-watts", flags->idle_watts,
                  "The idle server's power in watts (default: idle_watts in the configuration, else the "
                  "baseline `wattprint idle` stored; without one the method has no series)")
      ->group(idle_group);
  add_text_option(*cmd, "--state-dir", flags->state_dir, "Where stored idle baselines are looked up")
      ->group(idle_group);
  const std::string model_group = "Estimate method (modelled)";
  add_text_option(*cmd, "--cpu", flags->cpu, "CPU model for the TDP table (default: /proc/cpuinfo's)")
      ->group(model_group);
  add_text_option(*cmd, "--cpu-tdp", flags->cpu_tdp, "CPU package TDP in watts (default: from the table)")
      ->group(model_group);
  for (const auto& [option, type] : {std::pair{"--listen", "HOST:PORT"},
                                     {"--interval", "SECONDS"},
                                     {"--keep-ended", "SECONDS"},
                                     {"--cgroup-root", "DIR"},
                                     {"--proc-root", "DIR"},
                                     {"--idle-watts", "WATTS"},
                                     {"--state-dir", "DIR"},
                                     {"--cpu", "MODEL"},
                                     {"--cpu-tdp", "WATTS"}}) {
    cmd->get_option(option)->type_name(type);
  }
  add_source_flags(*cmd, flags->sources);
  add_footprint_flags(*cmd, flags->footprint);
  return [flags] { return execute(*flags); };
}

}  // namespace wattprint::cli
