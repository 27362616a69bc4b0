// NVML GPU source: device discovery, the choice of energy method, power integration and activity sampling.
#include "sources/nvml/nvml_source.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <limits>

#include "sources/nvml/nvml_library.hpp"

namespace wattprint {

using namespace nvml;  // NOLINT(google-build-using-namespace): the NVML names are prefixed already

namespace {

constexpr const char* kAbsentRemedy =
    "install the NVIDIA driver, or point --nvml-library at libnvidia-ml.so.1";
constexpr const char* kPermissionRemedy =
    "run wattprint as root, or ask the administrator to let users query the GPU (permissions of "
    "/dev/nvidia*, "
    "or the driver's RmProfilingAdminOnly setting)";
constexpr unsigned kSlack = 8;  // extra entries for processes that appear between two calls

std::int64_t monotonic_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

unsigned long long realtime_us() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<unsigned long long>(ts.tv_sec) * 1'000'000ULL +
         static_cast<unsigned long long>(ts.tv_nsec) / 1000ULL;
}

/// The value of a field as a double, whatever its valueType; false for an unknown type.
bool field_as_double(const nvmlFieldValue_t& field, double& out) noexcept {
  switch (field.valueType) {
    case NVML_VALUE_TYPE_DOUBLE:
      out = field.value.dVal;
      return true;
    case NVML_VALUE_TYPE_UNSIGNED_INT:
      out = static_cast<double>(field.value.uiVal);
      return true;
    case NVML_VALUE_TYPE_UNSIGNED_LONG:
      out = static_cast<double>(field.value.ulVal);
      return true;
    case NVML_VALUE_TYPE_UNSIGNED_LONG_LONG:
      out = static_cast<double>(field.value.ullVal);
      return true;
    case NVML_VALUE_TYPE_SIGNED_LONG_LONG:
      out = static_cast<double>(field.value.sllVal);
      return true;
    case NVML_VALUE_TYPE_SIGNED_INT:
      out = static_cast<double>(field.value.siVal);
      return true;
    case NVML_VALUE_TYPE_UNSIGNED_SHORT:
      out = static_cast<double>(field.value.usVal);
      return true;
  }
  return false;
}

/// Field 186 (instantaneous power, mW), its own per-entry result checked.
nvmlReturn_t read_instant_power(const NvmlFunctions& api, nvmlDevice_t handle, double& milliwatts) noexcept {
  nvmlFieldValue_t field{};
  field.fieldId = NVML_FI_DEV_POWER_INSTANT;
  field.scopeId = 0;
  const nvmlReturn_t result = api.device_get_field_values(handle, 1, &field);
  if (result != NVML_SUCCESS) return result;
  if (field.nvmlReturn != NVML_SUCCESS) return field.nvmlReturn;
  if (!field_as_double(field, milliwatts)) return NVML_ERROR_UNKNOWN;
  return NVML_SUCCESS;
}

std::string string_of(const char* buffer, std::size_t capacity) {
  return {buffer, strnlen(buffer, capacity)};
}

}  // namespace

NvmlGpuSource::NvmlGpuSource(const std::string& library_path)
    : library_(std::make_unique<NvmlLibrary>(library_path)) {
  const std::string& path = library_->path();
  if (!library_->loaded()) {
    statuses_.push_back({"nvml", SensorStatus::State::Absent, path, library_->load_error(), kAbsentRemedy});
    return;
  }
  if (!library_->initialized()) {
    const bool no_driver = library_->init_result() == NVML_ERROR_DRIVER_NOT_LOADED;
    statuses_.push_back({"nvml", SensorStatus::State::Error, path, library_->init_error(),
                         no_driver
                             ? "load the NVIDIA kernel driver (`sudo modprobe nvidia`), or check `nvidia-smi`"
                             : "check the NVIDIA driver installation with `nvidia-smi`"});
    return;
  }
  const NvmlFunctions& api = library_->api();
  unsigned count = 0;
  const nvmlReturn_t count_result = api.device_get_count_v2(&count);
  if (count_result != NVML_SUCCESS) {
    statuses_.push_back({"nvml", SensorStatus::State::Error, path,
                         "nvmlDeviceGetCount_v2 failed: " + library_->error_text(count_result), ""});
    return;
  }
  if (count == 0) {
    statuses_.push_back({"nvml", SensorStatus::State::Absent, path, "the NVIDIA driver reports no GPU", ""});
    return;
  }
  for (unsigned index = 0; index < count; ++index) open_device(index);
}

