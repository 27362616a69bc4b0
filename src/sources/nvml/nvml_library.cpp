// Loading libnvidia-ml.so.1 and resolving its versioned symbols one at a time.
#include "sources/nvml/nvml_library.hpp"

#include <fmt/format.h>

#include <cerrno>

namespace wattprint::nvml {

int errno_of(nvmlReturn_t result) noexcept {
  switch (result) {
    case NVML_SUCCESS:
      return 0;
    case NVML_ERROR_GPU_IS_LOST:
    case NVML_ERROR_GPU_NOT_FOUND:
      return ENODEV;
    case NVML_ERROR_NO_PERMISSION:
      return EACCES;
    case NVML_ERROR_NOT_SUPPORTED:
      return EOPNOTSUPP;
    case NVML_ERROR_TIMEOUT:
      return ETIMEDOUT;
    default:
      return EIO;
  }
}

namespace {

const char* builtin_name(nvmlReturn_t result) {
  switch (result) {
    case NVML_SUCCESS:
      return "Success";
    case NVML_ERROR_UNINITIALIZED:
      return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT:
      return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED:
      return "Not Supported";
    case NVML_ERROR_NO_PERMISSION:
      return "Insufficient Permissions";
    case NVML_ERROR_NOT_FOUND:
      return "Not Found";
    case NVML_ERROR_INSUFFICIENT_SIZE:
      return "Insufficient Size";
    case NVML_ERROR_DRIVER_NOT_LOADED:
      return "Driver Not Loaded";
    case NVML_ERROR_TIMEOUT:
      return "Timeout";
    case NVML_ERROR_LIBRARY_NOT_FOUND:
      return "NVML Shared Library Not Found";
    case NVML_ERROR_FUNCTION_NOT_FOUND:
      return "Function Not Found";
    case NVML_ERROR_GPU_IS_LOST:
      return "GPU is lost";
    case NVML_ERROR_LIB_RM_VERSION_MISMATCH:
      return "RM has detected an NVML/RM version mismatch";
    default:
      return "Unknown Error";
  }
}

}  // namespace

NvmlLibrary::NvmlLibrary(const std::string& path) : library_(path.empty() ? kDefaultLibraryName : path) {
  if (!library_.is_open()) return;

  const auto resolve = [this]<typename F>(F*& slot, const char* name, bool required) {
    slot = library_.symbol<F>(name);
    if (slot == nullptr && !required) missing_.emplace_back(name);
    return slot != nullptr;
  };
  std::string required_missing;
  const auto need = [&](auto*& slot, const char* name) {
    if (!resolve(slot, name, true))
      required_missing += required_missing.empty() ? name : fmt::format(", {}", name);
  };
  need(fn_.init_v2, "nvmlInit_v2");
  need(fn_.shutdown, "nvmlShutdown");
  need(fn_.device_get_count_v2, "nvmlDeviceGetCount_v2");
  need(fn_.device_get_handle_by_index_v2, "nvmlDeviceGetHandleByIndex_v2");
  resolve(fn_.error_string, "nvmlErrorString", false);
  resolve(fn_.device_get_name, "nvmlDeviceGetName", false);
  resolve(fn_.device_get_uuid, "nvmlDeviceGetUUID", false);
  if (!resolve(fn_.device_get_pci_info, "nvmlDeviceGetPciInfo_v3", false)) {
    if (resolve(fn_.device_get_pci_info, "nvmlDeviceGetPciInfo_v2", false)) missing_.pop_back();
  }
  resolve(fn_.device_get_power_usage, "nvmlDeviceGetPowerUsage", false);
  resolve(fn_.device_get_total_energy_consumption, "nvmlDeviceGetTotalEnergyConsumption", false);
  resolve(fn_.device_get_enforced_power_limit, "nvmlDeviceGetEnforcedPowerLimit", false);
  resolve(fn_.device_get_utilization_rates, "nvmlDeviceGetUtilizationRates", false);
  resolve(fn_.device_get_process_utilization, "nvmlDeviceGetProcessUtilization", false);
  resolve(fn_.device_get_compute_running_processes_v3, "nvmlDeviceGetComputeRunningProcesses_v3", false);
  resolve(fn_.device_get_field_values, "nvmlDeviceGetFieldValues", false);

  if (!required_missing.empty()) {
    init_result_ = NVML_ERROR_FUNCTION_NOT_FOUND;
    init_error_ = fmt::format("{} lacks {} (NVIDIA driver too old)", library_.path(), required_missing);
    return;
  }
  init_result_ = fn_.init_v2();
  if (init_result_ == NVML_SUCCESS) {
    initialized_ = true;
  } else {
    init_error_ = fmt::format("nvmlInit_v2 failed: {}", error_text(init_result_));
  }
}

NvmlLibrary::~NvmlLibrary() {
  if (initialized_) fn_.shutdown();
}

std::string NvmlLibrary::error_text(nvmlReturn_t result) const {
  const char* text = fn_.error_string != nullptr ? fn_.error_string(result) : nullptr;
  if (text == nullptr || *text == '\0') text = builtin_name(result);
  return fmt::format("{} ({})", text, static_cast<int>(result));
}

}  // namespace wattprint::nvml
