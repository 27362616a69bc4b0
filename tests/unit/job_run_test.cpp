// A run inside a batch job: the job in the report (JSON both ways, summary line), the job's GPUs in the
// selection, the job's cgroup found and read for attribution.
#include <gtest/gtest.h>

#include "attribution/gpu_selection.hpp"
#include "cluster/job_attribution.hpp"
#include "fakes/fake_cgroup_tree.hpp"
#include "report/json_report.hpp"
#include "report/report_from_json.hpp"
#include "report/summary_text.hpp"

namespace wattprint {
namespace {

using testing::FakeCgroupTree;

BatchJob slurm_job() {
  BatchJob job;
  job.scheduler = "slurm";
  job.job_id = "4242";
  job.step_id = "0";
  job.name = "train";
  job.user = "alice";
  job.nodes = {"n01", "n02"};
  job.task_count = 8;
  job.task_rank = 0;
  job.local_rank = 0;
  job.gpus = "0,2";
  job.gpus_source = "SLURM_JOB_GPUS";
  job.cgroup = "/system.slice/slurmstepd.scope/job_4242";
  job.attribution = "job cgroup /system.slice/slurmstepd.scope/job_4242 (…)";
  return job;
}

TEST(JobReport, DescriptionLine) {
  EXPECT_EQ(
      job_description(slurm_job(), "n01"),
      "slurm 4242.0 \"train\" user alice, task 0 of 8 on n01 (nodes n01,n02), GPUs 0,2 from SLURM_JOB_GPUS");
  BatchJob oar;
  oar.scheduler = "oar";
  oar.job_id = "77";
  oar.array_job_id = "70";
  oar.array_task_id = "7";
  EXPECT_EQ(job_description(oar, ""), "oar 77 (array 70_7)");
}

TEST(JobReport, JsonRoundTripAndSummary) {
  RunReport r;
  r.kind = "run";
  r.command = {"python", "train.py"};
  r.host.hostname = "n01";
  r.job = slurm_job();
  const nlohmann::json j = to_json(r);
  ASSERT_TRUE(j.contains("job"));
  EXPECT_EQ(j["job"]["job_id"], "4242");
  EXPECT_EQ(j["job"]["nodes"], nlohmann::json::array({"n01", "n02"}));
  EXPECT_EQ(j["job"]["task_count"], 8);
  EXPECT_TRUE(j["job"]["array_job_id"].get<std::string>().empty());
  const RunReport back = run_report_from_json(j);
  ASSERT_TRUE(back.job.has_value());
  EXPECT_EQ(back.job->cgroup, r.job->cgroup);
  EXPECT_EQ(back.job->task_rank, 0);
  EXPECT_EQ(back.job->gpus, "0,2");
  EXPECT_EQ(render_summary(back), render_summary(r));
  const std::string summary = render_summary(r);
  EXPECT_NE(summary.find("  job: slurm 4242.0 \"train\" user alice, task 0 of 8 on n01 (nodes n01,n02)"),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find("  job attribution: job cgroup /system.slice/slurmstepd.scope/job_4242"),
            std::string::npos);

  RunReport outside = r;
  outside.job.reset();
  EXPECT_FALSE(to_json(outside).contains("job"));
  EXPECT_FALSE(run_report_from_json(to_json(outside)).job.has_value());
  nlohmann::json bad = j;
  bad["job"]["task_count"] = "eight";
  EXPECT_THROW((void)run_report_from_json(bad), std::runtime_error);
}

std::vector<GpuDevice> four_gpus() {
  std::vector<GpuDevice> devices;
  for (unsigned i = 0; i < 4; ++i)
    devices.push_back({"nvml", i, "H100", "GPU-" + std::to_string(i) + "abc", "", {}, "", true});
  return devices;
}

TEST(JobGpus, TheSchedulersListComesBeforeCudaVisibleDevices) {
  const SchedulerGpus job{"1,3", "SLURM_JOB_GPUS"};
  // Under Slurm CUDA_VISIBLE_DEVICES=0,1 counts within the job's devices: it must not pick physical 0 and 1.
  const GpuSelection s =
      select_gpus(four_gpus(), std::nullopt, std::string("0,1"), {true, false, false, false}, job);
  EXPECT_EQ(s.selected, (std::vector<bool>{false, true, false, true}));
  EXPECT_EQ(s.rule, "the batch job's GPUs (SLURM_JOB_GPUS=1,3)");
  EXPECT_EQ(s.reasons[1], "named by the batch job's GPUs (SLURM_JOB_GPUS=1,3)");
  EXPECT_EQ(s.reasons[0], "not named by the batch job's GPUs (SLURM_JOB_GPUS=1,3)");
  // --gpus still wins.
  EXPECT_EQ(select_gpus(four_gpus(), std::string("0"), std::nullopt, {}, job).selected,
            (std::vector<bool>{true, false, false, false}));
  // UUIDs, and an entry naming no GPU here.
  const GpuSelection by_uuid = select_gpus(four_gpus(), std::nullopt, std::nullopt, {},
                                           SchedulerGpus{"GPU-2abc,7", "GPU_DEVICE_ORDINAL"});
  EXPECT_EQ(by_uuid.selected, (std::vector<bool>{false, false, true, false}));
  EXPECT_EQ(by_uuid.rule, "the batch job's GPUs (GPU_DEVICE_ORDINAL=GPU-2abc,7) (not found here: 7)");
  // A job without GPUs: none.
  EXPECT_EQ(select_gpus(four_gpus(), std::nullopt, std::nullopt, {true, true, true, true},
                        SchedulerGpus{"", "SLURM_JOB_GPUS"})
                .selected,
            (std::vector<bool>(4, false)));
  // Outside a job, nothing changes.
  EXPECT_EQ(select_gpus(four_gpus(), std::nullopt, std::string("0,1"), {}).selected,
            (std::vector<bool>{true, true, false, false}));
}

EnvironmentLookup environment_of(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const std::string& name) -> std::optional<std::string> {
    const auto it = values.find(name);
    return it == values.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

TEST(JobCgroup, FoundThroughOwnProcessAndRead) {
  FakeCgroupTree tree(CgroupVersion::V2);
  const std::string job = tree.add_slurm_job(1000, "4242");
  tree.add_group(job + "/step_0/user/task_0");
  tree.add_group(job + "/step_0/user/task_1");
  tree.add_process(100, job + "/step_0/user/task_0", 1000);  // "wattprint"
  tree.add_process(101, job + "/step_0/user/task_1", 1000);  // another rank
  tree.set_cpu_usec(job, 4'000'000);
  tree.set_memory_bytes(job, 1 << 20);
  const ProcFs procfs(tree.proc_root());
  const auto env = environment_of({{"WATTPRINT_CGROUP_ROOT", tree.root().string()}});
  const RunJobCgroup found = find_run_job_cgroup(env, slurm_job(), procfs, 100);
  ASSERT_TRUE(found.usable) << found.attribution;
  EXPECT_EQ(found.path, job);
  EXPECT_EQ(found.attribution.rfind(
                "job cgroup " + job + " (wattprint's own, cgroup v2 at " + tree.root().string() + ")", 0),
            0U)
      << found.attribution;
  CgroupUsageSource source(CgroupFs(found.root, procfs), *found.path);
  const GroupUsage usage = source.read();
  EXPECT_DOUBLE_EQ(usage.cpu_s.value_or(-1), 4.0);
  EXPECT_EQ(usage.memory_bytes, 1U << 20);
  EXPECT_EQ(usage.pids, (std::vector<pid_t>{100, 101}));
  EXPECT_EQ(source.description(), "job cgroup " + job);

  // Another job's group, no job group, a named group, an unreadable one.
  BatchJob other = slurm_job();
  other.job_id = "9";
  const RunJobCgroup wrong = find_run_job_cgroup(env, other, procfs, 100);
  EXPECT_FALSE(wrong.usable);
  EXPECT_EQ(wrong.attribution,
            "process tree: wattprint's cgroup " + job + " belongs to slurm job 4242, not to job 9");
  tree.add_group("/user.slice");
  tree.add_process(200, "/user.slice", 1000);
  const RunJobCgroup none = find_run_job_cgroup(env, slurm_job(), procfs, 200);
  EXPECT_FALSE(none.usable);
  EXPECT_FALSE(none.path.has_value());
  EXPECT_EQ(
      none.attribution.rfind("process tree: wattprint's cgroup (/user.slice) is not a slurm job's group", 0),
      0U)
      << none.attribution;
  const auto named_env =
      environment_of({{"WATTPRINT_CGROUP_ROOT", tree.root().string()}, {"WATTPRINT_JOB_CGROUP", job}});
  const RunJobCgroup named = find_run_job_cgroup(named_env, slurm_job(), procfs, 200);
  EXPECT_TRUE(named.usable);
  EXPECT_NE(named.attribution.find("named by WATTPRINT_JOB_CGROUP"), std::string::npos);
  tree.write_cpu_file(job, "cpu.stat", "garbage\n");
  const RunJobCgroup unreadable = find_run_job_cgroup(named_env, slurm_job(), procfs, 200);
  EXPECT_FALSE(unreadable.usable);
  EXPECT_EQ(unreadable.path, job);
  EXPECT_EQ(unreadable.attribution.rfind("process tree: the job's cgroup " + job +
                                             " (named by WATTPRINT_JOB_CGROUP) has no readable CPU time",
                                         0),
            0U)
      << unreadable.attribution;
  EXPECT_FALSE(source.read().cpu_s.has_value());
  EXPECT_TRUE(source.read().pids.empty());
}

}  // namespace
}  // namespace wattprint
