// The report of a run from its measurement: methods, phases, GPU selection and the warnings they bring.
// One function for the final report of `wattprint run` and for the journal's snapshots while it runs.
#pragma once

#include <optional>
#include <string>

#include "methods/all_methods.hpp"
#include "report/run_report.hpp"
#include "sampling/run_sampler.hpp"

namespace wattprint {
class ControlSocketServer;
}

namespace wattprint::cli {

/// What the run knows besides the measurement; fixed once the command has started.
struct RunReportInputs {
  /// The estimator's hardware (CPU model, usage, booked memory when memory_booked), the reasons a method
  /// is unavailable, the idle baseline. not_started and gpu_selection are filled from the report.
  MethodInputs methods;
  bool memory_booked = false;            ///< methods.estimate.memory_gb is the booked memory (else: peak RSS)
  std::optional<std::string> gpus_flag;  ///< --gpus
  std::optional<std::string> cuda_visible;       ///< CUDA_VISIBLE_DEVICES
  const ControlSocketServer* control = nullptr;  ///< for the count of malformed marks (thread-safe)
};

/// Fills everything in `report` that comes from `m` (duration, CPU time, energies, GPU selection, methods,
/// phases, the warnings about them) on top of what the run set before it started. With `print_warnings`,
/// the warnings are also said on stderr (the final report; a snapshot is quiet).
void complete_run_report(RunReport& report, const RunMeasurement& m, const RunReportInputs& inputs,
                         bool print_warnings);

/// Adds a warning to the report and says it on stderr ("wattprint: warning: ...").
void warn(RunReport& report, const std::string& warning);

}  // namespace wattprint::cli
