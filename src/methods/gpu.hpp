// The `gpu` method (the study's method 1, done with the energy counter): energy of the run's GPUs.
#pragma once

#include <string>
#include <vector>

#include "attribution/gpu_selection.hpp"
#include "methods/method_result.hpp"
#include "sampling/run_sampler.hpp"

namespace wattprint {

/// Σ energy of the selected GPUs (whole devices). Unavailable when no GPU could be read
/// (`unavailable_reason` says why) or none belongs to the run.
MethodResult gpu_method(const std::vector<GpuEnergy>& gpus, const GpuSelection& selection,
                        const std::string& unavailable_reason);

/// Σ energy of the selected GPUs, nullopt when none is selected or readable.
std::optional<Joules> selected_gpu_energy(const std::vector<GpuEnergy>& gpus, const GpuSelection& selection);

/// Σ the command's attributed part of the selected GPUs, nullopt when none is selected.
std::optional<Joules> selected_gpu_attributed(const std::vector<GpuEnergy>& gpus,
                                              const GpuSelection& selection);

}  // namespace wattprint
