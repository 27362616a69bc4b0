// The command's share of a machine-wide energy: CPU-time share for packages, memory share for DRAM.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "sources/gpu/gpu_source.hpp"

namespace wattprint {

/// Share of the machine's busy CPU time used by the tree over one interval, clamped to [0, 1].
/// Both deltas in seconds. No machine activity: the tree gets everything if it ran, nothing otherwise.
constexpr double cpu_time_share(double tree_cpu_delta_s, double machine_busy_delta_s) {
  if (tree_cpu_delta_s <= 0.0) return 0.0;
  if (machine_busy_delta_s <= 0.0) return 1.0;
  return std::clamp(tree_cpu_delta_s / machine_busy_delta_s, 0.0, 1.0);
}

/// Share of the machine's used memory (MemTotal − MemAvailable) held by the tree (RSS), clamped to [0, 1].
constexpr double memory_share(std::uint64_t tree_rss_bytes, std::uint64_t machine_used_bytes) {
  if (tree_rss_bytes == 0) return 0.0;
  if (machine_used_bytes == 0) return 1.0;
  return std::clamp(static_cast<double>(tree_rss_bytes) / static_cast<double>(machine_used_bytes), 0.0, 1.0);
}

/// The tree's share of one GPU over an interval: its processes' SM utilisation over all processes' when the
/// device reports per-process utilisation, else its share of the processes present (the whole GPU when the
/// command is its only user). `tree_pids` must be sorted. `tree_present` tells whether the tree used it.
inline double gpu_share(const GpuActivity& activity, const std::vector<pid_t>& tree_pids,
                        bool& tree_present) {
  double tree_sm = 0.0;
  double all_sm = 0.0;
  std::size_t tree_count = 0;
  for (const GpuProcessUse& use : activity.processes) {
    const bool mine = std::binary_search(tree_pids.begin(), tree_pids.end(), use.pid);
    all_sm += use.sm_percent;
    if (mine) {
      tree_sm += use.sm_percent;
      ++tree_count;
    }
  }
  tree_present = tree_count > 0;
  if (!tree_present) return 0.0;
  if (activity.per_process_utilisation && all_sm > 0.0) return std::clamp(tree_sm / all_sm, 0.0, 1.0);
  return static_cast<double>(tree_count) / static_cast<double>(activity.processes.size());
}

}  // namespace wattprint
