// AMD GPUs through ROCm SMI (librocm_smi64.so.1, loaded at run time): one energy counter per GPU, either
// the driver's energy accumulator (rsmi_dev_energy_count_get) or average power integrated by this source.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "platform/dynamic_library.hpp"
#include "sources/amdgpu/rocm_smi_api.hpp"
#include "sources/gpu/gpu_source.hpp"

namespace wattprint {

/// The library's file name, and where Debian 12 installs it (not in the multiarch directory).
inline constexpr const char* kRocmSmiLibraryName = "librocm_smi64.so.1";
inline constexpr const char* kRocmSmiDebianPath = "/usr/lib/librocm_smi64.so.1";

/// energy_method texts, one per way of obtaining a GPU's energy.
inline constexpr const char* kRocmSmiEnergyCounterMethod =
    "energy counter (rsmi_dev_energy_count_get, counter x resolution uJ)";
inline constexpr const char* kRocmSmiPowerAverageMethod =
    "average power (rsmi_dev_power_ave_get), integrated";

/// The resolved entry points; nullptr where the library lacks the symbol.
struct RocmSmiFunctions {
  rocm_smi::rsmi_init_fn* init = nullptr;
  rocm_smi::rsmi_shut_down_fn* shut_down = nullptr;
  rocm_smi::rsmi_status_string_fn* status_string = nullptr;
  rocm_smi::rsmi_num_monitor_devices_fn* num_monitor_devices = nullptr;
  rocm_smi::rsmi_dev_name_get_fn* dev_name_get = nullptr;
  rocm_smi::rsmi_dev_unique_id_get_fn* dev_unique_id_get = nullptr;
  rocm_smi::rsmi_dev_power_ave_get_fn* dev_power_ave_get = nullptr;
  rocm_smi::rsmi_dev_energy_count_get_fn* dev_energy_count_get = nullptr;
  rocm_smi::rsmi_dev_power_cap_get_fn* dev_power_cap_get = nullptr;
  rocm_smi::rsmi_dev_busy_percent_get_fn* dev_busy_percent_get = nullptr;
  rocm_smi::rsmi_compute_process_info_get_fn* compute_process_info_get = nullptr;
  rocm_smi::rsmi_compute_process_gpus_get_fn* compute_process_gpus_get = nullptr;
};

namespace rocm_smi {
/// An errno-like code for a ROCm SMI failure: PERMISSION gives EACCES, NOT_SUPPORTED EOPNOTSUPP, BUSY
/// EBUSY, NOT_FOUND and INPUT_OUT_OF_BOUNDS ENODEV, anything else EIO.
int errno_of(rsmi_status_t status) noexcept;
}  // namespace rocm_smi

/// Every GPU ROCm SMI monitors. Energy: rsmi_dev_energy_count_get when it works at open (the raw
/// accumulator, joules_per_raw_unit = resolution × 1e-6); else rsmi_dev_power_ave_get read at each read()
/// and integrated with the trapezoid rule on CLOCK_MONOTONIC time into a synthetic mJ counter that starts
/// at 0 when the source is opened.
class RocmSmiGpuSource final : public GpuSource {
 public:
  /// `library_path`: the librocm_smi64.so.1 to load; empty: the normal library search, then
  /// /usr/lib/librocm_smi64.so.1.
  explicit RocmSmiGpuSource(const std::string& library_path);
  ~RocmSmiGpuSource() override;
  RocmSmiGpuSource(const RocmSmiGpuSource&) = delete;
  RocmSmiGpuSource& operator=(const RocmSmiGpuSource&) = delete;
  RocmSmiGpuSource(RocmSmiGpuSource&&) = delete;
  RocmSmiGpuSource& operator=(RocmSmiGpuSource&&) = delete;

  [[nodiscard]] const std::vector<SensorStatus>& statuses() const override { return statuses_; }
  [[nodiscard]] const std::vector<SensorInfo>& sensors() const override { return sensors_; }
  [[nodiscard]] const std::vector<GpuDevice>& devices() const override { return devices_; }
  /// raw[i]: the accumulator (counter devices) or mJ (integrated); errors[i] 0 or errno_of().
  void read(std::vector<std::uint64_t>& raw, std::vector<int>& errors) noexcept override;
  /// Busy percent (rsmi_dev_busy_percent_get) and the processes with a compute queue
  /// (rsmi_compute_process_info_get), presence only. A process is put on the devices
  /// rsmi_compute_process_gpus_get names, or on every device when the library lacks that function.
  void sample_activity(std::vector<GpuActivity>& out) override;

  /// "Not supported (2)"-style text: rsmi_status_string when present, else a built-in name.
  [[nodiscard]] std::string error_text(rocm_smi::rsmi_status_t status) const;

 private:
  struct DeviceState {
    std::uint32_t index = 0;
    bool counter = false;
    std::int64_t last_ns = 0;  ///< CLOCK_MONOTONIC of the last power reading (integrated)
    double last_uw = 0.0;      ///< the last power reading, µW
    double integral_mj = 0.0;  ///< energy integrated since open, mJ
  };

  void open_device(std::uint32_t index);

  DynamicLibrary library_;
  RocmSmiFunctions fn_;
  bool initialized_ = false;
  std::vector<SensorStatus> statuses_;
  std::vector<SensorInfo> sensors_;
  std::vector<GpuDevice> devices_;
  std::vector<DeviceState> states_;
  std::vector<rocm_smi::rsmi_process_info_t> processes_;
  std::vector<std::uint32_t> process_devices_;
};

}  // namespace wattprint
