// CgroupFs on fake v1 and v2 trees: detection, a process's group, usage numbers, processes, and the
// jobs and services found by the Slurm, OAR and systemd layouts.
#include "cluster/cgroup.hpp"

#include <gtest/gtest.h>

#include <map>

#include "fakes/fake_cgroup_tree.hpp"

namespace wattprint {
namespace {

using testing::FakeCgroupTree;
using testing::V1CpuLayout;

UserNameLookup table_users() {
  return [](uid_t uid) -> std::string {
    static const std::map<uid_t, std::string> names{
        {0, "root"}, {33, "www-data"}, {1000, "alice"}, {1001, "bob"}};
    const auto it = names.find(uid);
    return it == names.end() ? std::to_string(uid) : it->second;
  };
}

struct Case {
  CgroupVersion version;
  V1CpuLayout layout;
};

class CgroupBothVersions : public ::testing::TestWithParam<Case> {
 protected:
  FakeCgroupTree tree{GetParam().version, GetParam().layout};
  [[nodiscard]] CgroupFs cgroups() const { return CgroupFs(tree.root(), ProcFs(tree.proc_root())); }
  [[nodiscard]] ProcFs procfs() const { return ProcFs(tree.proc_root()); }
};

INSTANTIATE_TEST_SUITE_P(Versions, CgroupBothVersions,
                         ::testing::Values(Case{CgroupVersion::V2, V1CpuLayout::CpuCommaCpuacct},
                                           Case{CgroupVersion::V1, V1CpuLayout::CpuCommaCpuacct},
                                           Case{CgroupVersion::V1, V1CpuLayout::Cpuacct}),
                         [](const auto& param_info) {
                           if (param_info.param.version == CgroupVersion::V2) return std::string("v2");
                           return std::string(param_info.param.layout == V1CpuLayout::Cpuacct
                                                  ? "v1_cpuacct"
                                                  : "v1_cpu_cpuacct");
                         });

TEST_P(CgroupBothVersions, DetectsTheVersion) { EXPECT_EQ(cgroups().version(), GetParam().version); }

TEST_P(CgroupBothVersions, UsageIsReadInSecondsAndBytesExactly) {
  const std::string job = tree.add_slurm_job(1000, "4242");
  tree.set_cpu_usec(job, 2'500'000);
  tree.set_memory_bytes(job, 123'456'789);
  const CgroupUsage usage = cgroups().usage(job);
  ASSERT_TRUE(usage.cpu_s.has_value());
  EXPECT_DOUBLE_EQ(*usage.cpu_s, 2.5);
  ASSERT_TRUE(usage.memory_bytes.has_value());
  EXPECT_EQ(*usage.memory_bytes, 123'456'789U);
  tree.set_cpu_usec(job, 3'000'001);
  EXPECT_DOUBLE_EQ(*cgroups().usage(job).cpu_s, 3.000001);
}

TEST_P(CgroupBothVersions, GarbageAndMissingValuesAreAbsentNotZero) {
  const bool v2 = GetParam().version == CgroupVersion::V2;
  const std::string job = tree.add_oar_job("bob", "77");
  const std::string cpu_file = v2 ? "cpu.stat" : "cpuacct.usage";
  const std::string memory_file = v2 ? "memory.current" : "memory.usage_in_bytes";
  for (const std::string garbage : {"12abc\n", "-5\n", "", "max\n", "usage_usec\n", "user_usec 5\n"}) {
    tree.write_cpu_file(job, cpu_file, garbage);
    tree.write_memory_file(job, memory_file, garbage);
    const CgroupUsage usage = cgroups().usage(job);
    EXPECT_FALSE(usage.cpu_s.has_value()) << "'" << garbage << "'";
    EXPECT_FALSE(usage.memory_bytes.has_value()) << "'" << garbage << "'";
  }
  std::filesystem::remove(tree.root() / (v2 ? "" : "memory") / job.substr(1) / memory_file);
  tree.set_cpu_usec(job, 7);
  EXPECT_FALSE(cgroups().usage(job).memory_bytes.has_value());
  EXPECT_DOUBLE_EQ(*cgroups().usage(job).cpu_s, 7e-6);
}

TEST_P(CgroupBothVersions, VanishedGroupsAndUnsafePathsGiveNothing) {
  const std::string job = tree.add_slurm_job(1000, "9");
  tree.add_process(300, job, 1000);
  tree.set_cpu_usec(job, 5);
  const CgroupFs fs = cgroups();  // detected before the group goes
  tree.remove_group(job);
  EXPECT_FALSE(fs.usage(job).cpu_s.has_value());
  EXPECT_FALSE(fs.usage(job).memory_bytes.has_value());
  EXPECT_TRUE(fs.processes(job).empty());
  EXPECT_TRUE(fs.find_jobs(table_users()).empty());
  EXPECT_FALSE(fs.usage("/../../etc").cpu_s.has_value());
  EXPECT_FALSE(fs.usage("relative/path").cpu_s.has_value());
  EXPECT_TRUE(fs.processes("/../..").empty());
}

TEST_P(CgroupBothVersions, ProcessesAreCollectedRecursivelySortedAndDeduplicated) {
  const std::string job = tree.add_slurm_job(1000, "42");
  tree.add_group(job + "/step_0/user/task_0");
  tree.add_group(job + "/step_0/user/task_1");
  tree.add_process(500, job + "/step_0/user/task_1", 1000);
  tree.add_process(20, job + "/step_0/user/task_0", 1000);
  tree.add_process(7, job, 0);
  tree.write_cpu_file(job + "/step_0", "cgroup.procs", "31\n9\n31\nnot-a-pid\n-4\n0\n");
  const std::string other = tree.add_service("cron.service");
  tree.add_process(1234, other, 0);
  const auto pids = cgroups().processes(job);
  EXPECT_EQ(pids, (std::vector<pid_t>{7, 9, 20, 31, 500}));
  EXPECT_EQ(cgroups().processes(other), (std::vector<pid_t>{1234}));
}

TEST_P(CgroupBothVersions, CgroupOfReadsTheRightLine) {
  const std::string job = tree.add_slurm_job(1000, "42");
  const std::string task = job + "/step_0/user/task_0";
  tree.add_group(task);
  tree.add_process(4321, task, 1000);
  EXPECT_EQ(cgroups().cgroup_of(procfs(), 4321), task);
  EXPECT_FALSE(cgroups().cgroup_of(procfs(), 999999).has_value());
}

TEST_P(CgroupBothVersions, FindsEveryLayoutOnceWithItsUser) {
  const bool v2 = GetParam().version == CgroupVersion::V2;
  const std::string slurm = tree.add_slurm_job(1001, "4242");
  tree.add_group(slurm + "/step_0/slurm");
  tree.add_group(slurm + "/step_0/user/task_0");
  tree.add_process(90, slurm + "/step_0/slurm", 0);  // slurmstepd, root's, lowest pid
  tree.add_process(91, slurm + "/step_0/user/task_0", 1001);
  const std::string oar = tree.add_oar_job("carol", "77");
  const std::string web = tree.add_service("nginx.service");
  tree.add_process(50, web, 0);
  tree.add_process(51, web, 33);
  const std::string cron = tree.add_service("cron.service");
  tree.add_process(60, cron, 0);
  const std::string idle = tree.add_service("idle.service");
  tree.add_group("/system.slice/session-1.scope");
  tree.add_group("/user.slice/user-1000.slice/user@1000.service");
  tree.add_group("/oar/not-a-job");
  tree.add_group("/slurm/uid_x/job_1");
  const auto jobs = cgroups().find_jobs(table_users());
  std::vector<std::string> seen;
  for (const auto& job : jobs)
    seen.push_back(job.scheduler + " " + job.job_id + " " + job.user + " " + job.path);
  std::vector<std::string> expected{"oar 77 carol /oar/carol_77", "systemd cron.service root " + cron,
                                    "systemd idle.service  " + idle, "systemd nginx.service www-data " + web};
  expected.insert(v2 ? expected.end() : expected.begin() + 1, "slurm 4242 bob " + slurm);  // sorted by path
  EXPECT_EQ(seen, expected);
}

TEST_P(CgroupBothVersions, JobOfFindsTheEnclosingJob) {
  const std::string slurm = tree.add_slurm_job(1000, "42");
  const std::string task = slurm + "/step_3/user/task_1";
  tree.add_group(task);
  tree.add_process(700, task, 1000);
  const std::string loose = "/user.slice/user-1000.slice/session-4.scope";
  tree.add_group(loose);
  tree.add_process(701, loose, 1000);
  const CgroupFs fs = cgroups();
  const auto job = fs.job_of(procfs(), 700, table_users());
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->scheduler, "slurm");
  EXPECT_EQ(job->job_id, "42");
  EXPECT_EQ(job->user, "alice");
  EXPECT_EQ(job->path, slurm);
  EXPECT_FALSE(fs.job_of(procfs(), 701, table_users()).has_value());
  EXPECT_FALSE(fs.job_of(procfs(), 702, table_users()).has_value());
  const auto oar = fs.job_at("/oar/dave_5/sub", table_users());
  ASSERT_TRUE(oar.has_value());
  EXPECT_EQ(oar->scheduler + " " + oar->job_id + " " + oar->user + " " + oar->path, "oar 5 dave /oar/dave_5");
}

TEST(Cgroup, SlurmV1PerNodeDirectoryAndV2PerNodeScope) {
  {
    FakeCgroupTree tree(CgroupVersion::V1);
    tree.add_group("/slurm_n01/uid_1000/job_8/step_batch");
    const auto jobs = CgroupFs(tree.root()).find_jobs(table_users());
    ASSERT_EQ(jobs.size(), 1U);
    EXPECT_EQ(jobs[0].path, "/slurm_n01/uid_1000/job_8");
    EXPECT_EQ(jobs[0].user, "alice");
  }
  {
    FakeCgroupTree tree(CgroupVersion::V2);
    tree.add_group("/system.slice/n01_slurmstepd.scope/job_9/step_0");
    tree.add_process(10, "/system.slice/n01_slurmstepd.scope/job_9/step_0", 1001);
    const auto jobs = CgroupFs(tree.root(), ProcFs(tree.proc_root())).find_jobs(table_users());
    ASSERT_EQ(jobs.size(), 1U);
    EXPECT_EQ(jobs[0].job_id, "9");
    EXPECT_EQ(jobs[0].user, "bob");
  }
}

TEST(Cgroup, V1WithoutMemoryOrCpuacctControllers) {
  FakeCgroupTree tree(CgroupVersion::V1);
  const std::string job = tree.add_slurm_job(1000, "3");
  tree.set_cpu_usec(job, 1'000'000);
  tree.set_memory_bytes(job, 4096);
  std::filesystem::remove_all(tree.root() / "memory");
  const CgroupUsage no_memory = CgroupFs(tree.root()).usage(job);
  EXPECT_DOUBLE_EQ(no_memory.cpu_s.value_or(-1), 1.0);
  EXPECT_FALSE(no_memory.memory_bytes.has_value());
  for (const char* dir : {"cpu,cpuacct", "cpu", "cpuacct"}) std::filesystem::remove_all(tree.root() / dir);
  const CgroupFs only_cpuset_and_systemd(tree.root());
  EXPECT_EQ(only_cpuset_and_systemd.version(), CgroupVersion::V1);
  EXPECT_FALSE(only_cpuset_and_systemd.usage(job).cpu_s.has_value());
  const auto jobs = only_cpuset_and_systemd.find_jobs(table_users());
  ASSERT_EQ(jobs.size(), 1U);  // still found, in the cpuset and name=systemd hierarchies, once
  EXPECT_EQ(jobs[0].path, job);
}

TEST(Cgroup, V1ProcessFileWithoutCpuacctFallsBackToCpusetThenSystemd) {
  FakeCgroupTree tree(CgroupVersion::V1);
  const auto dir = tree.proc_root() / "55";
  std::filesystem::create_directories(dir);
  write_file_atomically(dir / "cgroup", "12:memory:/m\n11:cpuset:/oar/eve_12\n1:name=systemd:/s\n0::/\n");
  EXPECT_EQ(CgroupFs(tree.root()).cgroup_of(ProcFs(tree.proc_root()), 55), "/oar/eve_12");
  write_file_atomically(dir / "cgroup", "12:memory:/m\n1:name=systemd:/system.slice/x.service\n");
  EXPECT_EQ(CgroupFs(tree.root()).cgroup_of(ProcFs(tree.proc_root()), 55), "/system.slice/x.service");
  write_file_atomically(dir / "cgroup", "garbage\n0::/\n");
  EXPECT_FALSE(CgroupFs(tree.root()).cgroup_of(ProcFs(tree.proc_root()), 55).has_value());
}

TEST(Cgroup, V2ProcessFileNeedsTheUnifiedLine) {
  FakeCgroupTree tree(CgroupVersion::V2);
  const auto dir = tree.proc_root() / "56";
  std::filesystem::create_directories(dir);
  write_file_atomically(dir / "cgroup", "1:name=systemd:/x\n");
  EXPECT_FALSE(CgroupFs(tree.root()).cgroup_of(ProcFs(tree.proc_root()), 56).has_value());
  write_file_atomically(dir / "cgroup", "0::/system.slice/slurmstepd.scope/job_1/step_0/user/task_0\n");
  EXPECT_EQ(CgroupFs(tree.root()).cgroup_of(ProcFs(tree.proc_root()), 56),
            "/system.slice/slurmstepd.scope/job_1/step_0/user/task_0");
}

TEST(Cgroup, SystemUserNamesKnowsRootAndFallsBackToTheNumber) {
  const UserNameLookup users = system_user_names();
  EXPECT_EQ(users(0), "root");
  EXPECT_EQ(users(3'999'999'999U), "3999999999");
}

}  // namespace
}  // namespace wattprint
