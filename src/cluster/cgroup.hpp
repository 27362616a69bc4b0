// Control groups: where a process is, what a group used (CPU time, memory), and the batch jobs and services
// found in the tree. cgroup v2 (unified) and v1 (cpuacct, memory controllers) both; the roots are injectable.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "attribution/procfs.hpp"

namespace wattprint {

enum class CgroupVersion { V1, V2 };

/// Cumulative CPU time and current memory of one cgroup (all its descendants included, as the kernel
/// counts them). nullopt: the controller is not there or the file could not be read.
struct CgroupUsage {
  std::optional<double> cpu_s;                ///< v2 cpu.stat usage_usec; v1 cpuacct.usage (ns)
  std::optional<std::uint64_t> memory_bytes;  ///< v2 memory.current; v1 memory.usage_in_bytes
};

/// A group that stands for a job or a service.
struct JobCgroup {
  std::string scheduler;  ///< "slurm", "oar" or "systemd"
  std::string job_id;     ///< Slurm/OAR job id, or the unit's name ("nginx.service")
  /// Owner: Slurm v1 from the uid in the path, OAR from the group's name, otherwise (Slurm v2, systemd) the
  /// real uid of the first process in the group not owned by root (root when every process is root's), from
  /// <procfs>/PID/status. Empty when the group has no readable process.
  std::string user;
  std::string path;  ///< cgroup path relative to the hierarchy root, starting with "/"
};

/// Maps a uid to a user name (tests pass a table); returns the number as text when unknown.
using UserNameLookup = std::function<std::string(uid_t)>;
UserNameLookup system_user_names();

class CgroupFs {
 public:
  /// `root`: where cgroups are mounted (/sys/fs/cgroup). Detects v2 (cgroup.controllers at the root) or v1
  /// (anything else; controller directories "cpuacct", "cpu,cpuacct" or "cpuacct,cpu", "memory", and the
  /// "systemd" (name=systemd) and "cpuset" hierarchies for finding jobs). `procfs` is where the owners of
  /// processes are read (find_jobs, job_of).
  explicit CgroupFs(std::filesystem::path root = "/sys/fs/cgroup", ProcFs procfs = ProcFs{});
  [[nodiscard]] CgroupVersion version() const { return version_; }
  [[nodiscard]] const std::filesystem::path& root() const { return root_; }

  /// The cgroup of `pid` from <procfs>/<pid>/cgroup: the unified ("0::") path on v2, the cpuacct
  /// controller's path on v1. nullopt when the process is gone or the file says nothing usable.
  [[nodiscard]] std::optional<std::string> cgroup_of(const ProcFs& procfs, pid_t pid) const;

  /// CPU time and memory of the group at `path` (relative, "/…").
  [[nodiscard]] CgroupUsage usage(const std::string& path) const;
  /// Every process in the group and its descendants (cgroup.procs, recursively), sorted.
  [[nodiscard]] std::vector<pid_t> processes(const std::string& path) const;

  /// The Slurm jobs, OAR jobs and systemd services in the tree, sorted by path (Slurm: .../slurm*/uid_U/job_N
  /// on v1, .../*slurmstepd.scope/job_N on v2; OAR: .../oar/USER_JOBID; systemd: *.service directly under
  /// system.slice). On v1 the CPU, memory, cpuset and name=systemd hierarchies are all searched (a group is
  /// listed once). Groups inside a job (steps, tasks) are not listed. Groups vanishing during the walk are
  /// skipped.
  [[nodiscard]] std::vector<JobCgroup> find_jobs(const UserNameLookup& users) const;

  /// The job or service the group at `path` (relative, "/…") is or is inside of, from the path alone
  /// (user filled as in find_jobs); nullopt when no ancestor matches a job layout.
  [[nodiscard]] std::optional<JobCgroup> job_at(const std::string& path, const UserNameLookup& users) const;

  /// The job group `pid` runs in (its cgroup or the nearest enclosing job group), if any.
  [[nodiscard]] std::optional<JobCgroup> job_of(const ProcFs& procfs, pid_t pid,
                                                const UserNameLookup& users) const;

 private:
  std::filesystem::path root_;
  CgroupVersion version_ = CgroupVersion::V2;
  std::filesystem::path cpu_dir_;     ///< the hierarchy holding CPU accounting (root on v2)
  std::filesystem::path memory_dir_;  ///< the hierarchy holding memory accounting (root on v2)
  ProcFs procfs_;
  /// v1: every hierarchy that may hold job groups, in the order they are searched (CPU, memory, cpuset,
  /// name=systemd), those present only. v2: the root.
  std::vector<std::filesystem::path> hierarchies_;
  [[nodiscard]] std::string owner_of_processes(const std::string& path, const ProcFs& procfs,
                                               const UserNameLookup& users) const;
};

}  // namespace wattprint
