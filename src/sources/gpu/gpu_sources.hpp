// Opens every GPU family wattprint supports; each reports its own status when absent.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sources/gpu/gpu_source.hpp"

namespace wattprint {

struct GpuSourceOptions {
  std::string nvml_library;         ///< path or name of the NVML library; empty: libnvidia-ml.so.1
  std::string sysfs_root = "/sys";  ///< for amdgpu hwmon
  std::string rocm_smi_library;     ///< path or name of librocm_smi64; empty: librocm_smi64.so.1
  std::string nvidia_smi =
      "nvidia-smi";  ///< the fallback when NVML cannot be loaded: a name in PATH or a path
};

/// One source per GPU family, each with its statuses (found or not, and why).
std::vector<std::unique_ptr<GpuSource>> open_gpu_sources(const GpuSourceOptions& options);

}  // namespace wattprint
