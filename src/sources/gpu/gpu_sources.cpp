// The GPU families: NVML (NVIDIA) now; more join here.
#include "sources/gpu/gpu_sources.hpp"

namespace wattprint {

std::vector<std::unique_ptr<GpuSource>> open_gpu_sources(const GpuSourceOptions& options) {
  (void)options;
  return {};
}

}  // namespace wattprint
