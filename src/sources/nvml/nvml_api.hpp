// Our own declarations of the NVML subset wattprint uses (no NVIDIA header needed to build): return codes,
// opaque device handle, the structs with their x86_64 layouts checked, field ids, and the function types
// resolved one by one with dlsym. Names follow nvml.h so that the header's documentation applies.
// Source: nvml.h (NVML API 13), see docs sensors.md §5.
#pragma once

#include <cstddef>

namespace wattprint::nvml {

/// nvmlReturn_t: an int-sized C enum. Codes >= 20 exist only in newer drivers; unknown values are legal.
enum nvmlReturn_t : int {
  NVML_SUCCESS = 0,
  NVML_ERROR_UNINITIALIZED = 1,
  NVML_ERROR_INVALID_ARGUMENT = 2,
  NVML_ERROR_NOT_SUPPORTED = 3,
  NVML_ERROR_NO_PERMISSION = 4,
  NVML_ERROR_ALREADY_INITIALIZED = 5,
  NVML_ERROR_NOT_FOUND = 6,
  NVML_ERROR_INSUFFICIENT_SIZE = 7,
  NVML_ERROR_INSUFFICIENT_POWER = 8,
  NVML_ERROR_DRIVER_NOT_LOADED = 9,
  NVML_ERROR_TIMEOUT = 10,
  NVML_ERROR_IRQ_ISSUE = 11,
  NVML_ERROR_LIBRARY_NOT_FOUND = 12,
  NVML_ERROR_FUNCTION_NOT_FOUND = 13,
  NVML_ERROR_CORRUPTED_INFOROM = 14,
  NVML_ERROR_GPU_IS_LOST = 15,
  NVML_ERROR_RESET_REQUIRED = 16,
  NVML_ERROR_OPERATING_SYSTEM = 17,
  NVML_ERROR_LIB_RM_VERSION_MISMATCH = 18,
  NVML_ERROR_IN_USE = 19,
  NVML_ERROR_MEMORY = 20,
  NVML_ERROR_NO_DATA = 21,
  NVML_ERROR_GPU_NOT_FOUND = 28,
  NVML_ERROR_UNKNOWN = 999,
};
static_assert(sizeof(nvmlReturn_t) == sizeof(int));

/// nvmlValueType_t
enum nvmlValueType_t : int {
  NVML_VALUE_TYPE_DOUBLE = 0,
  NVML_VALUE_TYPE_UNSIGNED_INT = 1,
  NVML_VALUE_TYPE_UNSIGNED_LONG = 2,
  NVML_VALUE_TYPE_UNSIGNED_LONG_LONG = 3,
  NVML_VALUE_TYPE_SIGNED_LONG_LONG = 4,
  NVML_VALUE_TYPE_SIGNED_INT = 5,
  NVML_VALUE_TYPE_UNSIGNED_SHORT = 6,
};
static_assert(sizeof(nvmlValueType_t) == sizeof(int));

/// Field ids for nvmlDeviceGetFieldValues.
inline constexpr unsigned NVML_FI_DEV_TOTAL_ENERGY_CONSUMPTION = 83;  ///< mJ since driver load
inline constexpr unsigned NVML_FI_DEV_POWER_AVERAGE = 185;        ///< mW, 1-s average (Ampere except GA100+)
inline constexpr unsigned NVML_FI_DEV_POWER_INSTANT = 186;        ///< mW, current power, all architectures
inline constexpr unsigned NVML_FI_DEV_POWER_CURRENT_LIMIT = 190;  ///< mW, enforced limit
inline constexpr unsigned NVML_FI_DEV_ENERGY = 191;               ///< mJ since driver load

inline constexpr unsigned NVML_DEVICE_NAME_V2_BUFFER_SIZE = 96;
inline constexpr unsigned NVML_DEVICE_UUID_V2_BUFFER_SIZE = 96;
inline constexpr unsigned NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE = 32;
inline constexpr unsigned NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE = 16;
inline constexpr unsigned long long NVML_VALUE_NOT_AVAILABLE = ~0ULL;

/// nvmlDevice_t: an opaque handle.
struct nvmlDevice_st;
using nvmlDevice_t = nvmlDevice_st*;

struct nvmlUtilization_t {
  unsigned int gpu;     ///< percent of time a kernel ran, over the last sample period (1/6 s .. 1 s)
  unsigned int memory;  ///< percent of time device memory was read or written
};
static_assert(sizeof(nvmlUtilization_t) == 8);

struct nvmlProcessUtilizationSample_t {
  unsigned int pid;
  unsigned long long timeStamp;  ///< CPU timestamp, µs since the epoch
  unsigned int smUtil;
  unsigned int memUtil;
  unsigned int encUtil;
  unsigned int decUtil;
};
static_assert(sizeof(nvmlProcessUtilizationSample_t) == 32);
static_assert(offsetof(nvmlProcessUtilizationSample_t, timeStamp) == 8);
static_assert(offsetof(nvmlProcessUtilizationSample_t, smUtil) == 16);
static_assert(offsetof(nvmlProcessUtilizationSample_t, decUtil) == 28);

/// nvmlProcessInfo_v2_t == nvmlProcessInfo_t, filled by nvmlDeviceGetComputeRunningProcesses_v3.
struct nvmlProcessInfo_t {
  unsigned int pid;
  unsigned long long usedGpuMemory;  ///< bytes, or NVML_VALUE_NOT_AVAILABLE
  unsigned int gpuInstanceId;        ///< 0xFFFFFFFF when MIG is disabled
  unsigned int computeInstanceId;    ///< 0xFFFFFFFF when MIG is disabled
};
static_assert(sizeof(nvmlProcessInfo_t) == 24);
static_assert(offsetof(nvmlProcessInfo_t, usedGpuMemory) == 8);
static_assert(offsetof(nvmlProcessInfo_t, gpuInstanceId) == 16);
static_assert(offsetof(nvmlProcessInfo_t, computeInstanceId) == 20);

union nvmlValue_t {
  double dVal;
  int siVal;
  unsigned int uiVal;
  unsigned long ulVal;
  unsigned long long ullVal;
  signed long long sllVal;
  unsigned short usVal;
};
static_assert(sizeof(nvmlValue_t) == 8);

struct nvmlFieldValue_t {
  unsigned int fieldId;
  unsigned int scopeId;  ///< 0 = the GPU only
  long long timestamp;   ///< µs since the epoch
  long long latencyUsec;
  nvmlValueType_t valueType;
  nvmlReturn_t nvmlReturn;  ///< per-entry result: check it, the call succeeds when any entry does
  nvmlValue_t value;
};
static_assert(sizeof(nvmlFieldValue_t) == 40);
static_assert(offsetof(nvmlFieldValue_t, timestamp) == 8);
static_assert(offsetof(nvmlFieldValue_t, latencyUsec) == 16);
static_assert(offsetof(nvmlFieldValue_t, valueType) == 24);
static_assert(offsetof(nvmlFieldValue_t, nvmlReturn) == 28);
static_assert(offsetof(nvmlFieldValue_t, value) == 32);

/// nvmlPciInfo_t as filled by nvmlDeviceGetPciInfo_v3 (and _v2).
struct nvmlPciInfo_t {
  char busIdLegacy[NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE];
  unsigned int domain;
  unsigned int bus;
  unsigned int device;
  unsigned int pciDeviceId;
  unsigned int pciSubSystemId;
  char busId[NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE];  ///< "00000000:3B:00.0"
};
static_assert(sizeof(nvmlPciInfo_t) == 68);
static_assert(offsetof(nvmlPciInfo_t, domain) == 16);
static_assert(offsetof(nvmlPciInfo_t, busId) == 36);

// Function types, named after the symbol (with its version suffix, as dlsym needs it).
using nvmlInit_v2_fn = nvmlReturn_t();
using nvmlShutdown_fn = nvmlReturn_t();
using nvmlErrorString_fn = const char*(nvmlReturn_t result);
using nvmlDeviceGetCount_v2_fn = nvmlReturn_t(unsigned int* deviceCount);
using nvmlDeviceGetHandleByIndex_v2_fn = nvmlReturn_t(unsigned int index, nvmlDevice_t* device);
using nvmlDeviceGetName_fn = nvmlReturn_t(nvmlDevice_t device, char* name, unsigned int length);
using nvmlDeviceGetUUID_fn = nvmlReturn_t(nvmlDevice_t device, char* uuid, unsigned int length);
using nvmlDeviceGetPciInfo_v3_fn = nvmlReturn_t(nvmlDevice_t device, nvmlPciInfo_t* pci);
using nvmlDeviceGetPowerUsage_fn = nvmlReturn_t(nvmlDevice_t device, unsigned int* power_mw);
using nvmlDeviceGetTotalEnergyConsumption_fn = nvmlReturn_t(nvmlDevice_t device,
                                                            unsigned long long* energy_mj);
using nvmlDeviceGetEnforcedPowerLimit_fn = nvmlReturn_t(nvmlDevice_t device, unsigned int* limit_mw);
using nvmlDeviceGetUtilizationRates_fn = nvmlReturn_t(nvmlDevice_t device, nvmlUtilization_t* utilization);
using nvmlDeviceGetProcessUtilization_fn = nvmlReturn_t(nvmlDevice_t device,
                                                        nvmlProcessUtilizationSample_t* utilization,
                                                        unsigned int* processSamplesCount,
                                                        unsigned long long lastSeenTimeStamp);
using nvmlDeviceGetComputeRunningProcesses_v3_fn = nvmlReturn_t(nvmlDevice_t device, unsigned int* infoCount,
                                                                nvmlProcessInfo_t* infos);
using nvmlDeviceGetFieldValues_fn = nvmlReturn_t(nvmlDevice_t device, int valuesCount,
                                                 nvmlFieldValue_t* values);

}  // namespace wattprint::nvml
