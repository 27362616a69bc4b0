// A fake libnvidia-ml.so.1 for tests: exports the NVML subset wattprint uses, with C linkage, and answers
// from a scripted trace named by the environment variable WATTPRINT_FAKE_NVML_TRACE (read by nvmlInit_v2;
// unset: nvmlInit_v2 returns NVML_ERROR_DRIVER_NOT_LOADED; malformed: NVML_ERROR_UNKNOWN and the reason on
// stderr).
//
// clang-format off
// Trace format: one directive per line, `#` starts a comment, values with blanks in double quotes.
// Times `at=` are seconds after the origin: the `origin` line, else the moment nvmlInit_v2 ran.
//   origin monotonic_ns=<CLOCK_MONOTONIC ns>     time 0 of every `at=` (lets a test know the truth exactly)
//   init_error <code>                           nvmlInit_v2 returns this nvmlReturn_t (e.g. 9 DRIVER_NOT_LOADED)
//   missing_symbol <name>                       the trace needs a fake build without <name>; if this build
//                                               exports it, nvmlInit_v2 fails (NVML_ERROR_UNKNOWN)
//   gpu <i> name="Tesla T4" uuid=GPU-… bus=00000000:3B:00.0 limit_w=70
//                                               declares GPU i (lines numbered 0, 1, 2 … in order)
//   energy_counter <i> unsupported              nvmlDeviceGetTotalEnergyConsumption: NOT_SUPPORTED (pre-Volta)
//   energy_counter <i> start_mj=<mJ>            the counter's value at the origin (default 0)
//   power <i> at=<s> watts=<W>                  power from `at` on (piecewise constant; 0 W before the first)
//   power_instant <i> unsupported               field 186 answers a per-entry NOT_SUPPORTED (driver < R535)
//   power_usage <i> unsupported                 nvmlDeviceGetPowerUsage: NOT_SUPPORTED
//   utilisation <i> percent=<%>                 nvmlDeviceGetUtilizationRates (without it: NOT_SUPPORTED)
//   process <i> comm=<name> sm=<%>              every live process whose /proc/<pid>/comm is <name> uses GPU i
//                                               at sm % (process utilisation) and holds a compute context
//   process_utilisation <i> unsupported         nvmlDeviceGetProcessUtilization: NOT_SUPPORTED (as with MIG)
//   lost <i> at=<s>                             every call on GPU i returns GPU_IS_LOST from then on
//   no_permission <i>                           nvmlDeviceGetHandleByIndex_v2(i) returns NO_PERMISSION
//
// Semantics: the energy counter is energy_start_mj + floor(exact integral of the power, mJ) — the ground
// truth that Trace::energy_j (fake_nvml_trace.hpp) computes for tests. Power readings (GetPowerUsage and
// field 186, mW as an unsigned int) are the trace's value at the moment of the call (no 1-s averaging).
// Process-utilisation samples lie on a 100 ms grid of CLOCK_REALTIME µs: a call returns one sample per
// matching process, stamped with the latest grid point, when that is newer than lastSeenTimeStamp, else
// NOT_FOUND.
//
// Absent symbols: dlsym can only fail for a symbol the file does not define, so the fake is built more
// than once from this source (tests/CMakeLists.txt) with compile definitions that leave functions out:
//   FAKE_NVML_OMIT_TOTAL_ENERGY        nvmlDeviceGetTotalEnergyConsumption
//   FAKE_NVML_OMIT_FIELD_VALUES        nvmlDeviceGetFieldValues
//   FAKE_NVML_OMIT_RUNNING_PROCESSES   nvmlDeviceGetComputeRunningProcesses_v3
//   FAKE_NVML_OMIT_PROCESS_UTILIZATION nvmlDeviceGetProcessUtilization
// Each variant is its own libnvidia-ml.so.1 in its own directory.
// clang-format on
#include <dirent.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "fakes/fake_nvml_trace.hpp"
#include "sources/nvml/nvml_api.hpp"

using namespace wattprint::nvml;  // NOLINT(google-build-using-namespace)
namespace fake = wattprint::testing::fake_nvml;

// The opaque handle type of the API, defined here: a handle points into the fake's device table.
struct wattprint::nvml::nvmlDevice_st {
  unsigned index = 0;
};

