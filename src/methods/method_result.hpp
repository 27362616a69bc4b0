// The result of one of the five methods: IT energy by component, whether it is measured or modelled.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/units.hpp"

namespace wattprint {

enum class Provenance { Measured, Modelled };
const char* provenance_name(Provenance provenance) noexcept;

/// Energy by component (joules, before PUE); nullopt where the method has no such component.
struct ComponentEnergy {
  std::optional<Joules> cpu;
  std::optional<Joules> dram;    ///< measured DRAM (RAPL)
  std::optional<Joules> memory;  ///< modelled memory (W per GB)
  std::optional<Joules> gpu;
  std::optional<Joules> server;
};

/// One line of the comparison: the fixed method names are estimate, process, gpu, server,
/// server-minus-idle.
struct MethodResult {
  std::string name;
  bool available = false;
  std::string reason;  ///< why unavailable, with the remedy (empty when available)
  Provenance provenance = Provenance::Measured;
  std::string basis;  ///< one line: what the number rests on
  Joules it_energy;   ///< IT equipment energy (no PUE)
  ComponentEnergy components;
  std::vector<std::pair<std::string, std::string>> assumptions;  ///< (name, value with unit and source)
};

/// The method names, in report order.
inline const std::vector<std::string>& method_names() {
  static const std::vector<std::string> names{"estimate", "process", "gpu", "server", "server-minus-idle"};
  return names;
}

}  // namespace wattprint
