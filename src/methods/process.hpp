// The `process` method (experiment-impact-tracker model): measured energy attributed to the command.
#pragma once

#include "methods/method_result.hpp"
#include "sampling/run_sampler.hpp"

namespace wattprint {

/// Σ_intervals (RAPL package energy × the tree's share of busy CPU time) + Σ_intervals (DRAM energy × the
/// tree's share of used memory). Unavailable without a readable package counter; `unavailable_reason`
/// then says why (from the sensor statuses).
/// `gpu_attributed`: Σ over intervals of each run GPU's energy × the command's share of it (nullopt: no GPU).
MethodResult process_method(const RunMeasurement& measurement, const std::string& unavailable_reason,
                            std::optional<Joules> gpu_attributed = std::nullopt);

}  // namespace wattprint
