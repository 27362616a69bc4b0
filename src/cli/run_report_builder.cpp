// RunReport from RunMeasurement (see run_report_builder.hpp).
#include "cli/run_report_builder.hpp"

#include <fmt/format.h>

#include <cstdio>

#include "attribution/gpu_selection.hpp"
#include "methods/gpu.hpp"
#include "phases/control_socket.hpp"
#include "phases/phase_results.hpp"
#include "platform/host_info.hpp"
#include "report/summary_text.hpp"

namespace wattprint::cli {

void warn(RunReport& report, const std::string& warning) {
  std::fprintf(stderr, "wattprint: warning: %s\n", warning.c_str());
  report.warnings.push_back(warning);
}

void complete_run_report(RunReport& report, const RunMeasurement& m, const RunReportInputs& run_inputs,
                         bool print_warnings) {
  const auto add_warning = [&report, print_warnings](const std::string& warning) {
    if (print_warnings) {
      warn(report, warning);
    } else {
      report.warnings.push_back(warning);
    }
  };
  report.duration_s = m.duration_s;
  report.cpu_time_s = m.tree_cpu_s;
  report.peak_rss_bytes = m.peak_tree_rss_bytes;
  report.suspended = m.suspended;
  for (const SuspendSpan& span : m.suspended) add_warning(suspend_warning(span));
  if (report.job && m.group) {
    if (m.group->intervals == 0) {
      report.job->attribution =
          fmt::format("process tree: the {} could not be read during the run", m.group->description);
    } else if (m.group->fallback_intervals > 0) {
      report.job->attribution +=
          fmt::format("; the process tree for {} of {} intervals (the group could not be read)",
                      m.group->fallback_intervals, m.group->intervals + m.group->fallback_intervals);
    }
  }
  report.sensor_energies = m.sensors;
  if (m.have_package) report.measured.cpu = m.package;
  if (m.have_dram) report.measured.dram = m.dram;
  for (const SensorEnergy& sensor : m.sensors) {
    if (sensor.info.component == Component::Psys) report.measured.psys = m.psys;
  }

  MethodInputs inputs = run_inputs.methods;
  if (!run_inputs.memory_booked) {
    inputs.estimate.memory_gb = static_cast<double>(m.peak_tree_rss_bytes) / kBytesPerGigabyte;
    inputs.estimate.memory_source = "peak resident memory of the command's processes";
  }
  std::vector<GpuDevice> devices;
  std::vector<bool> used_by_command;
  for (const GpuEnergy& gpu : m.gpus) {
    devices.push_back(gpu.device);
    used_by_command.push_back(gpu.used_by_command);
  }
  report.gpus = m.gpus;
  std::optional<SchedulerGpus> scheduler_gpus;
  if (report.job && report.job->gpus)
    scheduler_gpus = SchedulerGpus{*report.job->gpus, report.job->gpus_source};
  report.gpu_selection =
      select_gpus(devices, run_inputs.gpus_flag, run_inputs.cuda_visible, used_by_command, scheduler_gpus);
  report.measured.gpu = selected_gpu_energy(m.gpus, report.gpu_selection);
  estimate_gpus(m.gpus, report.gpu_selection, inputs.estimate);
  inputs.not_started = report.error;
  inputs.gpu_selection = report.gpu_selection;
  inputs.idle_baseline = report.idle_baseline;

  report.server = m.server;
  if (m.server && m.server->mean_window.count() > m.duration_s && m.server->readings > 0) {
    add_warning(
        fmt::format("the server's readings average over {:.3g} s, longer than the run ({:.3g} s): most of "
                    "what they cover happened before or after the command",
                    m.server->mean_window.count(), m.duration_s));
  }
  if (m.server && m.server->energy) report.measured.server = m.server->energy;
  std::string below_idle;
  report.methods = compute_methods(m, inputs, &below_idle);
  if (!below_idle.empty()) report.warnings.push_back(below_idle);
  report.phases = compute_phase_results(m, inputs);
  if (run_inputs.control != nullptr) report.phases.malformed_marks = run_inputs.control->malformed_lines();
  if (report.phases.marks.dropped > 0) {
    add_warning(fmt::format("{} phase marks over the limit of {} per run were dropped",
                            report.phases.marks.dropped, MarkQueue::kMaxMarks));
  }
  if (report.phases.phase_count > kMaxListedPhases) {
    add_warning(
        fmt::format("{} phases: the report lists the first {} one by one; the statistics per phase "
                    "name cover them all",
                    report.phases.phase_count, kMaxListedPhases));
  }
  if (report.phases.marks.unmatched_ends > 0) {
    add_warning(fmt::format("{} phase end mark(s) had no open phase of that name and were ignored",
                            report.phases.marks.unmatched_ends));
  }
}

}  // namespace wattprint::cli
