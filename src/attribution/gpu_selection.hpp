// Which GPUs belong to a run: --gpus, else CUDA_VISIBLE_DEVICES, else those the command used, else all.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sources/gpu/gpu_source.hpp"

namespace wattprint {

/// One entry of a device list (CUDA_VISIBLE_DEVICES or --gpus): an index, a GPU UUID (or a unique prefix of
/// one), or a MIG device UUID.
struct GpuListEntry {
  enum class Kind { Index, GpuUuid, MigUuid };
  Kind kind = Kind::Index;
  unsigned index = 0;
  std::string text;  ///< the UUID as written
};

/// Parses a device list as CUDA does: comma-separated; the list ends at the first entry that is not valid
/// (e.g. "0,2,-1,3" is {0, 2}). An empty string names no device.
std::vector<GpuListEntry> parse_gpu_list(const std::string& text);

/// The decision for each device, with the reason shown in reports.
struct GpuSelection {
  std::vector<bool> selected;        ///< parallel to the devices
  std::vector<std::string> reasons;  ///< why each device is in or out
  std::string rule;  ///< "--gpus 0,1", "CUDA_VISIBLE_DEVICES=1", "GPUs used by the command", "all GPUs"
};

/// The GPUs a batch scheduler gave the job on this node, by physical index or UUID (BatchJob::gpus) and where
/// that came from ("SLURM_JOB_GPUS").
struct SchedulerGpus {
  std::string list;
  std::string source;
};

/// `explicit_list`: --gpus; `cuda_visible`: CUDA_VISIBLE_DEVICES (nullopt when unset); `used_by_command[i]`:
/// the command's processes had a context on device i during the run. `scheduler`: the batch job's GPUs,
/// which come after --gpus and before CUDA_VISIBLE_DEVICES (under Slurm the latter counts from 0 within the
/// job's allowed devices, so it does not name physical GPUs).
GpuSelection select_gpus(const std::vector<GpuDevice>& devices,
                         const std::optional<std::string>& explicit_list,
                         const std::optional<std::string>& cuda_visible,
                         const std::vector<bool>& used_by_command,
                         const std::optional<SchedulerGpus>& scheduler = std::nullopt);

}  // namespace wattprint
