// The GPU families: NVML (NVIDIA), else nvidia-smi; ROCm SMI (AMD), else amdgpu through hwmon.
#include "sources/gpu/gpu_sources.hpp"

#include "sources/amdgpu/amdgpu_hwmon.hpp"
#include "sources/amdgpu/rocm_smi_source.hpp"
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
  // AMD: ROCm SMI when it finds GPUs, else amdgpu's hwmon files (never both: the same GPUs).
  auto rocm = std::make_unique<RocmSmiGpuSource>(options.rocm_smi_library);
  const bool rocm_works = !rocm->sensors().empty();
  sources.push_back(std::move(rocm));
  if (!rocm_works) sources.push_back(std::make_unique<AmdgpuHwmonSource>(options.sysfs_root));
  return sources;
}

}  // namespace wattprint
