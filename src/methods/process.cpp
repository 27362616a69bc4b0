// Attribution of measured RAPL energy to the command: joules, no PUE.
#include "methods/process.hpp"

namespace wattprint {

MethodResult process_method(const RunMeasurement& m, const std::string& unavailable_reason) {
  MethodResult result;
  result.name = "process";
  result.provenance = Provenance::Measured;
  result.basis =
      "RAPL package energy × the command's share of busy CPU time + DRAM energy × its share of used "
      "memory, per interval";
  if (!m.have_package) {
    result.available = false;
    result.reason = unavailable_reason.empty() ? "no readable RAPL package counter" : unavailable_reason;
    return result;
  }
  result.available = true;
  result.components.cpu = m.attributed_package;
  if (m.have_dram) result.components.dram = m.attributed_dram;
  result.it_energy = m.attributed_package + (m.have_dram ? m.attributed_dram : Joules{});
  if (!m.have_dram) {
    result.assumptions.emplace_back("DRAM", "no RAPL DRAM zone on this machine: memory energy not included");
  }
  return result;
}

MethodResult planned_method(const std::string& name) {
  MethodResult result;
  result.name = name;
  result.available = false;
  if (name == "gpu") {
    result.reason = "GPU sensors (NVML, amdgpu) are not supported by this version of wattprint yet";
  } else if (name == "server") {
    result.reason =
        "whole-server power (IPMI DCMI, Redfish, ACPI power meter) is not supported by this version "
        "of wattprint yet";
  } else {
    result.reason =
        "needs the server method and an idle baseline, not supported by this version of wattprint yet";
  }
  return result;
}

}  // namespace wattprint
