// Attribution of measured RAPL energy to the command: joules, no PUE.
#include "methods/process.hpp"

namespace wattprint {

MethodResult process_method(const RunMeasurement& m, const std::string& unavailable_reason,
                            std::optional<Joules> gpu_attributed) {
  MethodResult result;
  result.name = "process";
  result.provenance = Provenance::Measured;
  result.basis =
      "RAPL package energy × the command's share of busy CPU time + DRAM energy × its share of used memory + "
      "each GPU's energy × the command's share of it, per interval";
  if (!m.have_package && !gpu_attributed) {
    result.available = false;
    result.reason = unavailable_reason.empty() ? "no readable RAPL package counter" : unavailable_reason;
    return result;
  }
  result.available = true;
  if (m.have_package) {
    result.components.cpu = m.attributed_package;
    result.it_energy += m.attributed_package;
  } else {
    result.assumptions.emplace_back("CPU", "CPU energy not included: " + unavailable_reason);
  }
  if (m.have_dram) {
    result.components.dram = m.attributed_dram;
    result.it_energy += m.attributed_dram;
  } else if (m.have_package) {
    result.assumptions.emplace_back("DRAM", "no RAPL DRAM zone on this machine: memory energy not included");
  }
  if (gpu_attributed) {
    result.components.gpu = *gpu_attributed;
    result.it_energy += *gpu_attributed;
  }
  return result;
}

}  // namespace wattprint
