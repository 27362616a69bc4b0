// libnvidia-ml.so.1 loaded with dlopen: each NVML function resolved on its own (a missing one disables
// only what needs it), nvmlInit_v2 called once on load and nvmlShutdown once on destruction.
#pragma once

#include <string>
#include <vector>

#include "platform/dynamic_library.hpp"
#include "sources/nvml/nvml_api.hpp"

namespace wattprint::nvml {

inline constexpr const char* kDefaultLibraryName = "libnvidia-ml.so.1";

/// The resolved entry points; nullptr where the library lacks the symbol (an older driver).
struct NvmlFunctions {
  nvmlInit_v2_fn* init_v2 = nullptr;
  nvmlShutdown_fn* shutdown = nullptr;
  nvmlErrorString_fn* error_string = nullptr;
  nvmlDeviceGetCount_v2_fn* device_get_count_v2 = nullptr;
  nvmlDeviceGetHandleByIndex_v2_fn* device_get_handle_by_index_v2 = nullptr;
  nvmlDeviceGetName_fn* device_get_name = nullptr;
  nvmlDeviceGetUUID_fn* device_get_uuid = nullptr;
  nvmlDeviceGetPciInfo_v3_fn* device_get_pci_info = nullptr;  ///< _v3, else _v2 (same struct)
  nvmlDeviceGetPowerUsage_fn* device_get_power_usage = nullptr;
  nvmlDeviceGetTotalEnergyConsumption_fn* device_get_total_energy_consumption = nullptr;
  nvmlDeviceGetEnforcedPowerLimit_fn* device_get_enforced_power_limit = nullptr;
  nvmlDeviceGetUtilizationRates_fn* device_get_utilization_rates = nullptr;
  nvmlDeviceGetProcessUtilization_fn* device_get_process_utilization = nullptr;
  nvmlDeviceGetComputeRunningProcesses_v3_fn* device_get_compute_running_processes_v3 = nullptr;
  nvmlDeviceGetFieldValues_fn* device_get_field_values = nullptr;
};

/// An errno-like code for an NVML failure, for EnergyCounterSource::read(): GPU_IS_LOST and GPU_NOT_FOUND
/// give ENODEV, NO_PERMISSION EACCES, NOT_SUPPORTED EOPNOTSUPP, TIMEOUT ETIMEDOUT, anything else EIO.
int errno_of(nvmlReturn_t result) noexcept;

class NvmlLibrary {
 public:
  /// Opens `path` (empty: "libnvidia-ml.so.1" through the normal library search), resolves every symbol
  /// and, when nvmlInit_v2 is there, calls it.
  explicit NvmlLibrary(const std::string& path);
  ~NvmlLibrary();
  NvmlLibrary(const NvmlLibrary&) = delete;
  NvmlLibrary& operator=(const NvmlLibrary&) = delete;
  NvmlLibrary(NvmlLibrary&&) = delete;
  NvmlLibrary& operator=(NvmlLibrary&&) = delete;

  /// What was passed to dlopen.
  [[nodiscard]] const std::string& path() const { return library_.path(); }
  [[nodiscard]] bool loaded() const { return library_.is_open(); }
  /// dlerror() text when not loaded.
  [[nodiscard]] const std::string& load_error() const { return library_.error(); }
  /// nvmlInit_v2 succeeded (and nvmlShutdown will be called).
  [[nodiscard]] bool initialized() const { return initialized_; }
  /// Why the library is loaded but unusable: a required symbol missing, or nvmlInit_v2's error. Empty when
  /// initialized.
  [[nodiscard]] const std::string& init_error() const { return init_error_; }
  /// nvmlInit_v2's result (NVML_ERROR_FUNCTION_NOT_FOUND when a required symbol is missing).
  [[nodiscard]] nvmlReturn_t init_result() const { return init_result_; }
  /// Optional symbols the library lacks, by name.
  [[nodiscard]] const std::vector<std::string>& missing_symbols() const { return missing_; }

  [[nodiscard]] const NvmlFunctions& api() const { return fn_; }

  /// "Unknown Error (15)"-style text for `result`: nvmlErrorString when present, else a built-in name.
  [[nodiscard]] std::string error_text(nvmlReturn_t result) const;

 private:
  DynamicLibrary library_;
  NvmlFunctions fn_;
  std::vector<std::string> missing_;
  bool initialized_ = false;
  nvmlReturn_t init_result_ = NVML_ERROR_UNINITIALIZED;
  std::string init_error_;
};

}  // namespace wattprint::nvml
