// `wattprint estimate`: the online estimator (Green Algorithms model) as a command, no run needed.
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>

#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "core/duration_text.hpp"
#include "core/error.hpp"
#include "methods/process.hpp"
#include "report/json_report.hpp"
#include "report/summary_text.hpp"

namespace wattprint::cli {

namespace {

struct EstimateFlags {
  FootprintFlags footprint;
  HardwareFlags hardware;
  std::optional<std::string> runtime;
  std::optional<std::string> cores;
  std::optional<std::string> json_path;
};

int execute(const EstimateFlags& flags) {
  constexpr double kMax = std::numeric_limits<double>::max();
  if (!flags.runtime) throw UsageError("--runtime is required (seconds, or with a unit: 90m, 2h, 1h30m)");
  const auto seconds = parse_duration_seconds(*flags.runtime);
  if (!seconds || *seconds <= 0.0) {
    throw UsageError(
        fmt::format("--runtime: '{}' is not a positive duration (seconds, or with a unit: 90m, 2h, 1h30m)",
                    *flags.runtime));
  }
  const ConfigValues config = load_configuration(flags.footprint);
  RunReport report;
  report.kind = "estimate";
  report.tool_version = version();
  report.started_at = iso8601_utc_now();
  report.footprint = resolve_footprint(flags.footprint, config);
  report.duration_s = *seconds;
  report.config_files = config.files_read;
  report.host = detect_host(ProcFs("/proc"));

  EstimateInputs in;
  in.runtime = Seconds(*seconds);
  std::optional<double> cpu_tdp = config.cpu_tdp_w;
  if (flags.hardware.cpu_tdp) cpu_tdp = parse_number("--cpu-tdp", *flags.hardware.cpu_tdp, 1e-9, kMax);
  const std::string model = flags.hardware.cpu.value_or(config.cpu.value_or(report.host.cpu_model));
  in.cpu = resolve_cpu_power(model, cpu_tdp, report.host.cores_per_socket);
  if (flags.cores) {
    in.cores_used = parse_number("--cores", *flags.cores, 1e-3, 1e6);
    in.cores_source = "--cores";
  } else if (in.cpu.cores > 0) {
    in.cores_used = in.cpu.cores;
    in.cores_source = "all cores of the CPU model (give --cores for the cores actually used)";
  } else {
    in.cores_used = report.host.cores_per_socket;
    in.cores_source = "all cores of this machine's CPU (give --cores for the cores actually used)";
  }
  if (flags.hardware.cpu_usage)
    in.cpu_usage = parse_number("--cpu-usage", *flags.hardware.cpu_usage, 0.0, 1.0);
  if (flags.hardware.memory_gb) {
    in.memory_gb = parse_number("--memory-gb", *flags.hardware.memory_gb, 0.0, kMax);
    in.memory_source = "--memory-gb";
  } else if (config.memory_gb) {
    in.memory_gb = *config.memory_gb;
    in.memory_source = "memory_gb in the config";
  } else {
    in.memory_gb = 0.0;
    in.memory_source = "not given: memory not counted (give --memory-gb with the memory booked)";
  }
  resolve_gpu_flags(flags.hardware, in);
  if (flags.json_path) check_writable_path("--json", *flags.json_path);
  report.methods.push_back(estimate_method(in));
  for (const std::string& name : method_names()) {
    if (name == "estimate") continue;
    MethodResult method;
    method.name = name;
    method.reason = "wattprint estimate runs nothing, so nothing is measured; use wattprint run";
    report.methods.push_back(method);
  }
  std::fputs(render_summary(report).c_str(), stderr);
  if (flags.json_path) {
    write_json_report(report, *flags.json_path);
    std::fprintf(stderr, "  report written to %s\n", flags.json_path->c_str());
  }
  return 0;
}

}  // namespace

Action add_estimate_command(CLI::App& app) {
  auto flags = std::make_shared<EstimateFlags>();
  CLI::App* cmd = app.add_subcommand(
      "estimate",
      "Estimate energy and CO2 from hardware and runtime alone (the Green Algorithms model), without running "
      "anything.\n"
      "  wattprint estimate --runtime 2h --cpu \"Xeon Silver 4110\" --cores 8 --gpu \"Tesla T4\" --gpus 1 "
      "--memory-gb 24 --pue 1.65 --carbon-intensity 57.1");
  add_text_option(*cmd, "--runtime", flags->runtime,
                  "Runtime: seconds, or with a unit (3600, 90m, 2h, 1h30m)")
      ->type_name("DURATION");
  add_text_option(*cmd, "--cores", flags->cores,
                  "Number of CPU cores used (default: all cores of the CPU model)")
      ->type_name("N")
      ->group("Estimator hardware");
  add_text_option(*cmd, "--json", flags->json_path, "Also write the report as JSON to FILE")
      ->type_name("FILE");
  add_footprint_flags(*cmd, flags->footprint);
  add_hardware_flags(*cmd, flags->hardware, true);
  return [flags] { return execute(*flags); };
}

}  // namespace wattprint::cli
