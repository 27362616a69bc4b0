// Process-tree accounting from /proc: CPU seconds (ticks / CLK_TCK) and RSS bytes (pages × page size).
#include "attribution/process_tree.hpp"

#include <unistd.h>

#include <unordered_map>

namespace wattprint {

ProcessTreeMonitor::ProcessTreeMonitor(ProcFs procfs, pid_t monitor_pid)
    : procfs_(std::move(procfs)),
      monitor_pid_(monitor_pid),
      ticks_per_second_(static_cast<double>(::sysconf(_SC_CLK_TCK))),
      page_size_(static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE))) {
  const auto self = procfs_.process_stat(monitor_pid_);
  use_children_files_ = procfs_.children(monitor_pid_, self ? self->num_threads : 2).has_value();
}

void ProcessTreeMonitor::record_reaped(const struct rusage& usage) {
  const auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) * 1e-6;
  };
  reaped_cpu_s_ += seconds(usage.ru_utime) + seconds(usage.ru_stime);
  const auto max_rss = static_cast<std::uint64_t>(usage.ru_maxrss > 0 ? usage.ru_maxrss : 0) * 1024U;
  if (max_rss > reaped_max_rss_bytes_) reaped_max_rss_bytes_ = max_rss;
}

void ProcessTreeMonitor::collect_descendants_by_scan(std::vector<ProcessStat>& out) const {
  const std::vector<ProcessStat> all = procfs_.all_processes();
  std::unordered_multimap<pid_t, const ProcessStat*> by_parent;
  for (const ProcessStat& p : all) by_parent.emplace(p.ppid, &p);
  std::vector<pid_t> frontier{monitor_pid_};
  while (!frontier.empty()) {
    const pid_t parent = frontier.back();
    frontier.pop_back();
    const auto [first, last] = by_parent.equal_range(parent);
    for (auto it = first; it != last; ++it) {
      out.push_back(*it->second);
      frontier.push_back(it->second->pid);
    }
  }
}

TreeUsage ProcessTreeMonitor::sample() {
  const std::lock_guard lock(mutex_);
  TreeUsage usage;
  std::uint64_t ticks = 0;
  std::uint64_t pages = 0;
  const auto add = [&](const ProcessStat& stat) {
    ticks += stat.utime + stat.stime + stat.cutime + stat.cstime;
    if (stat.state != 'Z') pages += stat.rss_pages;
    ++usage.processes;
  };
  if (use_children_files_) {
    frontier_.clear();
    const auto self = procfs_.process_stat(monitor_pid_);
    children_.clear();
    if (auto direct = procfs_.children(monitor_pid_, self ? self->num_threads : 2)) {
      frontier_ = std::move(*direct);
    }
    while (!frontier_.empty()) {
      const pid_t pid = frontier_.back();
      frontier_.pop_back();
      const auto stat = procfs_.process_stat(pid);
      if (!stat) continue;  // exited between the two reads; its time is in its parent's cutime or our rusage
      add(*stat);
      if (auto kids = procfs_.children(pid, stat->num_threads)) {
        frontier_.insert(frontier_.end(), kids->begin(), kids->end());
      }
    }
  } else {
    std::vector<ProcessStat> descendants;
    collect_descendants_by_scan(descendants);
    for (const ProcessStat& stat : descendants) add(stat);
  }
  usage.cpu_s = static_cast<double>(ticks) / ticks_per_second_ + reaped_cpu_s_;
  usage.rss_bytes = pages * page_size_;
  return usage;
}

}  // namespace wattprint
