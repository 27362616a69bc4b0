// A fake librocm_smi64.so.1 for tests: exports the ROCm SMI subset wattprint uses, with C linkage, and
// answers from a scripted trace named by the environment variable WATTPRINT_FAKE_ROCM_SMI_TRACE (read by
// rsmi_init; unset: rsmi_init returns RSMI_STATUS_INIT_ERROR; malformed: RSMI_STATUS_UNKNOWN_ERROR and the
// reason on stderr).
//
// clang-format off
// Trace format: one directive per line, `#` starts a comment, values with blanks in double quotes.
// Times `at=` are seconds after the origin: the `origin` line, else the moment rsmi_init ran.
//   origin monotonic_ns=<CLOCK_MONOTONIC ns>     time 0 of every `at=` (lets a test know the truth exactly)
//   init_error <code>                           rsmi_init returns this rsmi_status_t (e.g. 8 INIT_ERROR)
//   gpu <i> name="AMD Instinct MI250X" unique_id=0x1234 power_cap_w=560
//                                               declares GPU i (lines numbered 0, 1, 2 … in order)
//   energy_counter <i> unsupported              rsmi_dev_energy_count_get: NOT_SUPPORTED
//   energy_counter <i> resolution_uj=<µJ>       the accumulator's resolution (default 15.3 µJ per count)
//   power <i> at=<s> watts=<W>                  power from `at` on (piecewise constant; 0 W before the first)
//   power_ave <i> unsupported                   rsmi_dev_power_ave_get: NOT_SUPPORTED
//   busy <i> percent=<%>                        rsmi_dev_busy_percent_get (without it: NOT_SUPPORTED)
//   process <i> comm=<name>                     every live process whose /proc/<pid>/comm is <name> has a
//                                               compute queue on GPU i
//
// Semantics: the accumulator is floor(exact integral of the power in µJ / resolution) — the ground truth
// that Trace::counter (fake_rocm_smi_trace.hpp) computes for tests. rsmi_dev_power_ave_get answers the
// trace's power at the moment of the call, in µW (no averaging).
// clang-format on
#include <dirent.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "fakes/fake_rocm_smi_trace.hpp"
#include "sources/amdgpu/rocm_smi_api.hpp"

using namespace wattprint::rocm_smi;  // NOLINT(google-build-using-namespace)
namespace fake = wattprint::testing::fake_rocm_smi;

namespace {

struct State {
  std::mutex mutex;
  int init_count = 0;
  fake::Trace trace;
  std::int64_t origin_ns = 0;
};

State& state() {
  static State s;
  return s;
}

double now_s(const State& s) { return static_cast<double>(fake::monotonic_ns() - s.origin_ns) * 1e-9; }

/// The GPU `index`, or the error to return: INIT_ERROR or INVALID_ARGS.
rsmi_status_t gpu_of(const State& s, std::uint32_t index, const fake::FakeGpu*& gpu) {
  if (s.init_count == 0) return RSMI_STATUS_INIT_ERROR;
  if (index >= s.trace.gpus.size()) return RSMI_STATUS_INVALID_ARGS;
  gpu = &s.trace.gpus[index];
  return RSMI_STATUS_SUCCESS;
}

/// The comm of a live process, empty when it cannot be read.
std::string comm_of(unsigned long pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/comm";
  std::FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) return {};
  char comm[64] = {};
  const bool ok = std::fgets(comm, sizeof comm, file) != nullptr;
  std::fclose(file);
  if (!ok) return {};
  comm[std::strcspn(comm, "\n")] = '\0';
  return comm;
}

bool uses_gpu(const fake::FakeGpu& gpu, const std::string& comm) {
  for (const std::string& c : gpu.process_comms) {
    if (c == comm) return true;
  }
  return false;
}

/// Live processes whose comm matches a `process` line of any GPU.
std::vector<std::uint32_t> matching_processes(const fake::Trace& trace) {
  std::vector<std::uint32_t> found;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return found;
  while (const dirent* entry = ::readdir(proc)) {
    char* end = nullptr;
    const unsigned long pid = std::strtoul(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0') continue;
    const std::string comm = comm_of(pid);
    if (comm.empty()) continue;
    for (const fake::FakeGpu& gpu : trace.gpus) {
      if (uses_gpu(gpu, comm)) {
        found.push_back(static_cast<std::uint32_t>(pid));
        break;
      }
    }
  }
  ::closedir(proc);
  return found;
}

}  // namespace

#define FAKE_RSMI_EXPORT extern "C" __attribute__((visibility("default")))

