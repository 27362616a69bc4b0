// GPU energy of the run's devices, in joules, from NVML counters or integrated power.
#include "methods/gpu.hpp"

#include <fmt/format.h>

namespace wattprint {

namespace {
bool is_selected(const GpuSelection& selection, std::size_t i) {
  return i < selection.selected.size() && selection.selected[i];
}
}  // namespace

std::optional<Joules> selected_gpu_energy(const std::vector<GpuEnergy>& gpus, const GpuSelection& selection) {
  std::optional<Joules> total;
  for (std::size_t i = 0; i < gpus.size(); ++i) {
    if (is_selected(selection, i)) total = total.value_or(Joules{}) + gpus[i].energy;
  }
  return total;
}

std::optional<Joules> selected_gpu_attributed(const std::vector<GpuEnergy>& gpus,
                                              const GpuSelection& selection) {
  std::optional<Joules> total;
  for (std::size_t i = 0; i < gpus.size(); ++i) {
    if (is_selected(selection, i)) total = total.value_or(Joules{}) + gpus[i].attributed;
  }
  return total;
}

MethodResult gpu_method(const std::vector<GpuEnergy>& gpus, const GpuSelection& selection,
                        const std::string& unavailable_reason) {
  MethodResult result;
  result.name = "gpu";
  result.provenance = Provenance::Measured;
  result.basis =
      "energy of the run's GPUs, whole devices (energy counter where the GPU has one, else integrated "
      "power)";
  if (gpus.empty()) {
    result.reason = unavailable_reason.empty() ? "no readable GPU" : unavailable_reason;
    return result;
  }
  const auto energy = selected_gpu_energy(gpus, selection);
  if (!energy) {
    result.reason = fmt::format("no GPU belongs to this run ({})", selection.rule);
    return result;
  }
  result.available = true;
  result.it_energy = *energy;
  result.components.gpu = *energy;
  result.assumptions.emplace_back("GPUs of the run", selection.rule);
  std::optional<Joules> sampled;
  for (std::size_t i = 0; i < gpus.size(); ++i) {
    if (!is_selected(selection, i) || !gpus[i].sampled_every_5s) continue;
    sampled = sampled.value_or(Joules{}) + *gpus[i].sampled_every_5s;
  }
  if (sampled) {
    result.assumptions.emplace_back(
        "power sampled every 5 s (the study's nvidia-smi method) would give",
        fmt::format("{:.1f} J ({:+.1f}% against the counter)", sampled->value,
                    energy->value > 0 ? (sampled->value / energy->value - 1.0) * 100.0 : 0.0));
  }
  for (std::size_t i = 0; i < gpus.size(); ++i) {
    if (!is_selected(selection, i)) continue;
    const GpuDevice& d = gpus[i].device;
    result.assumptions.emplace_back(fmt::format("{}.gpu-{}", d.family, d.index),
                                    fmt::format("{} {}: {}", d.name, d.uuid, d.energy_method));
  }
  return result;
}

}  // namespace wattprint
