// The command's share of a machine-wide energy: CPU-time share for packages, memory share for DRAM.
#pragma once

#include <algorithm>
#include <cstdint>

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

}  // namespace wattprint
