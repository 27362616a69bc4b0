// The Green Algorithms estimator (Lannelongue et al. 2021) with embedded TDP tables; energies in joules.
#include "methods/estimate.hpp"

#include <fmt/format.h>

#include "reference/reference_data.hpp"

namespace wattprint {

const char* provenance_name(Provenance provenance) noexcept {
  return provenance == Provenance::Measured ? "measured" : "modelled";
}

CpuPowerModel resolve_cpu_power(const std::string& model_name, std::optional<double> tdp_override_w,
                                int physical_cores_hint) {
  CpuPowerModel result;
  result.model = model_name;
  const auto spec = model_name.empty() ? std::nullopt : reference::find_cpu(model_name);
  if (tdp_override_w) {
    result.tdp_w = *tdp_override_w;
    result.cores = spec ? spec->cores : physical_cores_hint;
    if (result.cores <= 0) result.cores = 1;
    result.watts_per_core = result.tdp_w / result.cores;
    result.source = fmt::format("--cpu-tdp {} W over {} cores{}", result.tdp_w, result.cores,
                                spec ? " (core count from the embedded table)" : " (cores of this machine)");
    return result;
  }
  if (spec) {
    result.tdp_w = spec->tdp_w;
    result.cores = spec->cores;
    result.watts_per_core = spec->tdp_w / spec->cores;
    result.source = fmt::format("embedded table ({}): {}, {} W, {} cores", spec->source, spec->model,
                                spec->tdp_w, spec->cores);
    return result;
  }
  result.watts_per_core = reference::kFallbackCpuWattsPerCore;
  result.fallback = true;
  result.source = fmt::format(
      "CPU model {} not in the embedded table: fallback {} W per core (Green Algorithms \"Any\"); "
      "give --cpu-tdp W or --cpu MODEL",
      model_name.empty() ? std::string("unknown") : "'" + model_name + "'",
      reference::kFallbackCpuWattsPerCore);
  return result;
}

GpuPowerModel resolve_gpu_power(const std::string& model_name, std::optional<double> watts_override) {
  GpuPowerModel result;
  result.model = model_name;
  if (watts_override) {
    result.watts = *watts_override;
    result.source = fmt::format("--gpu-tdp {} W", *watts_override);
    return result;
  }
  if (const auto spec = reference::find_gpu(model_name)) {
    result.watts = spec->tdp_w;
    result.source = fmt::format("embedded table ({}): {}, {} W", spec->source, spec->model, spec->tdp_w);
    return result;
  }
  result.watts = reference::kFallbackGpuWatts;
  result.fallback = true;
  result.source =
      fmt::format("GPU model '{}' not in the embedded table: fallback {} W (Green Algorithms \"Any\")",
                  model_name, reference::kFallbackGpuWatts);
  return result;
}

MethodResult estimate_method(const EstimateInputs& in) {
  MethodResult result;
  result.name = "estimate";
  result.available = true;
  result.provenance = Provenance::Modelled;
  result.basis =
      "Green Algorithms model: runtime × (cores × TDP per core × usage + memory GB × 0.3725 W/GB "
      "+ GPUs × GPU TDP × usage)";
  const Watts cpu_w{in.cores_used * in.cpu.watts_per_core * in.cpu_usage};
  const Watts memory_w{in.memory_gb * reference::kMemoryWattsPerGigabyte};
  const Watts gpu_w{static_cast<double>(in.gpus) * in.gpu.watts * in.gpu_usage};
  result.components.cpu = cpu_w * in.runtime;
  result.components.memory = memory_w * in.runtime;
  if (in.gpus > 0) result.components.gpu = gpu_w * in.runtime;
  result.it_energy = *result.components.cpu + *result.components.memory + gpu_w * in.runtime;
  result.assumptions = {
      {"runtime", fmt::format("{:.3f} s", in.runtime.count())},
      {"cores used", fmt::format("{:.3f} ({})", in.cores_used, in.cores_source)},
      {"CPU power per core", fmt::format("{:.3f} W — {}", in.cpu.watts_per_core, in.cpu.source)},
      {"CPU usage factor", fmt::format("{}", in.cpu_usage)},
      {"memory", fmt::format("{:.3f} GB × {} W/GB ({})", in.memory_gb, reference::kMemoryWattsPerGigabyte,
                             in.memory_source)},
  };
  if (in.gpus > 0) {
    result.assumptions.emplace_back(
        "GPUs", fmt::format("{} × {} W × usage {} — {}", in.gpus, in.gpu.watts, in.gpu_usage, in.gpu.source));
  }
  return result;
}

}  // namespace wattprint