namespace {

constexpr unsigned kMaxGpus = 64;
constexpr unsigned long long kSampleGridUs = 100'000;

struct State {
  std::mutex mutex;
  int init_count = 0;
  fake::Trace trace;
  std::int64_t origin_ns = 0;
  std::array<nvmlDevice_st, kMaxGpus> handles{};
};

State& state() {
  static State s;
  return s;
}

const char* const kOmitted[] = {
#ifdef FAKE_NVML_OMIT_TOTAL_ENERGY
    "nvmlDeviceGetTotalEnergyConsumption",
#endif
#ifdef FAKE_NVML_OMIT_FIELD_VALUES
    "nvmlDeviceGetFieldValues",
#endif
#ifdef FAKE_NVML_OMIT_RUNNING_PROCESSES
    "nvmlDeviceGetComputeRunningProcesses_v3",
#endif
#ifdef FAKE_NVML_OMIT_PROCESS_UTILIZATION
    "nvmlDeviceGetProcessUtilization",
#endif
    nullptr};

bool omitted(const std::string& name) {
  for (const char* const* p = kOmitted; *p != nullptr; ++p) {
    if (name == *p) return true;
  }
  return false;
}

double now_s(const State& s) { return static_cast<double>(fake::monotonic_ns() - s.origin_ns) * 1e-9; }

/// The GPU behind a handle, or the error to return: UNINITIALIZED, INVALID_ARGUMENT or GPU_IS_LOST.
nvmlReturn_t gpu_of(State& s, nvmlDevice_t device, const fake::FakeGpu*& gpu, unsigned& index) {
  if (s.init_count == 0) return NVML_ERROR_UNINITIALIZED;
  if (device == nullptr || device < s.handles.data() || device >= s.handles.data() + s.handles.size()) {
    return NVML_ERROR_INVALID_ARGUMENT;
  }
  index = device->index;
  if (index >= s.trace.gpus.size()) return NVML_ERROR_INVALID_ARGUMENT;
  gpu = &s.trace.gpus[index];
  if (gpu->lost_at_s && now_s(s) >= *gpu->lost_at_s) return NVML_ERROR_GPU_IS_LOST;
  return NVML_SUCCESS;
}

nvmlReturn_t copy_string(const std::string& value, char* out, unsigned length) {
  if (out == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
  if (value.size() + 1 > length) return NVML_ERROR_INSUFFICIENT_SIZE;
  std::memcpy(out, value.c_str(), value.size() + 1);
  return NVML_SUCCESS;
}

unsigned milliwatts_now(const State& s, unsigned index) {
  return static_cast<unsigned>(std::lround(s.trace.power_w(index, now_s(s)) * 1000.0));
}

/// Live processes whose comm matches a `process` line of the GPU, with their SM percentage.
std::vector<std::pair<unsigned, unsigned>> matching_processes(const fake::FakeGpu& gpu) {
  std::vector<std::pair<unsigned, unsigned>> found;
  if (gpu.processes.empty()) return found;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return found;
  while (const dirent* entry = ::readdir(proc)) {
    char* end = nullptr;
    const unsigned long pid = std::strtoul(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0') continue;
    const std::string path = std::string("/proc/") + entry->d_name + "/comm";
    std::FILE* file = std::fopen(path.c_str(), "r");
    if (file == nullptr) continue;
    char comm[64] = {};
    const bool ok = std::fgets(comm, sizeof comm, file) != nullptr;
    std::fclose(file);
    if (!ok) continue;
    comm[std::strcspn(comm, "\n")] = '\0';
    for (const fake::FakeProcess& process : gpu.processes) {
      if (process.comm == comm) {
        found.emplace_back(static_cast<unsigned>(pid), process.sm);
        break;
      }
    }
  }
  ::closedir(proc);
  return found;
}

unsigned long long realtime_us() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<unsigned long long>(ts.tv_sec) * 1'000'000ULL +
         static_cast<unsigned long long>(ts.tv_nsec) / 1000ULL;
}

}  // namespace

#define FAKE_NVML_EXPORT extern "C" __attribute__((visibility("default")))

FAKE_NVML_EXPORT nvmlReturn_t nvmlInit_v2() {
  State& s = state();
  const std::lock_guard lock(s.mutex);
  if (s.init_count > 0) {
    ++s.init_count;
    return NVML_SUCCESS;
  }
  const char* path = std::getenv("WATTPRINT_FAKE_NVML_TRACE");
  if (path == nullptr || *path == '\0') return NVML_ERROR_DRIVER_NOT_LOADED;
  std::string error;
  if (!fake::load_trace(path, s.trace, error)) {
    std::fprintf(stderr, "fake NVML: %s: %s\n", path, error.c_str());
    return NVML_ERROR_UNKNOWN;
  }
  for (const std::string& name : s.trace.missing_symbols) {
    if (!omitted(name)) {
      std::fprintf(stderr, "fake NVML: the trace needs %s absent, but this build of the fake exports it\n",
                   name.c_str());
      return NVML_ERROR_UNKNOWN;
    }
  }
  if (s.trace.init_error != 0) return static_cast<nvmlReturn_t>(s.trace.init_error);
  s.origin_ns = s.trace.origin_monotonic_ns.value_or(fake::monotonic_ns());
  for (unsigned i = 0; i < kMaxGpus; ++i) s.handles[i].index = i;
  s.init_count = 1;
  return NVML_SUCCESS;
}

FAKE_NVML_EXPORT nvmlReturn_t nvmlShutdown() {
  State& s = state();
  const std::lock_guard lock(s.mutex);
  if (s.init_count == 0) return NVML_ERROR_UNINITIALIZED;
  if (--s.init_count == 0) s.trace = fake::Trace{};
  return NVML_SUCCESS;
}

FAKE_NVML_EXPORT const char* nvmlErrorString(nvmlReturn_t result) {
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
    case NVML_ERROR_GPU_IS_LOST:
      return "GPU is lost";
    default:
      return "Unknown Error";
  }
}

