// ROCm SMI GPU source: loading the library, device discovery, the choice of energy method, power
// integration and activity sampling.
#include "sources/amdgpu/rocm_smi_source.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <limits>

namespace wattprint {

using namespace rocm_smi;  // NOLINT(google-build-using-namespace): the ROCm SMI names are prefixed already

namespace rocm_smi {

int errno_of(rsmi_status_t status) noexcept {
  switch (status) {
    case RSMI_STATUS_SUCCESS:
      return 0;
    case RSMI_STATUS_PERMISSION:
      return EACCES;
    case RSMI_STATUS_NOT_SUPPORTED:
    case RSMI_STATUS_NOT_YET_IMPLEMENTED:
      return EOPNOTSUPP;
    case RSMI_STATUS_BUSY:
      return EBUSY;
    case RSMI_STATUS_NOT_FOUND:
    case RSMI_STATUS_INPUT_OUT_OF_BOUNDS:
      return ENODEV;
    default:
      return EIO;
  }
}

}  // namespace rocm_smi

namespace {

constexpr const char* kAbsentRemedy =
    "install ROCm SMI (`apt-get install librocm-smi64-1`), or point --rocm-smi-library at "
    "librocm_smi64.so.1";
constexpr const char* kPermissionRemedy =
    "run wattprint as root, or add the user to the `render` and `video` groups (access to /dev/kfd and "
    "/dev/dri)";
constexpr std::uint32_t kSlack = 8;  // extra entries for processes that appear between two calls
constexpr std::size_t kNameLength = 256;

std::int64_t monotonic_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

const char* builtin_name(rsmi_status_t status) {
  switch (status) {
    case RSMI_STATUS_SUCCESS:
      return "Success";
    case RSMI_STATUS_INVALID_ARGS:
      return "Invalid arguments";
    case RSMI_STATUS_NOT_SUPPORTED:
      return "Not supported";
    case RSMI_STATUS_FILE_ERROR:
      return "File error";
    case RSMI_STATUS_PERMISSION:
      return "Permission denied";
    case RSMI_STATUS_INIT_ERROR:
      return "Initialization error";
    case RSMI_STATUS_NOT_FOUND:
      return "Not found";
    case RSMI_STATUS_INSUFFICIENT_SIZE:
      return "Insufficient size";
    case RSMI_STATUS_BUSY:
      return "Busy";
    default:
      return "Unknown error";
  }
}

/// Opens `path`, or with an empty path the bare name and then Debian's /usr/lib copy.
DynamicLibrary open_library(const std::string& path, std::string& error) {
  if (!path.empty()) {
    DynamicLibrary library(path);
    error = library.error();
    return library;
  }
  DynamicLibrary library(kRocmSmiLibraryName);
  if (library.is_open()) return library;
  error = library.error();
  DynamicLibrary debian(kRocmSmiDebianPath);
  if (debian.is_open()) return debian;
  error += "; " + debian.error();
  return library;
}

}  // namespace

RocmSmiGpuSource::RocmSmiGpuSource(const std::string& library_path) {
  std::string load_error;
  library_ = open_library(library_path, load_error);
  const std::string path = library_.path();
  if (!library_.is_open()) {
    statuses_.push_back({"rocm-smi", SensorStatus::State::Absent, path, load_error, kAbsentRemedy});
    return;
  }

  std::string required_missing;
  const auto resolve = [&]<typename F>(F*& slot, const char* name, bool required) {
    slot = library_.symbol<F>(name);
    if (slot == nullptr && required) {
      required_missing += required_missing.empty() ? name : fmt::format(", {}", name);
    }
  };
  resolve(fn_.init, "rsmi_init", true);
  resolve(fn_.shut_down, "rsmi_shut_down", true);
  resolve(fn_.num_monitor_devices, "rsmi_num_monitor_devices", true);
  resolve(fn_.status_string, "rsmi_status_string", false);
  resolve(fn_.dev_name_get, "rsmi_dev_name_get", false);
  resolve(fn_.dev_unique_id_get, "rsmi_dev_unique_id_get", false);
  resolve(fn_.dev_power_ave_get, "rsmi_dev_power_ave_get", false);
  resolve(fn_.dev_energy_count_get, "rsmi_dev_energy_count_get", false);
  resolve(fn_.dev_power_cap_get, "rsmi_dev_power_cap_get", false);
  resolve(fn_.dev_busy_percent_get, "rsmi_dev_busy_percent_get", false);
  resolve(fn_.compute_process_info_get, "rsmi_compute_process_info_get", false);
  resolve(fn_.compute_process_gpus_get, "rsmi_compute_process_gpus_get", false);
  if (!required_missing.empty()) {
    statuses_.push_back({"rocm-smi", SensorStatus::State::Error, path,
                         fmt::format("{} lacks {}", path, required_missing),
                         "install a ROCm SMI 5.x library (`apt-get install librocm-smi64-1`)"});
    return;
  }

  const rsmi_status_t init = fn_.init(0);
  if (init != RSMI_STATUS_SUCCESS) {
    statuses_.push_back({"rocm-smi", SensorStatus::State::Error, path,
                         "rsmi_init failed: " + error_text(init),
                         init == RSMI_STATUS_PERMISSION
                             ? kPermissionRemedy
                             : "check that the amdgpu kernel driver is loaded (`lsmod | grep amdgpu`)"});
    return;
  }
  initialized_ = true;

  std::uint32_t count = 0;
  const rsmi_status_t count_result = fn_.num_monitor_devices(&count);
  if (count_result != RSMI_STATUS_SUCCESS) {
    statuses_.push_back({"rocm-smi", SensorStatus::State::Error, path,
                         "rsmi_num_monitor_devices failed: " + error_text(count_result), ""});
    return;
  }
  if (count == 0) {
    statuses_.push_back({"rocm-smi", SensorStatus::State::Absent, path, "ROCm SMI reports no AMD GPU", ""});
    return;
  }
  for (std::uint32_t index = 0; index < count; ++index) open_device(index);
}

RocmSmiGpuSource::~RocmSmiGpuSource() {
  if (initialized_) fn_.shut_down();
}

std::string RocmSmiGpuSource::error_text(rsmi_status_t status) const {
  const char* text = nullptr;
  if (fn_.status_string != nullptr && fn_.status_string(status, &text) != RSMI_STATUS_SUCCESS) text = nullptr;
  if (text == nullptr || *text == '\0') text = builtin_name(status);
  return fmt::format("{} ({})", text, static_cast<std::uint32_t>(status));
}

void RocmSmiGpuSource::open_device(std::uint32_t index) {
  const std::string& path = library_.path();
  const std::string name = fmt::format("rocm-smi.gpu-{}", index);

  GpuDevice device;
  device.family = "rocm-smi";
  device.index = index;
  if (fn_.dev_name_get != nullptr) {
    char buffer[kNameLength] = {};
    if (fn_.dev_name_get(index, buffer, sizeof buffer) == RSMI_STATUS_SUCCESS) {
      device.name = std::string(buffer, strnlen(buffer, sizeof buffer));
    }
  }
  if (fn_.dev_unique_id_get != nullptr) {
    std::uint64_t id = 0;
    // ROCR_VISIBLE_DEVICES accepts "GPU-<unique id in hex>".
    if (fn_.dev_unique_id_get(index, &id) == RSMI_STATUS_SUCCESS && id != 0) {
      device.uuid = fmt::format("GPU-{:016x}", id);
    }
  }
  if (fn_.dev_power_cap_get != nullptr) {
    std::uint64_t cap_uw = 0;
    if (fn_.dev_power_cap_get(index, 0, &cap_uw) == RSMI_STATUS_SUCCESS && cap_uw > 0) {
      device.power_limit = Watts{static_cast<double>(cap_uw) * 1e-6};
    }
  }

  // The energy method: the accumulator, else average power integrated.
  DeviceState state;
  state.index = index;
  std::string failures;
  bool denied = false;
  float resolution_uj = 0.0F;
  if (fn_.dev_energy_count_get != nullptr) {
    std::uint64_t counter = 0;
    std::uint64_t timestamp = 0;
    const rsmi_status_t result = fn_.dev_energy_count_get(index, &counter, &resolution_uj, &timestamp);
    if (result == RSMI_STATUS_SUCCESS && resolution_uj > 0.0F) {
      state.counter = true;
    } else {
      failures = "rsmi_dev_energy_count_get: " +
                 (result == RSMI_STATUS_SUCCESS ? std::string("no counter resolution") : error_text(result));
      denied = result == RSMI_STATUS_PERMISSION;
    }
  } else {
    failures = "rsmi_dev_energy_count_get: not in this library";
  }
  if (!state.counter) {
    std::uint64_t power_uw = 0;
    const rsmi_status_t result = fn_.dev_power_ave_get != nullptr ? fn_.dev_power_ave_get(index, 0, &power_uw)
                                                                  : RSMI_STATUS_NOT_SUPPORTED;
    if (result != RSMI_STATUS_SUCCESS) {
      failures += "; rsmi_dev_power_ave_get: " + error_text(result);
      denied = denied || result == RSMI_STATUS_PERMISSION;
      statuses_.push_back({name, denied ? SensorStatus::State::Unreadable : SensorStatus::State::Error, path,
                           "neither an energy counter nor a power reading: " + failures,
                           denied ? kPermissionRemedy : ""});
      return;
    }
    state.last_ns = monotonic_ns();
    state.last_uw = static_cast<double>(power_uw);
  }

  device.energy_is_counter = state.counter;
  device.energy_method = state.counter ? kRocmSmiEnergyCounterMethod : kRocmSmiPowerAverageMethod;

  SensorInfo info;
  info.name = name;
  info.family = "rocm-smi";
  info.component = Component::Gpu;
  info.origin =
      fmt::format("{} device {}{}", path, index, device.uuid.empty() ? "" : " (" + device.uuid + ")");
  info.counter_max = std::numeric_limits<std::uint64_t>::max();
  info.joules_per_raw_unit = state.counter ? static_cast<double>(resolution_uj) * 1e-6 : 1e-3;
  info.max_power = device.power_limit;

  statuses_.push_back({name, SensorStatus::State::Ok, path, "", ""});
  sensors_.push_back(std::move(info));
  devices_.push_back(std::move(device));
  states_.push_back(state);
}

void RocmSmiGpuSource::read(std::vector<std::uint64_t>& raw, std::vector<int>& errors) noexcept {
  for (std::size_t i = 0; i < states_.size(); ++i) {
    DeviceState& state = states_[i];
    if (state.counter) {
      std::uint64_t counter = 0;
      float resolution_uj = 0.0F;
      std::uint64_t timestamp = 0;
      const rsmi_status_t result =
          fn_.dev_energy_count_get(state.index, &counter, &resolution_uj, &timestamp);
      errors[i] = errno_of(result);
      if (result == RSMI_STATUS_SUCCESS) raw[i] = counter;
      continue;
    }
    std::uint64_t power_uw = 0;
    const rsmi_status_t result = fn_.dev_power_ave_get(state.index, 0, &power_uw);
    const std::int64_t now = monotonic_ns();
    if (result == RSMI_STATUS_SUCCESS) {
      // Trapezoid over the interval since the last good reading; µW × s = µJ.
      const double seconds = static_cast<double>(now - state.last_ns) * 1e-9;
      const auto microwatts = static_cast<double>(power_uw);
      state.integral_mj += 0.5 * (state.last_uw + microwatts) * seconds * 1e-3;
      state.last_ns = now;
      state.last_uw = microwatts;
    }
    errors[i] = errno_of(result);
    raw[i] = static_cast<std::uint64_t>(state.integral_mj);
  }
}

void RocmSmiGpuSource::sample_activity(std::vector<GpuActivity>& out) {
  out.resize(states_.size());
  for (std::size_t i = 0; i < states_.size(); ++i) {
    GpuActivity& activity = out[i];
    activity.utilisation_percent.reset();
    activity.processes.clear();
    activity.per_process_utilisation = false;
    if (fn_.dev_busy_percent_get != nullptr) {
      std::uint32_t busy = 0;
      if (fn_.dev_busy_percent_get(states_[i].index, &busy) == RSMI_STATUS_SUCCESS) {
        activity.utilisation_percent = std::min(100.0, static_cast<double>(busy));
      }
    }
  }
  if (fn_.compute_process_info_get == nullptr || states_.empty()) return;

  // Every process with a compute queue, system-wide: count, then fill with slack.
  std::uint32_t count = 0;
  if (fn_.compute_process_info_get(nullptr, &count) != RSMI_STATUS_SUCCESS || count == 0) return;
  processes_.resize(count + kSlack);
  count = static_cast<std::uint32_t>(processes_.size());
  const rsmi_status_t result = fn_.compute_process_info_get(processes_.data(), &count);
  if (result != RSMI_STATUS_SUCCESS && result != RSMI_STATUS_INSUFFICIENT_SIZE) return;
  count = std::min(count, static_cast<std::uint32_t>(processes_.size()));

  const auto add = [&out](std::size_t device, pid_t pid) {
    auto& processes = out[device].processes;
    const bool known = std::any_of(processes.begin(), processes.end(),
                                   [pid](const GpuProcessUse& use) { return use.pid == pid; });
    if (!known) processes.push_back({pid, 0.0});
  };
  for (std::uint32_t k = 0; k < count; ++k) {
    const std::uint32_t process_id = processes_[k].process_id;
    const auto pid = static_cast<pid_t>(process_id);
    if (fn_.compute_process_gpus_get == nullptr) {
      for (std::size_t i = 0; i < states_.size(); ++i) add(i, pid);
      continue;
    }
    auto devices = static_cast<std::uint32_t>(states_.size() + kSlack);
    process_devices_.resize(devices);
    if (fn_.compute_process_gpus_get(process_id, process_devices_.data(), &devices) != RSMI_STATUS_SUCCESS) {
      continue;
    }
    devices = std::min(devices, static_cast<std::uint32_t>(process_devices_.size()));
    for (std::uint32_t d = 0; d < devices; ++d) {
      for (std::size_t i = 0; i < states_.size(); ++i) {
        if (states_[i].index == process_devices_[d]) add(i, pid);
      }
    }
  }
}

}  // namespace wattprint
