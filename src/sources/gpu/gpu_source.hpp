// What every GPU family (NVML, nvidia-smi, amdgpu hwmon, ROCm SMI) provides: devices, one energy counter per
// device, and activity (utilisation, the processes using each device) for attribution.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "core/units.hpp"
#include "sources/sensor.hpp"

namespace wattprint {

/// One GPU as its family sees it. Static for the run.
struct GpuDevice {
  std::string family;                ///< "nvml", "nvidia-smi", "amdgpu", "rocm-smi"
  unsigned index = 0;                ///< the family's device index
  std::string name;                  ///< "Tesla T4", "NVIDIA H100 80GB HBM3"
  std::string uuid;                  ///< "GPU-…" (NVML), empty when unknown
  std::string pci_bus_id;            ///< "00000000:3B:00.0"
  std::optional<Watts> power_limit;  ///< enforced power limit
  /// How its energy is obtained: "energy counter (nvmlDeviceGetTotalEnergyConsumption, mJ)", or a power
  /// reading integrated over time ("instantaneous power field 186, integrated").
  std::string energy_method;
  bool energy_is_counter = false;  ///< true: hardware counter; false: integrated power samples
};

/// A process's use of one GPU over the last sampling period.
struct GpuProcessUse {
  pid_t pid = 0;
  double sm_percent = 0.0;  ///< streaming-multiprocessor utilisation, 0–100 (0 when only presence is known)
};

/// Activity of one GPU since the previous sample_activity() call.
struct GpuActivity {
  std::optional<double> utilisation_percent;  ///< device utilisation (0–100), if the family reports it
  std::vector<GpuProcessUse> processes;       ///< processes with a context on the device, with their use
  bool per_process_utilisation = false;       ///< sm_percent values are real (else presence only)
};

/// A GPU family. sensors() holds one energy counter per device, in devices() order, named
/// "<family>.gpu-<index>"; counters of power-only devices are integrated by the source itself (mJ, never
/// wrapping) from readings taken at each read().
class GpuSource : public EnergyCounterSource {
 public:
  [[nodiscard]] virtual const std::vector<GpuDevice>& devices() const = 0;
  /// Fills `out[i]` for each device of devices(). May allocate; called once per attribution interval.
  virtual void sample_activity(std::vector<GpuActivity>& out) = 0;
};

}  // namespace wattprint
