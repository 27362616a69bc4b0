// The methods side by side; the same code serves the run and each of its phases.
#include "methods/all_methods.hpp"

#include <fmt/format.h>

#include "methods/gpu.hpp"
#include "methods/process.hpp"
#include "methods/server.hpp"

namespace wattprint {

void estimate_gpus(const std::vector<GpuEnergy>& gpus, const GpuSelection& selection,
                   EstimateInputs& estimate) {
  double watts = 0.0;
  double utilisation = 0.0;
  std::size_t with_utilisation = 0;
  std::string models;
  std::string sources;
  for (std::size_t i = 0; i < gpus.size() && i < selection.selected.size(); ++i) {
    if (!selection.selected[i]) continue;
    const GpuDevice& d = gpus[i].device;
    GpuPowerModel model = resolve_gpu_power(d.name, std::nullopt);
    if (model.fallback && d.power_limit) {
      model.watts = d.power_limit->value;
      model.source =
          fmt::format("{}: not in the embedded table, enforced power limit {} W", d.name, model.watts);
    }
    watts += model.watts;
    models += (models.empty() ? "" : ", ") + d.name;
    sources += (sources.empty() ? "" : "; ") + model.source;
    if (gpus[i].mean_utilisation_percent) {
      utilisation += *gpus[i].mean_utilisation_percent / 100.0;
      ++with_utilisation;
    }
    ++estimate.gpus;
  }
  if (estimate.gpus == 0) return;
  estimate.gpu.model = models;
  estimate.gpu.watts = watts / estimate.gpus;
  estimate.gpu.source = sources;
  if (with_utilisation > 0) estimate.gpu_usage = utilisation / static_cast<double>(with_utilisation);
}

std::vector<MethodResult> compute_methods(const RunMeasurement& m, const MethodInputs& inputs,
                                          std::string* below_idle) {
  std::vector<MethodResult> methods;
  EstimateInputs estimate = inputs.estimate;
  estimate.runtime = Seconds(m.duration_s);
  estimate.cores_used = m.duration_s > 0 ? m.tree_cpu_s / m.duration_s : 0.0;
  if (inputs.not_started.empty()) {
    methods.push_back(estimate_method(estimate));
  } else {
    // Nothing ran: the few milliseconds between fork and the failed exec are not the command's footprint.
    MethodResult none;
    none.name = "estimate";
    none.reason = "the command did not start (" + inputs.not_started + ")";
    methods.push_back(none);
  }
  methods.push_back(
      process_method(m, inputs.rapl_reason, selected_gpu_attributed(m.gpus, inputs.gpu_selection)));
  methods.push_back(gpu_method(m.gpus, inputs.gpu_selection, inputs.gpu_reason));
  methods.push_back(server_method(m.server, inputs.server_reason));
  std::string warning;
  methods.push_back(server_minus_idle_method(m.server, inputs.server_reason, inputs.idle_baseline,
                                             inputs.no_baseline_reason, m.duration_s, warning));
  if (below_idle != nullptr) *below_idle = warning;
  return methods;
}

}  // namespace wattprint
