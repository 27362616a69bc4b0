// A run inside a batch job attributes machine-wide energy through the job's cgroup: every process of the
// job on this node (all its ranks) instead of the command's own process tree.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "cluster/batch_job.hpp"
#include "cluster/cgroup.hpp"
#include "sampling/run_sampler.hpp"

namespace wattprint {

/// The usage of one cgroup, for RunSampler::attach_group: CPU time, memory and processes, read each interval.
class CgroupUsageSource final : public GroupUsageSource {
 public:
  CgroupUsageSource(CgroupFs cgroups, std::string path)
      : cgroups_(std::move(cgroups)), path_(std::move(path)) {}
  GroupUsage read() override;
  [[nodiscard]] std::string description() const override { return "job cgroup " + path_; }

 private:
  CgroupFs cgroups_;
  std::string path_;
};

/// The cgroup a run in `job` attributes through, or why it uses its process tree instead.
struct RunJobCgroup {
  std::optional<std::string> path;  ///< the job's group (recorded in BatchJob::cgroup), when found
  bool usable = false;              ///< found and its CPU time readable
  std::string root;                 ///< the cgroup mount point used
  std::string attribution;  ///< "job cgroup /… (…)" or "process tree: REASON" (BatchJob::attribution)
};

/// Finds the job's group: the environment's WATTPRINT_JOB_CGROUP names it (tests, containers where
/// wattprint's own group is not the job's), else the job group wattprint's own process `self` is in
/// (CgroupFs::job_of through `procfs`), which must be the same job id as `job`. The hierarchy is
/// WATTPRINT_CGROUP_ROOT, else /sys/fs/cgroup.
RunJobCgroup find_run_job_cgroup(const EnvironmentLookup& environment, const BatchJob& job,
                                 const ProcFs& procfs, pid_t self);

}  // namespace wattprint
