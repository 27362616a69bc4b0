// Our own declarations of the ROCm SMI subset wattprint uses (no ROCm header needed to build): status codes,
// the process-info struct with its x86_64 layout checked, and the function types resolved one by one with
// dlsym. Names follow rocm_smi.h (ROCm SMI 5.2.3, Debian 12's librocm-smi64-1), see docs sensors.md §6.1.
#pragma once

#include <cstddef>
#include <cstdint>

namespace wattprint::rocm_smi {

/// rsmi_status_t: a C enum whose largest value is 0xFFFFFFFF, so unsigned int-sized.
enum rsmi_status_t : std::uint32_t {
  RSMI_STATUS_SUCCESS = 0x0,
  RSMI_STATUS_INVALID_ARGS = 0x1,
  RSMI_STATUS_NOT_SUPPORTED = 0x2,
  RSMI_STATUS_FILE_ERROR = 0x3,
  RSMI_STATUS_PERMISSION = 0x4,
  RSMI_STATUS_OUT_OF_RESOURCES = 0x5,
  RSMI_STATUS_INTERNAL_EXCEPTION = 0x6,
  RSMI_STATUS_INPUT_OUT_OF_BOUNDS = 0x7,
  RSMI_STATUS_INIT_ERROR = 0x8,
  RSMI_STATUS_NOT_YET_IMPLEMENTED = 0x9,
  RSMI_STATUS_NOT_FOUND = 0xA,
  RSMI_STATUS_INSUFFICIENT_SIZE = 0xB,
  RSMI_STATUS_INTERRUPT = 0xC,
  RSMI_STATUS_UNEXPECTED_SIZE = 0xD,
  RSMI_STATUS_NO_DATA = 0xE,
  RSMI_STATUS_UNEXPECTED_DATA = 0xF,
  RSMI_STATUS_BUSY = 0x10,
  RSMI_STATUS_REFCOUNT_OVERFLOW = 0x11,
  RSMI_STATUS_UNKNOWN_ERROR = 0xFFFFFFFF,
};
static_assert(sizeof(rsmi_status_t) == 4);

/// rsmi_process_info_t, filled by rsmi_compute_process_info_get (every process with a compute queue, on
/// any GPU).
struct rsmi_process_info_t {
  std::uint32_t process_id;
  std::uint32_t pasid;
  std::uint64_t vram_usage;  ///< bytes
  std::uint64_t sdma_usage;  ///< µs
  std::uint32_t cu_occupancy;
};
static_assert(sizeof(rsmi_process_info_t) == 32);
static_assert(offsetof(rsmi_process_info_t, pasid) == 4);
static_assert(offsetof(rsmi_process_info_t, vram_usage) == 8);
static_assert(offsetof(rsmi_process_info_t, sdma_usage) == 16);
static_assert(offsetof(rsmi_process_info_t, cu_occupancy) == 24);

// Function types, named after the symbol.
using rsmi_init_fn = rsmi_status_t(std::uint64_t init_flags);
using rsmi_shut_down_fn = rsmi_status_t();
using rsmi_status_string_fn = rsmi_status_t(rsmi_status_t status, const char** status_string);
using rsmi_num_monitor_devices_fn = rsmi_status_t(std::uint32_t* num_devices);
using rsmi_dev_name_get_fn = rsmi_status_t(std::uint32_t dv_ind, char* name, std::size_t len);
using rsmi_dev_unique_id_get_fn = rsmi_status_t(std::uint32_t dv_ind, std::uint64_t* id);
/// µW; sensor_ind normally 0.
using rsmi_dev_power_ave_get_fn = rsmi_status_t(std::uint32_t dv_ind, std::uint32_t sensor_ind,
                                                std::uint64_t* power);
/// Energy in µJ = *power × *counter_resolution (the counter is named `power` in the header); timestamp ns.
using rsmi_dev_energy_count_get_fn = rsmi_status_t(std::uint32_t dv_ind, std::uint64_t* power,
                                                   float* counter_resolution, std::uint64_t* timestamp);
/// µW.
using rsmi_dev_power_cap_get_fn = rsmi_status_t(std::uint32_t dv_ind, std::uint32_t sensor_ind,
                                                std::uint64_t* cap);
using rsmi_dev_busy_percent_get_fn = rsmi_status_t(std::uint32_t dv_ind, std::uint32_t* busy_percent);
/// procs nullptr: *num_items = the number of processes; else fills up to *num_items entries.
using rsmi_compute_process_info_get_fn = rsmi_status_t(rsmi_process_info_t* procs, std::uint32_t* num_items);
/// The devices a process uses: fills up to *num_devices indices, *num_devices = how many it uses.
using rsmi_compute_process_gpus_get_fn = rsmi_status_t(std::uint32_t pid, std::uint32_t* dv_indices,
                                                       std::uint32_t* num_devices);

}  // namespace wattprint::rocm_smi