NvmlGpuSource::~NvmlGpuSource() = default;

void NvmlGpuSource::open_device(unsigned index) {
  const NvmlFunctions& api = library_->api();
  const std::string& path = library_->path();
  const std::string name = fmt::format("nvml.gpu-{}", index);

  DeviceState state;
  const nvmlReturn_t handle_result = api.device_get_handle_by_index_v2(index, &state.handle);
  if (handle_result == NVML_ERROR_NO_PERMISSION) {
    statuses_.push_back({name, SensorStatus::State::Unreadable, path,
                         "NVML denies access to this GPU: " + library_->error_text(handle_result),
                         kPermissionRemedy});
    return;
  }
  if (handle_result != NVML_SUCCESS) {
    statuses_.push_back(
        {name, SensorStatus::State::Error, path, "no handle: " + library_->error_text(handle_result), ""});
    return;
  }

  GpuDevice device;
  device.family = "nvml";
  device.index = index;
  if (api.device_get_name != nullptr) {
    char buffer[NVML_DEVICE_NAME_V2_BUFFER_SIZE] = {};
    if (api.device_get_name(state.handle, buffer, sizeof buffer) == NVML_SUCCESS) {
      device.name = string_of(buffer, sizeof buffer);
    }
  }
  if (api.device_get_uuid != nullptr) {
    char buffer[NVML_DEVICE_UUID_V2_BUFFER_SIZE] = {};
    if (api.device_get_uuid(state.handle, buffer, sizeof buffer) == NVML_SUCCESS) {
      device.uuid = string_of(buffer, sizeof buffer);
    }
  }
  if (api.device_get_pci_info != nullptr) {
    nvmlPciInfo_t pci{};
    if (api.device_get_pci_info(state.handle, &pci) == NVML_SUCCESS) {
      device.pci_bus_id = string_of(pci.busId, sizeof pci.busId);
    }
  }
  if (api.device_get_enforced_power_limit != nullptr) {
    unsigned limit_mw = 0;
    if (api.device_get_enforced_power_limit(state.handle, &limit_mw) == NVML_SUCCESS && limit_mw > 0) {
      device.power_limit = Watts{static_cast<double>(limit_mw) * 1e-3};
    }
  }

  // The energy method: the driver's counter, else integrated power (field 186, else GetPowerUsage).
  std::string failures;
  const auto note = [&](const char* what, nvmlReturn_t result) {
    if (!failures.empty()) failures += "; ";
    failures += fmt::format("{}: {}", what, library_->error_text(result));
  };
  bool denied = false;
  bool found = false;
  if (api.device_get_total_energy_consumption != nullptr) {
    unsigned long long energy_mj = 0;
    const nvmlReturn_t result = api.device_get_total_energy_consumption(state.handle, &energy_mj);
    if (result == NVML_SUCCESS) {
      state.method = EnergyMethod::Counter;
      found = true;
    } else {
      note("nvmlDeviceGetTotalEnergyConsumption", result);
      denied = denied || result == NVML_ERROR_NO_PERMISSION;
    }
  } else {
    failures = "nvmlDeviceGetTotalEnergyConsumption: not in this library";
  }
  if (!found) {
    double milliwatts = 0.0;
    if (api.device_get_field_values != nullptr) {
      state.method = EnergyMethod::InstantPower;
      const nvmlReturn_t result = read_power_mw(state, milliwatts);
      found = result == NVML_SUCCESS;
      if (!found) note("field 186", result);
      denied = denied || result == NVML_ERROR_NO_PERMISSION;
    }
    if (!found && api.device_get_power_usage != nullptr) {
      state.method = EnergyMethod::PowerUsage;
      const nvmlReturn_t result = read_power_mw(state, milliwatts);
      found = result == NVML_SUCCESS;
      if (!found) note("nvmlDeviceGetPowerUsage", result);
      denied = denied || result == NVML_ERROR_NO_PERMISSION;
    }
    if (found) {
      state.last_ns = monotonic_ns();
      state.last_mw = milliwatts;
    }
  }
  if (!found) {
    statuses_.push_back({name, denied ? SensorStatus::State::Unreadable : SensorStatus::State::Error, path,
                         "neither an energy counter nor a power reading: " + failures,
                         denied ? kPermissionRemedy : ""});
    return;
  }

  switch (state.method) {
    case EnergyMethod::Counter:
      device.energy_method = kNvmlEnergyCounterMethod;
      device.energy_is_counter = true;
      break;
    case EnergyMethod::InstantPower:
      device.energy_method = kNvmlInstantPowerMethod;
      break;
    case EnergyMethod::PowerUsage:
      device.energy_method = kNvmlPowerUsageMethod;
      break;
  }
  state.last_seen_us = realtime_us();  // process-utilisation samples from before the run are not ours

  SensorInfo info;
  info.name = name;
  info.family = "nvml";
  info.component = Component::Gpu;
  info.origin =
      fmt::format("{} device {}{}", path, index, device.uuid.empty() ? "" : " (" + device.uuid + ")");
  info.counter_max = std::numeric_limits<std::uint64_t>::max();
  info.joules_per_raw_unit = 1e-3;
  info.max_power = device.power_limit;

  statuses_.push_back({name, SensorStatus::State::Ok, path, "", ""});
  sensors_.push_back(std::move(info));
  devices_.push_back(std::move(device));
  states_.push_back(std::move(state));
}