FAKE_NVML_EXPORT nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int* deviceCount) {
  State& s = state();
  const std::lock_guard lock(s.mutex);
  if (s.init_count == 0) return NVML_ERROR_UNINITIALIZED;
  if (deviceCount == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
  *deviceCount = static_cast<unsigned>(s.trace.gpus.size());
  return NVML_SUCCESS;
}

FAKE_NVML_EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t* device) {
  State& s = state();
  const std::lock_guard lock(s.mutex);
  if (s.init_count == 0) return NVML_ERROR_UNINITIALIZED;
  if (device == nullptr || index >= s.trace.gpus.size()) return NVML_ERROR_INVALID_ARGUMENT;
  if (s.trace.gpus[index].no_permission) return NVML_ERROR_NO_PERMISSION;
  *device = &s.handles[index];
  return NVML_SUCCESS;
}

FAKE_NVML_EXPORT nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char* name, unsigned int length) {
  State& s = state();
  const std::lock_guard lock(s.mutex);
  const fake::FakeGpu* gpu = nullptr;
  unsigned index = 0;
  if (const nvmlReturn_t r = gpu_of(s, device, gpu, index); r != NVML_SUCCESS) return r;
  return copy_string(gpu->name, name, length);
}

FAKE_NVML_EXPORT nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char* uuid, unsigned int length) {
  State& s = state();
  const std::lock_guard lock(s.mutex);
  const fake::FakeGpu* gpu = nullptr;
  unsigned index = 0;
  if (const nvmlReturn_t r = gpu_of(s, device, gpu, index); r != NVML_SUCCESS) return r;
  return copy_string(gpu->uuid, uuid, length);
}

