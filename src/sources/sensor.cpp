// Names of sensor components and states, as printed in reports.
#include "sources/sensor.hpp"

namespace wattprint {

const char* component_name(Component component) noexcept {
  switch (component) {
    case Component::CpuPackage:
      return "package";
    case Component::Dram:
      return "dram";
    case Component::CpuCore:
      return "core";
    case Component::Uncore:
      return "uncore";
    case Component::Psys:
      return "psys";
    case Component::Gpu:
      return "gpu";
  }
  return "unknown";
}

const char* state_name(SensorStatus::State state) noexcept {
  switch (state) {
    case SensorStatus::State::Ok:
      return "ok";
    case SensorStatus::State::Absent:
      return "absent";
    case SensorStatus::State::Unreadable:
      return "unreadable";
    case SensorStatus::State::Error:
      return "error";
  }
  return "unknown";
}

}  // namespace wattprint