nvmlReturn_t NvmlGpuSource::read_power_mw(const DeviceState& state, double& milliwatts) const noexcept {
  const NvmlFunctions& api = library_->api();
  if (state.method == EnergyMethod::InstantPower) return read_instant_power(api, state.handle, milliwatts);
  unsigned power = 0;
  const nvmlReturn_t result = api.device_get_power_usage(state.handle, &power);
  if (result == NVML_SUCCESS) milliwatts = static_cast<double>(power);
  return result;
}

void NvmlGpuSource::read(std::vector<std::uint64_t>& raw, std::vector<int>& errors) noexcept {
  const NvmlFunctions& api = library_->api();
  for (std::size_t i = 0; i < states_.size(); ++i) {
    DeviceState& state = states_[i];
    if (state.method == EnergyMethod::Counter) {
      unsigned long long energy_mj = 0;
      const nvmlReturn_t result = api.device_get_total_energy_consumption(state.handle, &energy_mj);
      errors[i] = errno_of(result);
      if (result == NVML_SUCCESS) raw[i] = energy_mj;
      continue;
    }
    double milliwatts = 0.0;
    const nvmlReturn_t result = read_power_mw(state, milliwatts);
    const std::int64_t now = monotonic_ns();
    if (result == NVML_SUCCESS) {
      // Trapezoid over the interval since the last good reading; mW × s = mJ.
      const double seconds = static_cast<double>(now - state.last_ns) * 1e-9;
      state.integral_mj += 0.5 * (state.last_mw + milliwatts) * seconds;
      state.last_ns = now;
      state.last_mw = milliwatts;
    }
    errors[i] = errno_of(result);
    raw[i] = static_cast<std::uint64_t>(state.integral_mj);
  }
}

void NvmlGpuSource::sample_activity(std::vector<GpuActivity>& out) {
  const NvmlFunctions& api = library_->api();
  out.resize(states_.size());
  for (std::size_t i = 0; i < states_.size(); ++i) {
    GpuActivity& activity = out[i];
    activity.utilisation_percent.reset();
    activity.processes.clear();
    activity.per_process_utilisation = false;
    if (api.device_get_utilization_rates != nullptr) {
      nvmlUtilization_t utilisation{};
      if (api.device_get_utilization_rates(states_[i].handle, &utilisation) == NVML_SUCCESS) {
        activity.utilisation_percent = std::min(100.0, static_cast<double>(utilisation.gpu));
      }
    }
    sample_processes(states_[i], activity);
  }
}