FAKE_NVML_EXPORT nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t device, nvmlPciInfo_t* pci) {
  State& s = state();
  const std::lock_guard lock(s.mutex);
  const fake::FakeGpu* gpu = nullptr;
  unsigned index = 0;
  if (const nvmlReturn_t r = gpu_of(s, device, gpu, index); r != NVML_SUCCESS) return r;
  if (pci == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
  *pci = nvmlPciInfo_t{};
  std::snprintf(pci->busId, sizeof pci->busId, "%s", gpu->bus.c_str());
  std::snprintf(pci->busIdLegacy, sizeof pci->busIdLegacy, "%s", gpu->bus.c_str());
  return NVML_SUCCESS;
}

FAKE_NVML_EXPORT nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t device, unsigned int* limit) {
  State& s = state();
  const std::lock_guard lock(s.mutex);
  const fake::FakeGpu* gpu = nullptr;
  unsigned index = 0;
  if (const nvmlReturn_t r = gpu_of(s, device, gpu, index); r != NVML_SUCCESS) return r;
  if (limit == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
  if (!gpu->limit_w) return NVML_ERROR_NOT_SUPPORTED;
  *limit = static_cast<unsigned>(std::lround(*gpu->limit_w * 1000.0));
  return NVML_SUCCESS;
}

FAKE_NVML_EXPORT nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int* power) {
  State& s = state();
  const std::lock_guard lock(s.mutex);
  const fake::FakeGpu* gpu = nullptr;
  unsigned index = 0;
  if (const nvmlReturn_t r = gpu_of(s, device, gpu, index); r != NVML_SUCCESS) return r;
  if (power == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
  if (!gpu->power_usage_supported) return NVML_ERROR_NOT_SUPPORTED;
  *power = milliwatts_now(s, index);
  return NVML_SUCCESS;
}

#ifndef FAKE_NVML_OMIT_TOTAL_ENERGY
FAKE_NVML_EXPORT nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t device,
                                                                  unsigned long long* energy) {
  State& s = state();
  const std::lock_guard lock(s.mutex);
  const fake::FakeGpu* gpu = nullptr;
  unsigned index = 0;
  if (const nvmlReturn_t r = gpu_of(s, device, gpu, index); r != NVML_SUCCESS) return r;
  if (energy == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
  if (!gpu->energy_counter_supported) return NVML_ERROR_NOT_SUPPORTED;
  *energy = s.trace.counter_mj(index, now_s(s));
  return NVML_SUCCESS;
}
#endif

#ifndef FAKE_NVML_OMIT_FIELD_VALUES
FAKE_NVML_EXPORT nvmlReturn_t nvmlDeviceGetFieldValues(nvmlDevice_t device, int valuesCount,
                                                       nvmlFieldValue_t* values) {
  State& s = state();
  const std::lock_guard lock(s.mutex);
  const fake::FakeGpu* gpu = nullptr;
  unsigned index = 0;
  if (const nvmlReturn_t r = gpu_of(s, device, gpu, index); r != NVML_SUCCESS) return r;
  if (values == nullptr || valuesCount <= 0) return NVML_ERROR_INVALID_ARGUMENT;
  for (int i = 0; i < valuesCount; ++i) {
    nvmlFieldValue_t& v = values[i];
    v.timestamp = static_cast<long long>(realtime_us());
    v.latencyUsec = 0;
    if (v.fieldId == NVML_FI_DEV_POWER_INSTANT && gpu->power_instant_supported) {
      v.valueType = NVML_VALUE_TYPE_UNSIGNED_INT;
      v.value.uiVal = milliwatts_now(s, index);
      v.nvmlReturn = NVML_SUCCESS;
    } else {
      v.nvmlReturn = NVML_ERROR_NOT_SUPPORTED;
    }
  }
  return NVML_SUCCESS;
}
#endif

FAKE_NVML_EXPORT nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device,
                                                            nvmlUtilization_t* utilization) {
  State& s = state();
  const std::lock_guard lock(s.mutex);
  const fake::FakeGpu* gpu = nullptr;
  unsigned index = 0;
  if (const nvmlReturn_t r = gpu_of(s, device, gpu, index); r != NVML_SUCCESS) return r;
  if (utilization == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
  if (!gpu->utilisation_percent) return NVML_ERROR_NOT_SUPPORTED;
  utilization->gpu = *gpu->utilisation_percent;
  utilization->memory = *gpu->utilisation_percent / 2;
  return NVML_SUCCESS;
}

#ifndef FAKE_NVML_OMIT_PROCESS_UTILIZATION
FAKE_NVML_EXPORT nvmlReturn_t nvmlDeviceGetProcessUtilization(nvmlDevice_t device,
                                                              nvmlProcessUtilizationSample_t* utilization,
                                                              unsigned int* processSamplesCount,
                                                              unsigned long long lastSeenTimeStamp) {
  State& s = state();
  const std::lock_guard lock(s.mutex);
  const fake::FakeGpu* gpu = nullptr;
  unsigned index = 0;
  if (const nvmlReturn_t r = gpu_of(s, device, gpu, index); r != NVML_SUCCESS) return r;
  if (processSamplesCount == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
  if (!gpu->process_utilisation_supported) return NVML_ERROR_NOT_SUPPORTED;
  const unsigned long long stamp = realtime_us() / kSampleGridUs * kSampleGridUs;
  const auto processes = matching_processes(*gpu);
  if (processes.empty() || stamp <= lastSeenTimeStamp) {
    *processSamplesCount = 0;
    return NVML_ERROR_NOT_FOUND;
  }
  const auto needed = static_cast<unsigned>(processes.size());
  if (utilization == nullptr || *processSamplesCount < needed) {
    *processSamplesCount = needed;
    return NVML_ERROR_INSUFFICIENT_SIZE;
  }
  for (unsigned i = 0; i < needed; ++i) {
    utilization[i] = nvmlProcessUtilizationSample_t{processes[i].first, stamp, processes[i].second, 0, 0, 0};
  }
  *processSamplesCount = needed;
  return NVML_SUCCESS;
}
#endif

#ifndef FAKE_NVML_OMIT_RUNNING_PROCESSES
FAKE_NVML_EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device,
                                                                      unsigned int* infoCount,
                                                                      nvmlProcessInfo_t* infos) {
  State& s = state();
  const std::lock_guard lock(s.mutex);
  const fake::FakeGpu* gpu = nullptr;
  unsigned index = 0;
  if (const nvmlReturn_t r = gpu_of(s, device, gpu, index); r != NVML_SUCCESS) return r;
  if (infoCount == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
  const auto processes = matching_processes(*gpu);
  const auto needed = static_cast<unsigned>(processes.size());
  if (needed == 0) {
    *infoCount = 0;
    return NVML_SUCCESS;
  }
  if (infos == nullptr || *infoCount < needed) {
    *infoCount = needed;
    return NVML_ERROR_INSUFFICIENT_SIZE;
  }
  for (unsigned i = 0; i < needed; ++i) {
    infos[i] = nvmlProcessInfo_t{processes[i].first, 256ULL << 20, 0xFFFFFFFFU, 0xFFFFFFFFU};
  }
  *infoCount = needed;
  return NVML_SUCCESS;
}
#endif
