// A fake cgroup tree (v1 or v2) and the /proc entries that place processes in it, in a temporary
// directory: job groups laid out as Slurm, OAR and systemd lay them out, processes with owners, and
// usage files (CPU time, memory) that tests advance while a reader runs; every write is atomic (a
// temporary file renamed over the old one), so a concurrent reader never sees a torn value.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "cluster/cgroup.hpp"

namespace wattprint::testing {

/// Where a v1 tree keeps CPU accounting: its own "cpuacct" directory, or the "cpu,cpuacct" one that
/// systemd mounts (with "cpu" and "cpuacct" as symbolic links to it, as on Debian and RHEL).
enum class V1CpuLayout { Cpuacct, CpuCommaCpuacct };

class FakeCgroupTree {
 public:
  explicit FakeCgroupTree(CgroupVersion version, V1CpuLayout layout = V1CpuLayout::CpuCommaCpuacct);
  ~FakeCgroupTree();
  FakeCgroupTree(const FakeCgroupTree&) = delete;
  FakeCgroupTree& operator=(const FakeCgroupTree&) = delete;

  /// The cgroup mount point to give CgroupFs (or WATTPRINT_CGROUP_ROOT).
  [[nodiscard]] std::filesystem::path root() const { return base_ / "cgroup"; }
  /// The fake /proc holding <pid>/cgroup and <pid>/status of the processes added.
  [[nodiscard]] std::filesystem::path proc_root() const { return base_ / "proc"; }
  [[nodiscard]] CgroupVersion version() const { return version_; }

  /// Creates the group at `path` ("/a/b", parents included) in every hierarchy, with zero usage.
  void add_group(const std::string& path);
  /// A Slurm job group: v1 /slurm/uid_U/job_N, v2 /system.slice/slurmstepd.scope/job_N. Returns its path.
  std::string add_slurm_job(uid_t uid, const std::string& job_id);
  /// An OAR job group: /oar/USER_JOBID. Returns its path.
  std::string add_oar_job(const std::string& user, const std::string& job_id);
  /// A systemd service: /system.slice/NAME. Returns its path.
  std::string add_service(const std::string& name);
  /// Removes the group (and what is under it) from every hierarchy, as when a job ends.
  void remove_group(const std::string& path);

  /// Puts `pid` in the group (appended to cgroup.procs) and writes <proc>/<pid>/cgroup (the lines the
  /// kernel writes for this version) and <proc>/<pid>/status (Uid: uid uid uid uid).
  void add_process(pid_t pid, const std::string& path, uid_t uid);

  /// Cumulative CPU time of the group: v2 cpu.stat usage_usec, v1 cpuacct.usage (in ns).
  void set_cpu_usec(const std::string& path, std::uint64_t usec);
  /// Current memory of the group: v2 memory.current, v1 memory.usage_in_bytes.
  void set_memory_bytes(const std::string& path, std::uint64_t bytes);
  /// Writes any content to a file of the group in the CPU hierarchy (v1) or the group (v2), atomically.
  void write_cpu_file(const std::string& path, const std::string& file, const std::string& content);
  void write_memory_file(const std::string& path, const std::string& file, const std::string& content);

 private:
  [[nodiscard]] std::vector<std::filesystem::path> hierarchies() const;
  [[nodiscard]] std::filesystem::path cpu_dir(const std::string& path) const;
  [[nodiscard]] std::filesystem::path memory_dir(const std::string& path) const;
  std::filesystem::path base_;
  CgroupVersion version_;
  V1CpuLayout layout_;
};

}  // namespace wattprint::testing
