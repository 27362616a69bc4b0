// Process-tree accounting from /proc: CPU seconds (ticks / CLK_TCK) and RSS bytes (pages × page size).
#include "attribution/process_tree.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <string>
#include <unordered_map>

namespace wattprint {

ProcessTreeMonitor::ProcessTreeMonitor(ProcFs procfs, pid_t monitor_pid)
    : procfs_(std::move(procfs)),
      monitor_pid_(monitor_pid),
      ticks_per_second_(static_cast<double>(::sysconf(_SC_CLK_TCK))),
      page_size_(static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE))) {
  const std::string pid = std::to_string(monitor_pid_);
  own_children_ = KeptOpenFile(procfs_.root() / pid / "task" / pid / "children");
  use_children_files_ = own_children_.is_open();
}

std::optional<ProcessStat> ProcessTreeMonitor::read_stat(pid_t pid, TrackedProcess* tracked) {
  if (tracked == nullptr) return procfs_.process_stat(pid);
  std::array<char, 1024> buffer{};
  std::size_t size = 0;
  if (tracked->stat.read_prefix(buffer.data(), buffer.size(), size) != 0) return std::nullopt;
  return parse_process_stat(std::string_view(buffer.data(), size));
}

void ProcessTreeMonitor::append_children(pid_t pid, const ProcessStat& stat, TrackedProcess* tracked) {
  if (tracked != nullptr && stat.num_threads <= 1) {
    std::array<char, 4096> buffer{};
    std::size_t size = 0;
    if (tracked->children.read_prefix(buffer.data(), buffer.size(), size) == 0 && size < buffer.size()) {
      parse_children(std::string_view(buffer.data(), size), frontier_);
      return;
    }
  }
  if (auto kids = procfs_.children(pid, stat.num_threads))
    frontier_.insert(frontier_.end(), kids->begin(), kids->end());
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

void ProcessTreeMonitor::add_root(pid_t pid) {
  const std::lock_guard lock(mutex_);
  if (pid <= 0 || pid == monitor_pid_) return;
  for (const ExtraRoot& root : extra_roots_) {
    if (root.pid == pid) return;
  }
  extra_roots_.push_back({pid, 0.0, std::nullopt});
}

void ProcessTreeMonitor::root_leaving(pid_t pid, double cpu_s) {
  const std::lock_guard lock(mutex_);
  for (ExtraRoot& root : extra_roots_) {
    if (root.pid == pid) root.leaving_cpu_s = cpu_s;
  }
}

TreeUsage ProcessTreeMonitor::sample() {
  const std::lock_guard lock(mutex_);
  TreeUsage usage;
  std::uint64_t ticks = 0;
  std::uint64_t pages = 0;
  pids_.clear();
  const auto add = [&](const ProcessStat& stat) {
    pids_.push_back(stat.pid);
    ticks += stat.utime + stat.stime + stat.cutime + stat.cstime;
    if (stat.state != 'Z') pages += stat.rss_pages;
    ++usage.processes;
  };
  if (use_children_files_) {
    ++generation_;
    frontier_.clear();
    std::array<char, 4096> buffer{};
    std::size_t size = 0;
    if (own_children_.read_prefix(buffer.data(), buffer.size(), size) == 0 && size < buffer.size()) {
      parse_children(std::string_view(buffer.data(), size), frontier_);
    } else if (auto direct = procfs_.children(monitor_pid_, 1)) {
      frontier_ = std::move(*direct);
    }
    const auto walk = [&] {
      while (!frontier_.empty()) {
        const pid_t pid = frontier_.back();
        frontier_.pop_back();
        auto it = tracked_.find(pid);
        if (it == tracked_.end() && tracked_.size() < kMaxTrackedProcesses) {
          const std::filesystem::path dir = procfs_.root() / std::to_string(pid);
          TrackedProcess process{KeptOpenFile(dir / "stat"),
                                 KeptOpenFile(dir / "task" / std::to_string(pid) / "children"), 0};
          it = tracked_.emplace(pid, std::move(process)).first;
        }
        TrackedProcess* tracked = it == tracked_.end() ? nullptr : &it->second;
        const auto stat = read_stat(pid, tracked);
        if (!stat)
          continue;  // exited between the two reads; its time is in its parent's cutime or our rusage
        if (tracked != nullptr) tracked->generation = generation_;
        add(*stat);
        append_children(pid, *stat, tracked);
      }
    };
    walk();
    // Ranks that joined this measurer: each subtree apart, so that a departed one keeps its last total.
    for (ExtraRoot& root : extra_roots_) {
      const std::uint64_t before = ticks;
      const std::size_t processes_before = usage.processes;
      frontier_.assign(1, root.pid);
      walk();
      if (usage.processes == processes_before) {  // gone (its stat could not be read)
        departed_roots_cpu_s_ += std::max(root.last_cpu_s, root.leaving_cpu_s.value_or(0.0));
        root.pid = 0;
        continue;
      }
      root.last_cpu_s = static_cast<double>(ticks - before) / ticks_per_second_;
    }
    std::erase_if(extra_roots_, [](const ExtraRoot& root) { return root.pid == 0; });
    std::erase_if(tracked_, [this](const auto& entry) { return entry.second.generation != generation_; });
  } else {
    std::vector<ProcessStat> descendants;
    collect_descendants_by_scan(descendants);
    for (const ProcessStat& stat : descendants) add(stat);
  }
  std::sort(pids_.begin(), pids_.end());
  usage.cpu_s = static_cast<double>(ticks) / ticks_per_second_ + reaped_cpu_s_ + departed_roots_cpu_s_;
  usage.rss_bytes = pages * page_size_;
  return usage;
}

}  // namespace wattprint