void NvmlGpuSource::sample_processes(DeviceState& state, GpuActivity& activity) {
  const NvmlFunctions& api = library_->api();

  // SM utilisation per process since the last sample seen: count, then fill.
  if (api.device_get_process_utilization != nullptr && state.process_utilisation_supported) {
    const unsigned long long since = state.last_seen_us;
    unsigned count = 0;
    nvmlReturn_t result = api.device_get_process_utilization(state.handle, nullptr, &count, since);
    if (result == NVML_ERROR_NOT_FOUND || (result == NVML_SUCCESS && count == 0)) {
      activity.per_process_utilisation = true;  // no new samples: nobody used the SMs
    } else if (result == NVML_SUCCESS || result == NVML_ERROR_INSUFFICIENT_SIZE) {
      state.samples.resize(count + kSlack);
      count = static_cast<unsigned>(state.samples.size());
      result = api.device_get_process_utilization(state.handle, state.samples.data(), &count, since);
      if (result == NVML_ERROR_NOT_FOUND) {
        activity.per_process_utilisation = true;
      } else if (result == NVML_SUCCESS) {
        activity.per_process_utilisation = true;
        count = std::min(count, static_cast<unsigned>(state.samples.size()));
        // Average each process's samples; counts kept alongside in sample order.
        std::vector<unsigned> sample_counts;
        for (unsigned k = 0; k < count; ++k) {
          const nvmlProcessUtilizationSample_t& sample = state.samples[k];
          state.last_seen_us = std::max(state.last_seen_us, sample.timeStamp);
          const auto pid = static_cast<pid_t>(sample.pid);
          const double sm = std::min(100.0, static_cast<double>(sample.smUtil));
          auto it = std::find_if(activity.processes.begin(), activity.processes.end(),
                                 [pid](const GpuProcessUse& use) { return use.pid == pid; });
          if (it == activity.processes.end()) {
            activity.processes.push_back({pid, sm});
            sample_counts.push_back(1);
          } else {
            const auto at = static_cast<std::size_t>(it - activity.processes.begin());
            it->sm_percent += sm;
            ++sample_counts[at];
          }
        }
        for (std::size_t k = 0; k < activity.processes.size(); ++k) {
          activity.processes[k].sm_percent /= static_cast<double>(sample_counts[k]);
        }
      }
    } else if (result == NVML_ERROR_NOT_SUPPORTED) {
      state.process_utilisation_supported = false;  // e.g. MIG enabled: presence only from now on
    }
  }

  // Presence: processes holding a compute context, count then fill with slack.
  if (api.device_get_compute_running_processes_v3 == nullptr) return;
  unsigned count = 0;
  nvmlReturn_t result = api.device_get_compute_running_processes_v3(state.handle, &count, nullptr);
  if (result != NVML_ERROR_INSUFFICIENT_SIZE) return;  // NVML_SUCCESS: none; anything else: unknown
  for (int attempt = 0; attempt < 2 && result == NVML_ERROR_INSUFFICIENT_SIZE; ++attempt) {
    state.infos.resize(count + kSlack * static_cast<unsigned>(attempt + 1));
    count = static_cast<unsigned>(state.infos.size());
    result = api.device_get_compute_running_processes_v3(state.handle, &count, state.infos.data());
  }
  if (result != NVML_SUCCESS) return;
  count = std::min(count, static_cast<unsigned>(state.infos.size()));
  for (unsigned k = 0; k < count; ++k) {
    const auto pid = static_cast<pid_t>(state.infos[k].pid);
    const bool known = std::any_of(activity.processes.begin(), activity.processes.end(),
                                   [pid](const GpuProcessUse& use) { return use.pid == pid; });
    if (!known) activity.processes.push_back({pid, 0.0});
  }
}

}  // namespace wattprint
