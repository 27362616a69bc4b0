// NVIDIA GPUs through NVML (libnvidia-ml.so.1, loaded at run time): one energy counter per GPU, either the
// driver's own energy counter (Volta and newer) or power readings integrated by this source.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sources/gpu/gpu_source.hpp"
#include "sources/nvml/nvml_api.hpp"

namespace wattprint {

namespace nvml {
class NvmlLibrary;
}

/// energy_method texts, one per way of obtaining a GPU's energy.
inline constexpr const char* kNvmlEnergyCounterMethod =
    "energy counter (nvmlDeviceGetTotalEnergyConsumption, mJ)";
inline constexpr const char* kNvmlInstantPowerMethod =
    "instantaneous power field 186 (NVML_FI_DEV_POWER_INSTANT), integrated";
inline constexpr const char* kNvmlPowerUsageMethod =
    "power from nvmlDeviceGetPowerUsage (a 1-s average on Ampere and newer except GA100), integrated";

/// Every GPU NVML lists. Energy: nvmlDeviceGetTotalEnergyConsumption when it works at open (mJ, hardware
/// integrated); else power (field 186 when the driver has it, else nvmlDeviceGetPowerUsage) read at each
/// read() and integrated with the trapezoid rule on CLOCK_MONOTONIC time into a synthetic mJ counter that
/// starts at 0 when the source is opened.
class NvmlGpuSource final : public GpuSource {
 public:
  /// `library_path`: the libnvidia-ml.so.1 to load; empty for the normal library search.
  explicit NvmlGpuSource(const std::string& library_path);
  ~NvmlGpuSource() override;
  NvmlGpuSource(const NvmlGpuSource&) = delete;
  NvmlGpuSource& operator=(const NvmlGpuSource&) = delete;
  NvmlGpuSource(NvmlGpuSource&&) = delete;
  NvmlGpuSource& operator=(NvmlGpuSource&&) = delete;

  [[nodiscard]] const std::vector<SensorStatus>& statuses() const override { return statuses_; }
  [[nodiscard]] const std::vector<SensorInfo>& sensors() const override { return sensors_; }
  [[nodiscard]] const std::vector<GpuDevice>& devices() const override { return devices_; }
  /// raw[i] in mJ; errors[i] 0, ENODEV for a lost GPU, EACCES, ETIMEDOUT, EOPNOTSUPP or EIO.
  void read(std::vector<std::uint64_t>& raw, std::vector<int>& errors) noexcept override;
  /// Device utilisation (nvmlDeviceGetUtilizationRates) and, per process, SM utilisation since the previous
  /// call (nvmlDeviceGetProcessUtilization); processes that only hold a compute context
  /// (nvmlDeviceGetComputeRunningProcesses_v3) are added with 0 %. Without process utilisation the list
  /// is presence only (per_process_utilisation false).
  void sample_activity(std::vector<GpuActivity>& out) override;

 private:
  enum class EnergyMethod { Counter, InstantPower, PowerUsage };
  struct DeviceState {
    nvml::nvmlDevice_t handle = nullptr;
    EnergyMethod method = EnergyMethod::Counter;
    std::int64_t last_ns = 0;  ///< CLOCK_MONOTONIC of the last power reading (integrated methods)
    double last_mw = 0.0;      ///< the last power reading, mW
    double integral_mj = 0.0;  ///< energy integrated since open, mJ
    bool process_utilisation_supported = true;
    unsigned long long last_seen_us = 0;  ///< largest process-utilisation sample timestamp seen
    std::vector<nvml::nvmlProcessUtilizationSample_t> samples;
    std::vector<nvml::nvmlProcessInfo_t> infos;
  };

  nvml::nvmlReturn_t read_power_mw(const DeviceState& state, double& milliwatts) const noexcept;
  void open_device(unsigned index);
  void sample_processes(DeviceState& state, GpuActivity& activity);

  std::unique_ptr<nvml::NvmlLibrary> library_;
  std::vector<SensorStatus> statuses_;
  std::vector<SensorInfo> sensors_;
  std::vector<GpuDevice> devices_;
  std::vector<DeviceState> states_;
};

}  // namespace wattprint