FAKE_RSMI_EXPORT rsmi_status_t rsmi_init(std::uint64_t /*init_flags*/) {
  State& s = state();
  const std::lock_guard lock(s.mutex);
  if (s.init_count > 0) {
    ++s.init_count;
    return RSMI_STATUS_SUCCESS;
  }
  const char* path = std::getenv("WATTPRINT_FAKE_ROCM_SMI_TRACE");
  if (path == nullptr || *path == '\0') return RSMI_STATUS_INIT_ERROR;
  std::string error;
  if (!fake::load_trace(path, s.trace, error)) {
    std::fprintf(stderr, "fake ROCm SMI: %s: %s\n", path, error.c_str());
    return RSMI_STATUS_UNKNOWN_ERROR;
  }
  if (s.trace.init_error != 0) return static_cast<rsmi_status_t>(s.trace.init_error);
  s.origin_ns = s.trace.origin_monotonic_ns.value_or(fake::monotonic_ns());
  s.init_count = 1;
  return RSMI_STATUS_SUCCESS;
}

FAKE_RSMI_EXPORT rsmi_status_t rsmi_shut_down() {
  State& s = state();
  const std::lock_guard lock(s.mutex);
  if (s.init_count == 0) return RSMI_STATUS_INIT_ERROR;
  if (--s.init_count == 0) s.trace = fake::Trace{};
  return RSMI_STATUS_SUCCESS;
}

FAKE_RSMI_EXPORT rsmi_status_t rsmi_status_string(rsmi_status_t status, const char** status_string) {
  if (status_string == nullptr) return RSMI_STATUS_INVALID_ARGS;
  switch (status) {
    case RSMI_STATUS_SUCCESS:
      *status_string = "RSMI_STATUS_SUCCESS: The function has been executed successfully.";
      break;
    case RSMI_STATUS_NOT_SUPPORTED:
      *status_string = "RSMI_STATUS_NOT_SUPPORTED: The requested information or action is not available";
      break;
    case RSMI_STATUS_PERMISSION:
      *status_string = "RSMI_STATUS_PERMISSION: Permission denied";
      break;
    case RSMI_STATUS_INIT_ERROR:
      *status_string = "RSMI_STATUS_INIT_ERROR: An error occurred during initialization";
      break;
    default:
      *status_string = "RSMI_STATUS_UNKNOWN_ERROR: An unknown error occurred";
      break;
  }
  return RSMI_STATUS_SUCCESS;
}

FAKE_RSMI_EXPORT rsmi_status_t rsmi_num_monitor_devices(std::uint32_t* num_devices) {
  State& s = state();
  const std::lock_guard lock(s.mutex);
  if (s.init_count == 0) return RSMI_STATUS_INIT_ERROR;
  if (num_devices == nullptr) return RSMI_STATUS_INVALID_ARGS;
  *num_devices = static_cast<std::uint32_t>(s.trace.gpus.size());
  return RSMI_STATUS_SUCCESS;
}

FAKE_RSMI_EXPORT rsmi_status_t rsmi_dev_name_get(std::uint32_t dv_ind, char* name, std::size_t len) {
  State& s = state();
  const std::lock_guard lock(s.mutex);
  const fake::FakeGpu* gpu = nullptr;
  if (const rsmi_status_t r = gpu_of(s, dv_ind, gpu); r != RSMI_STATUS_SUCCESS) return r;
  if (name == nullptr || len == 0) return RSMI_STATUS_INVALID_ARGS;
  if (gpu->name.size() + 1 > len) return RSMI_STATUS_INSUFFICIENT_SIZE;
  std::memcpy(name, gpu->name.c_str(), gpu->name.size() + 1);
  return RSMI_STATUS_SUCCESS;
}

FAKE_RSMI_EXPORT rsmi_status_t rsmi_dev_unique_id_get(std::uint32_t dv_ind, std::uint64_t* id) {
  State& s = state();
  const std::lock_guard lock(s.mutex);
  const fake::FakeGpu* gpu = nullptr;
  if (const rsmi_status_t r = gpu_of(s, dv_ind, gpu); r != RSMI_STATUS_SUCCESS) return r;
  if (id == nullptr) return RSMI_STATUS_INVALID_ARGS;
  if (gpu->unique_id == 0) return RSMI_STATUS_NOT_SUPPORTED;
  *id = gpu->unique_id;
  return RSMI_STATUS_SUCCESS;
}

FAKE_RSMI_EXPORT rsmi_status_t rsmi_dev_power_ave_get(std::uint32_t dv_ind, std::uint32_t sensor_ind,
                                                      std::uint64_t* power) {
  State& s = state();
  const std::lock_guard lock(s.mutex);
  const fake::FakeGpu* gpu = nullptr;
  if (const rsmi_status_t r = gpu_of(s, dv_ind, gpu); r != RSMI_STATUS_SUCCESS) return r;
  if (power == nullptr || sensor_ind != 0) return RSMI_STATUS_INVALID_ARGS;
  if (!gpu->power_ave_supported) return RSMI_STATUS_NOT_SUPPORTED;
  *power = static_cast<std::uint64_t>(std::llround(s.trace.power_w(dv_ind, now_s(s)) * 1e6));
  return RSMI_STATUS_SUCCESS;
}

