// The GPU families: NVML (NVIDIA); more join here.
#include "sources/gpu/gpu_sources.hpp"

#include "sources/nvml/nvml_source.hpp"

namespace wattprint {

std::vector<std::unique_ptr<GpuSource>> open_gpu_sources(const GpuSourceOptions& options) {
  std::vector<std::unique_ptr<GpuSource>> sources;
  sources.push_back(std::make_unique<NvmlGpuSource>(options.nvml_library));
  return sources;
}

}  // namespace wattprint
