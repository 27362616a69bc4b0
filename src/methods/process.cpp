// Attribution of measured RAPL energy to the command: joules, no PUE.
#include "methods/process.hpp"

#include <fmt/format.h>

namespace wattprint {

MethodResult process_method(const RunMeasurement& m, const std::string& unavailable_reason,
                            std::optional<Joules> gpu_attributed) {
  MethodResult result;
  result.name = "process";
  result.provenance = Provenance::Measured;
  result.basis =
      "RAPL package energy × the command's share of busy CPU time + DRAM energy × its share of used memory + "
      "each GPU's energy × the command's share of it, per interval";
  const bool by_group = m.group && m.group->intervals > 0;
  if (by_group) {
    result.basis = fmt::format(
        "RAPL package energy × the {0}'s share of busy CPU time + DRAM energy × its share of used memory + "
        "each GPU's energy × its processes' share of it, per interval (every process of the group on this "
        "node, wattprint's own included)",
        m.group->description);
  }
  if (!m.have_package && !gpu_attributed) {
    result.available = false;
    result.reason = unavailable_reason.empty() ? "no readable RAPL package counter" : unavailable_reason;
    return result;
  }
  result.available = true;
  if (m.group) {
    std::string how =
        by_group ? fmt::format("{} for {} of {} intervals", m.group->description, m.group->intervals,
                               m.group->intervals + m.group->fallback_intervals)
                 : fmt::format("the command's process tree: {} could not be read", m.group->description);
    if (by_group && m.group->fallback_intervals > 0) {
      how += fmt::format("; the command's process tree for the other {} (the group could not be read)",
                         m.group->fallback_intervals);
    }
    result.assumptions.emplace_back("attributed to", how);
  }
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