FAKE_RSMI_EXPORT rsmi_status_t rsmi_dev_energy_count_get(std::uint32_t dv_ind, std::uint64_t* power,
                                                         float* counter_resolution,
                                                         std::uint64_t* timestamp) {
  State& s = state();
  const std::lock_guard lock(s.mutex);
  const fake::FakeGpu* gpu = nullptr;
  if (const rsmi_status_t r = gpu_of(s, dv_ind, gpu); r != RSMI_STATUS_SUCCESS) return r;
  if (power == nullptr || counter_resolution == nullptr || timestamp == nullptr)
    return RSMI_STATUS_INVALID_ARGS;
  if (!gpu->energy_counter_supported) return RSMI_STATUS_NOT_SUPPORTED;
  const std::int64_t now = fake::monotonic_ns();
  *power = s.trace.counter(dv_ind, static_cast<double>(now - s.origin_ns) * 1e-9);
  *counter_resolution = gpu->resolution_uj;
  *timestamp = static_cast<std::uint64_t>(now);
  return RSMI_STATUS_SUCCESS;
}

FAKE_RSMI_EXPORT rsmi_status_t rsmi_dev_power_cap_get(std::uint32_t dv_ind, std::uint32_t sensor_ind,
                                                      std::uint64_t* cap) {
  State& s = state();
  const std::lock_guard lock(s.mutex);
  const fake::FakeGpu* gpu = nullptr;
  if (const rsmi_status_t r = gpu_of(s, dv_ind, gpu); r != RSMI_STATUS_SUCCESS) return r;
  if (cap == nullptr || sensor_ind != 0) return RSMI_STATUS_INVALID_ARGS;
  if (!gpu->power_cap_w) return RSMI_STATUS_NOT_SUPPORTED;
  *cap = static_cast<std::uint64_t>(std::llround(*gpu->power_cap_w * 1e6));
  return RSMI_STATUS_SUCCESS;
}

FAKE_RSMI_EXPORT rsmi_status_t rsmi_dev_busy_percent_get(std::uint32_t dv_ind, std::uint32_t* busy_percent) {
  State& s = state();
  const std::lock_guard lock(s.mutex);
  const fake::FakeGpu* gpu = nullptr;
  if (const rsmi_status_t r = gpu_of(s, dv_ind, gpu); r != RSMI_STATUS_SUCCESS) return r;
  if (busy_percent == nullptr) return RSMI_STATUS_INVALID_ARGS;
  if (!gpu->busy_percent) return RSMI_STATUS_NOT_SUPPORTED;
  *busy_percent = *gpu->busy_percent;
  return RSMI_STATUS_SUCCESS;
}

FAKE_RSMI_EXPORT rsmi_status_t rsmi_compute_process_info_get(rsmi_process_info_t* procs,
                                                             std::uint32_t* num_items) {
  State& s = state();
  const std::lock_guard lock(s.mutex);
  if (s.init_count == 0) return RSMI_STATUS_INIT_ERROR;
  if (num_items == nullptr) return RSMI_STATUS_INVALID_ARGS;
  const std::vector<std::uint32_t> pids = matching_processes(s.trace);
  if (procs == nullptr) {
    *num_items = static_cast<std::uint32_t>(pids.size());
    return RSMI_STATUS_SUCCESS;
  }
  const std::size_t written = std::min<std::size_t>(*num_items, pids.size());
  for (std::size_t k = 0; k < written; ++k) {
    procs[k] = rsmi_process_info_t{};
    procs[k].process_id = pids[k];
  }
  *num_items = static_cast<std::uint32_t>(written);
  return written < pids.size() ? RSMI_STATUS_INSUFFICIENT_SIZE : RSMI_STATUS_SUCCESS;
}

FAKE_RSMI_EXPORT rsmi_status_t rsmi_compute_process_gpus_get(std::uint32_t pid, std::uint32_t* dv_indices,
                                                             std::uint32_t* num_devices) {
  State& s = state();
  const std::lock_guard lock(s.mutex);
  if (s.init_count == 0) return RSMI_STATUS_INIT_ERROR;
  if (num_devices == nullptr) return RSMI_STATUS_INVALID_ARGS;
  const std::string comm = comm_of(pid);
  if (comm.empty()) return RSMI_STATUS_NOT_FOUND;
  std::vector<std::uint32_t> used;
  for (std::size_t i = 0; i < s.trace.gpus.size(); ++i) {
    if (uses_gpu(s.trace.gpus[i], comm)) used.push_back(static_cast<std::uint32_t>(i));
  }
  if (used.empty()) return RSMI_STATUS_NOT_FOUND;
  if (dv_indices != nullptr) {
    const std::size_t written = std::min<std::size_t>(*num_devices, used.size());
    std::copy_n(used.begin(), written, dv_indices);
  }
  *num_devices = static_cast<std::uint32_t>(used.size());
  return RSMI_STATUS_SUCCESS;
}
