// The batch job a run belongs to (Slurm, OAR), read from the environment the scheduler gives each task.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace wattprint {

/// What the scheduler says about the job, as recorded in the report (`job` in the JSON).
struct BatchJob {
  std::string scheduler;      ///< "slurm" or "oar"
  std::string job_id;         ///< SLURM_JOB_ID ("4242"; an array task keeps its own id) / OAR_JOB_ID
  std::string step_id;        ///< SLURM_STEP_ID ("0", "batch", "extern"); empty for OAR and outside a step
  std::string array_job_id;   ///< SLURM_ARRAY_JOB_ID / OAR_ARRAY_ID, empty otherwise
  std::string array_task_id;  ///< SLURM_ARRAY_TASK_ID / OAR_ARRAY_INDEX
  std::string name;           ///< SLURM_JOB_NAME / OAR_JOB_NAME
  std::string user;           ///< SLURM_JOB_USER / OAR_USER (else the process's user)
  std::string account;        ///< SLURM_JOB_ACCOUNT / OAR_PROJECT_NAME
  std::string partition;      ///< SLURM_JOB_PARTITION / OAR_JOB_QUEUE... (empty when unknown)
  std::vector<std::string>
      nodes;                      ///< the job's nodes, expanded (SLURM_JOB_NODELIST "n[01-03]"; OAR_NODEFILE)
  std::optional<int> task_count;  ///< SLURM_NTASKS / lines of OAR_NODEFILE
  std::optional<int> task_rank;   ///< SLURM_PROCID
  std::optional<int> local_rank;  ///< SLURM_LOCALID
  /// GPUs the job may use on this node, as the scheduler lists them (SLURM_JOB_GPUS / SLURM_STEP_GPUS /
  /// GPU_DEVICE_ORDINAL for Slurm, the gpu resources of OAR_RESOURCE_PROPERTIES_FILE for this host);
  /// nullopt when the scheduler says nothing about GPUs.
  std::optional<std::string> gpus;
  std::string gpus_source;  ///< the variable or file `gpus` came from
  /// The job's cgroup on this node (e.g. "/system.slice/slurmstepd.scope/job_4242"), when it has one.
  std::optional<std::string> cgroup;
  /// How the run attributed machine-wide energy: "job cgroup /…" or "process tree" (with the reason).
  std::string attribution;
};

/// Reads a variable of the environment (tests pass a map).
using EnvironmentLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvironmentLookup process_environment();

/// The job this process runs in, or nullopt outside a batch job. Files named by the environment
/// (OAR_NODEFILE, OAR_RESOURCE_PROPERTIES_FILE) are read; unreadable ones leave their fields empty.
/// `hostname` picks this node's lines from OAR's files.
std::optional<BatchJob> detect_batch_job(const EnvironmentLookup& environment, const std::string& hostname);

/// Expands a Slurm hostlist ("n[01-03,7],gpu1" → n01 n02 n03 n7 gpu1). Throws std::invalid_argument on
/// malformed text.
std::vector<std::string> expand_hostlist(const std::string& hostlist);

/// Expands the placeholders of an output file name, so that every node and task of a job writes its own:
///   %h short host name, %H full host name, %j job id ("nojob" outside a job), %s step id, %t task rank,
///   %n local rank, %p wattprint's pid, %% a percent sign.
/// Throws UsageError on an unknown placeholder (naming it and listing these).
std::string expand_output_pattern(const std::string& pattern, const std::optional<BatchJob>& job,
                                  const std::string& full_hostname);

}  // namespace wattprint
