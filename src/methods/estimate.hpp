// The `estimate` method: the Green Algorithms model, runtime × (CPU + memory + GPU power), in joules.
#pragma once

#include <optional>
#include <string>

#include "methods/method_result.hpp"

namespace wattprint {

/// The CPU's power per core and where it came from.
struct CpuPowerModel {
  std::string model;   ///< as detected or given
  double tdp_w = 0.0;  ///< whole package TDP (0 when only the per-core fallback is known)
  int cores = 0;       ///< cores of the package the TDP is for
  double watts_per_core = 0.0;
  std::string source;     ///< "embedded table (codecarbon-intel-ark): Intel Xeon Silver 4110"
  bool fallback = false;  ///< the model was unknown and the documented fallback was used
};

/// Resolves TDP per core: `tdp_override_w` (W per package) wins, divided by the table's core count or
/// `physical_cores_hint`; else the embedded table matched on `model_name`; else 12 W per core (Green
/// Algorithms' "Any").
CpuPowerModel resolve_cpu_power(const std::string& model_name, std::optional<double> tdp_override_w,
                                int physical_cores_hint);

struct GpuPowerModel {
  std::string model;
  double watts = 0.0;
  std::string source;
  bool fallback = false;
};
/// A GPU's TDP from the embedded table, or `watts_override`, or 200 W (Green Algorithms' "Any").
GpuPowerModel resolve_gpu_power(const std::string& model_name, std::optional<double> watts_override);

struct EstimateInputs {
  Seconds runtime{0.0};
  double cores_used = 0.0;
  std::string cores_source;  ///< "CPU time ÷ wall time" or "--cores"
  CpuPowerModel cpu;
  double cpu_usage = 1.0;
  double memory_gb = 0.0;
  std::string memory_source;  ///< "peak resident memory of the command" or "--memory-gb (booked)"
  int gpus = 0;
  GpuPowerModel gpu;
  double gpu_usage = 1.0;
};

/// E = runtime × (cores × W/core × usage + memory GB × 0.3725 W/GB + GPUs × GPU W × usage).
MethodResult estimate_method(const EstimateInputs& inputs);

}  // namespace wattprint
