// Finding the cgroup of the batch job a run is in, and reading it for the sampler.
#include "cluster/job_attribution.hpp"

#include <fmt/format.h>

namespace wattprint {

GroupUsage CgroupUsageSource::read() {
  const CgroupUsage usage = cgroups_.usage(path_);
  GroupUsage group;
  group.cpu_s = usage.cpu_s;
  group.memory_bytes = usage.memory_bytes;
  if (usage.cpu_s) group.pids = cgroups_.processes(path_);
  return group;
}

RunJobCgroup find_run_job_cgroup(const EnvironmentLookup& environment, const BatchJob& job,
                                 const ProcFs& procfs, pid_t self) {
  RunJobCgroup found;
  found.root = environment("WATTPRINT_CGROUP_ROOT").value_or("/sys/fs/cgroup");
  const CgroupFs cgroups(found.root, procfs);
  const std::string version = cgroups.version() == CgroupVersion::V2 ? "v2" : "v1";
  std::string how;
  if (const auto named = environment("WATTPRINT_JOB_CGROUP"); named && !named->empty()) {
    found.path = *named;
    how = "named by WATTPRINT_JOB_CGROUP";
  } else {
    const auto own = cgroups.job_of(procfs, self, [](uid_t uid) { return std::to_string(uid); });
    if (!own) {
      const auto group = cgroups.cgroup_of(procfs, self);
      found.attribution = fmt::format(
          "process tree: wattprint's cgroup ({}) is not a {} job's group under {} (cgroup {}); set "
          "WATTPRINT_JOB_CGROUP=/path to name it",
          group.value_or("unknown"), job.scheduler, found.root, version);
      return found;
    }
    if (own->job_id != job.job_id) {
      found.attribution =
          fmt::format("process tree: wattprint's cgroup {} belongs to {} job {}, not to job {}", own->path,
                      own->scheduler, own->job_id, job.job_id);
      return found;
    }
    found.path = own->path;
    how = "wattprint's own";
  }
  if (!cgroups.usage(*found.path).cpu_s) {
    found.attribution = fmt::format(
        "process tree: the job's cgroup {} ({}) has no readable CPU time under {} (cgroup {}: {})",
        *found.path, how, found.root, version,
        cgroups.version() == CgroupVersion::V2 ? "cpu.stat usage_usec" : "cpuacct.usage");
    return found;
  }
  found.usable = true;
  found.attribution = fmt::format(
      "job cgroup {} ({}, cgroup {} at {}): CPU time, memory and processes of every task of the job on this "
      "node",
      *found.path, how, version, found.root);
  return found;
}

}  // namespace wattprint
