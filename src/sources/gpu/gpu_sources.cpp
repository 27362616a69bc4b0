// The GPU families: NVML (NVIDIA), else nvidia-smi when NVML cannot be loaded; amdgpu through hwmon.
#include "sources/gpu/gpu_sources.hpp"

#include "sources/amdgpu/amdgpu_hwmon.hpp"
#include "sources/nvml/nvidia_smi.hpp"
#include "sources/nvml/nvml_source.hpp"

namespace wattprint {

std::vector<std::unique_ptr<GpuSource>> open_gpu_sources(const GpuSourceOptions& options) {
  std::vector<std::unique_ptr<GpuSource>> sources;
  auto nvml = std::make_unique<NvmlGpuSource>(options.nvml_library);
  const bool nvml_works = !nvml->sensors().empty();
  sources.push_back(std::move(nvml));
  if (!nvml_works) {
    NvidiaSmiOptions smi;
    smi.executable = options.nvidia_smi;
    sources.push_back(std::make_unique<NvidiaSmiSource>(smi));
  }
  sources.push_back(std::make_unique<AmdgpuHwmonSource>(options.sysfs_root));
  return sources;
}

}  // namespace wattprint
