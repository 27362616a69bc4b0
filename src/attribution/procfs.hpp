// Parsers for /proc files (pid stat, machine stat, meminfo, children) and a reader rooted anywhere.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

#include "platform/text_file.hpp"

namespace wattprint {

/// The fields of /proc/<pid>/stat that attribution needs; times in clock ticks, rss in pages.
struct ProcessStat {
  pid_t pid = 0;
  pid_t ppid = 0;
  char state = '?';
  std::uint64_t utime = 0;
  std::uint64_t stime = 0;
  std::uint64_t cutime = 0;
  std::uint64_t cstime = 0;
  std::uint64_t num_threads = 0;
  std::uint64_t starttime = 0;
  std::uint64_t rss_pages = 0;
};

/// Parses one /proc/<pid>/stat line; the command name may hold spaces and ')', so fields are counted
/// after the last ')'.
std::optional<ProcessStat> parse_process_stat(std::string_view text) noexcept;

/// Machine-wide CPU time from the `cpu` line of /proc/stat, in clock ticks. busy excludes idle and iowait;
/// guest time is already inside user and nice and is not added again.
struct MachineCpuTicks {
  std::uint64_t busy = 0;
  std::uint64_t total = 0;
};
std::optional<MachineCpuTicks> parse_machine_cpu_ticks(std::string_view proc_stat) noexcept;

/// Memory from /proc/meminfo, in bytes. used = total − available.
struct MachineMemory {
  std::uint64_t total_bytes = 0;
  std::uint64_t available_bytes = 0;
  [[nodiscard]] std::uint64_t used_bytes() const {
    return total_bytes > available_bytes ? total_bytes - available_bytes : 0;
  }
};
std::optional<MachineMemory> parse_meminfo(std::string_view text) noexcept;

/// Space-separated PIDs of /proc/<pid>/task/<tid>/children, appended to `out`.
void parse_children(std::string_view text, std::vector<pid_t>& out);

/// Where /proc is (tests point it at fake trees).
class ProcFs {
 public:
  explicit ProcFs(std::filesystem::path root = "/proc") : root_(std::move(root)) {}
  [[nodiscard]] const std::filesystem::path& root() const { return root_; }
  [[nodiscard]] std::optional<ProcessStat> process_stat(pid_t pid) const;
  [[nodiscard]] std::optional<MachineCpuTicks> machine_cpu_ticks() const;
  [[nodiscard]] std::optional<MachineMemory> machine_memory() const;
  /// Direct children of `pid` (all of its threads), or nullopt when the kernel lacks CONFIG_PROC_CHILDREN.
  [[nodiscard]] std::optional<std::vector<pid_t>> children(pid_t pid, std::uint64_t num_threads) const;
  /// Every (pid, ppid) on the machine, by scanning /proc/*/stat (the fallback for children()).
  [[nodiscard]] std::vector<ProcessStat> all_processes() const;

 private:
  std::filesystem::path root_;
};

/// Reads /proc/stat's cpu line and /proc/meminfo through descriptors kept open (one pread each per call;
/// only the first bytes, where the wanted lines are, are read).
class MachineUsageReader {
 public:
  explicit MachineUsageReader(const ProcFs& procfs);
  std::optional<MachineCpuTicks> cpu_ticks() noexcept;
  std::optional<MachineMemory> memory() noexcept;

 private:
  KeptOpenFile stat_;
  KeptOpenFile meminfo_;
};

}  // namespace wattprint
