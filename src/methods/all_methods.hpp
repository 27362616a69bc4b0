// The five methods computed together over one measurement: the whole run, or one phase of it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "attribution/gpu_selection.hpp"
#include "idle/idle_baseline.hpp"
#include "methods/estimate.hpp"
#include "methods/method_result.hpp"
#include "sampling/run_sampler.hpp"

namespace wattprint {

/// What the methods need besides the measurement; fixed for a run, shared by its phases.
struct MethodInputs {
  EstimateInputs estimate;  ///< hardware, memory and GPU model; runtime and cores come from each span
  std::string not_started;  ///< why the command did not start (empty when it ran)
  std::string rapl_reason;
  std::string gpu_reason;
  std::string server_reason;
  std::string no_baseline_reason;
  GpuSelection gpu_selection;
  std::optional<IdleBaseline> idle_baseline;
};

/// All five, in method_names() order. `below_idle` receives a warning when the server's energy fell
/// under the idle baseline (may be null).
std::vector<MethodResult> compute_methods(const RunMeasurement& m, const MethodInputs& inputs,
                                          std::string* below_idle = nullptr);

/// Fills the estimator's GPU fields from the run's selected GPUs: TDP from the table, else the enforced
/// power limit; usage from the measured utilisation.
void estimate_gpus(const std::vector<GpuEnergy>& gpus, const GpuSelection& selection,
                   EstimateInputs& estimate);

}  // namespace wattprint
