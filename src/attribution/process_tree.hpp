// CPU time and resident memory of every descendant of the monitor (the command's process tree).
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "attribution/procfs.hpp"

namespace wattprint {

/// Usage of the tree at one instant. cpu_s is cumulative since the command started.
struct TreeUsage {
  double cpu_s = 0.0;
  std::uint64_t rss_bytes = 0;
  std::size_t processes = 0;
};

/// Follows the descendants of `monitor_pid`, which must be a child subreaper (PR_SET_CHILD_SUBREAPER)
/// so that orphans stay in the tree. CPU time of the tree =
///   Σ over live descendants (utime + stime + cutime + cstime)  +  rusage of those the monitor reaped.
/// When a descendant exits and its parent (in the tree) waits for it, its time moves into the parent's
/// cutime/cstime, so the sum never loses it; those the monitor reaps come through record_reaped().
class ProcessTreeMonitor {
 public:
  ProcessTreeMonitor(ProcFs procfs, pid_t monitor_pid);

  /// Walks the tree now. Takes reap_mutex() so that a concurrent reap is counted exactly once.
  TreeUsage sample();

  /// Adds the CPU time and peak RSS of a child the monitor has reaped; call with reap_mutex() held.
  void record_reaped(const struct rusage& usage);

  /// Follows another process and its descendants too (a rank that joined this node's measurer:
  /// docs/clusters.md). Its CPU time counts its own, its live descendants' and its reaped children's (its
  /// cutime), so a member's command is counted after the member reaped it. Thread-safe.
  void add_root(pid_t pid);
  /// The extra root said it is about to exit, having used `cpu_s` with its reaped children: once it is gone
  /// the tree keeps the larger of this and what the last sample saw of it. Thread-safe.
  void root_leaving(pid_t pid, double cpu_s);

  std::mutex& reap_mutex() { return mutex_; }
  /// The live processes of the tree at the last sample(), sorted (for matching GPU process lists).
  [[nodiscard]] const std::vector<pid_t>& last_pids() const { return pids_; }
  /// Largest single-process RSS reported by reaped children (ru_maxrss), in bytes.
  [[nodiscard]] std::uint64_t reaped_max_rss_bytes() const { return reaped_max_rss_bytes_; }
  /// False when /proc/<pid>/task/<tid>/children is missing and the slower /proc scan is used.
  [[nodiscard]] bool uses_children_files() const { return use_children_files_; }

 private:
  void collect_descendants_by_scan(std::vector<ProcessStat>& out) const;

  /// Files of a process of the tree, kept open between samples (a descriptor of /proc/<pid> keeps pointing
  /// at that process: after it is reaped, reads fail instead of reaching a new process with the same pid).
  struct TrackedProcess {
    KeptOpenFile stat;
    KeptOpenFile children;  ///< of its main thread; used while it has one thread
    std::uint64_t generation = 0;
  };
  static constexpr std::size_t kMaxTrackedProcesses = 256;  ///< beyond this, files are opened per read
  std::optional<ProcessStat> read_stat(pid_t pid, TrackedProcess* tracked);
  void append_children(pid_t pid, const ProcessStat& stat, TrackedProcess* tracked);

  ProcFs procfs_;
  pid_t monitor_pid_;
  KeptOpenFile own_children_;  ///< the monitor's main thread: it forks the command and receives orphans
  std::unordered_map<pid_t, TrackedProcess> tracked_;
  std::uint64_t generation_ = 0;
  double ticks_per_second_;
  std::uint64_t page_size_;
  bool use_children_files_ = true;
  std::mutex mutex_;
  double reaped_cpu_s_ = 0.0;
  struct ExtraRoot {
    pid_t pid = 0;
    double last_cpu_s = 0.0;              ///< at the last sample
    std::optional<double> leaving_cpu_s;  ///< what it said when leaving
  };
  std::vector<ExtraRoot> extra_roots_;
  double departed_roots_cpu_s_ = 0.0;  ///< extra roots that are gone
  std::uint64_t reaped_max_rss_bytes_ = 0;
  std::vector<pid_t> frontier_;  // reused between samples: no allocation once warm
  std::vector<pid_t> pids_;
};

}  // namespace wattprint
