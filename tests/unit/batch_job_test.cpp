// Slurm and OAR jobs read from recorded task environments (tests/cluster/*.env) and hand-made ones.
#include "cluster/batch_job.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

namespace wattprint {
namespace {

using Environment = std::map<std::string, std::string>;

EnvironmentLookup lookup(const Environment& environment) {
  return [environment](const std::string& name) -> std::optional<std::string> {
    auto it = environment.find(name);
    if (it == environment.end()) return std::nullopt;
    return it->second;
  };
}

/// A recorded environment: `env` output, one NAME=VALUE per line.
Environment read_env_file(const std::string& name) {
  std::ifstream in(std::string(WATTPRINT_TEST_DATA_DIR) + "/cluster/" + name);
  EXPECT_TRUE(in) << name;
  Environment environment;
  std::string line;
  while (std::getline(in, line)) {
    const auto equals = line.find('=');
    if (equals != std::string::npos) environment[line.substr(0, equals)] = line.substr(equals + 1);
  }
  return environment;
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "wattprint-job-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] std::filesystem::path write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
    return path_ / name;
  }

 private:
  std::filesystem::path path_;
};

TEST(BatchJob, NoSchedulerVariablesIsNoJob) {
  EXPECT_FALSE(detect_batch_job(lookup({{"HOME", "/root"}, {"SLURM_CONF", "/etc/slurm.conf"}}), "n01"));
  EXPECT_FALSE(detect_batch_job(lookup({{"SLURM_JOB_ID", ""}}), "n01")) << "an empty id is no job";
}

TEST(BatchJob, SlurmStepOfATwoNodeJob) {
  const Environment environment{{"SLURM_JOB_ID", "4242"},
                                {"SLURM_STEP_ID", "0"},
                                {"SLURM_JOB_NAME", "resnet50"},
                                {"SLURM_JOB_USER", "alice"},
                                {"SLURM_JOB_ACCOUNT", "ml"},
                                {"SLURM_JOB_PARTITION", "gpu"},
                                {"SLURM_JOB_NODELIST", "n[01-02]"},
                                {"SLURM_NTASKS", "8"},
                                {"SLURM_PROCID", "5"},
                                {"SLURM_LOCALID", "1"},
                                {"SLURM_STEP_GPUS", "2,3"},
                                {"SLURM_JOB_GPUS", "0,1,2,3"},
                                {"CUDA_VISIBLE_DEVICES", "0,1"}};
  const auto job = detect_batch_job(lookup(environment), "n02");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->scheduler, "slurm");
  EXPECT_EQ(job->job_id, "4242");
  EXPECT_EQ(job->step_id, "0");
  EXPECT_EQ(job->name, "resnet50");
  EXPECT_EQ(job->user, "alice");
  EXPECT_EQ(job->account, "ml");
  EXPECT_EQ(job->partition, "gpu");
  EXPECT_EQ(job->nodes, (std::vector<std::string>{"n01", "n02"}));
  EXPECT_EQ(job->task_count, 8);
  EXPECT_EQ(job->task_rank, 5);
  EXPECT_EQ(job->local_rank, 1);
  EXPECT_EQ(job->gpus, "2,3") << "the step's GPUs come before the job's";
  EXPECT_EQ(job->gpus_source, "SLURM_STEP_GPUS");
  EXPECT_FALSE(job->cgroup);
}

TEST(BatchJob, SlurmBatchScriptUsesTheJobsGpusAndOldVariableNames) {
  const auto job = detect_batch_job(lookup({{"SLURM_JOBID", "77"},
                                            {"SLURM_STEP_ID", "batch"},
                                            {"SLURM_NODELIST", "gpu7"},
                                            {"SLURM_NPROCS", "1"},
                                            {"SLURM_STEP_GPUS", "(null)"},
                                            {"SLURM_JOB_GPUS", "1"}}),
                                    "gpu7");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->job_id, "77");
  EXPECT_EQ(job->step_id, "batch");
  EXPECT_EQ(job->nodes, (std::vector<std::string>{"gpu7"}));
  EXPECT_EQ(job->task_count, 1);
  EXPECT_EQ(job->gpus, "1");
  EXPECT_EQ(job->gpus_source, "SLURM_JOB_GPUS");
  EXPECT_FALSE(job->user.empty()) << "the process's own user when Slurm does not say";
}

TEST(BatchJob, SlurmArrayTaskAndUnparsableCounts) {
  const auto job = detect_batch_job(lookup({{"SLURM_JOB_ID", "1001"},
                                            {"SLURM_ARRAY_JOB_ID", "1000"},
                                            {"SLURM_ARRAY_TASK_ID", "1"},
                                            {"SLURM_NTASKS", "eight"},
                                            {"SLURM_PROCID", "-1"}}),
                                    "n01");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->array_job_id, "1000");
  EXPECT_EQ(job->array_task_id, "1");
  EXPECT_FALSE(job->task_count);
  EXPECT_FALSE(job->task_rank);
  EXPECT_FALSE(job->gpus) << "no GPU variable: the scheduler says nothing about GPUs";
}

TEST(BatchJob, RecordedSlurmStepEnvironment) {
  // Recorded from `srun -n 2 env` on the one-node Slurm 22.05 cluster the test suite starts
  // (tests/cluster/slurm_cluster.sh).
  const Environment environment = read_env_file("slurm-22.05-srun.env");
  const auto job = detect_batch_job(lookup(environment), environment.at("SLURMD_NODENAME"));
  ASSERT_TRUE(job);
  EXPECT_EQ(job->scheduler, "slurm");
  EXPECT_EQ(job->job_id, environment.at("SLURM_JOB_ID"));
  EXPECT_EQ(job->step_id, environment.at("SLURM_STEP_ID"));
  EXPECT_EQ(job->task_count, 2);
  ASSERT_TRUE(job->task_rank);
  EXPECT_EQ(job->nodes, (std::vector<std::string>{environment.at("SLURMD_NODENAME")}));
}

TEST(BatchJob, OarJobReadsItsNodeFileAndThisHostsGpus) {
  TempDir dir;
  const auto nodefile = dir.write("nodefile",
                                  "chifflet-1.lille.grid5000.fr\nchifflet-1.lille.grid5000.fr\n"
                                  "chifflet-2.lille.grid5000.fr\nchifflet-2.lille.grid5000.fr\n");
  const auto properties = dir.write(
      "resources",
      "besteffort = 'NO' , cluster = 'chifflet' , core = '1' , cpu = '1' , gpu = '1' , gpudevice = '1' , "
      "host = 'chifflet-1.lille.grid5000.fr' , network_address = 'chifflet-1.lille.grid5000.fr' , "
      "resource_id = '1' , type = 'default'\n"
      "core = '2' , gpudevice = '1' , host = 'chifflet-1.lille.grid5000.fr' , type = 'default'\n"
      "core = '3' , gpudevice = '0' , host = 'chifflet-1.lille.grid5000.fr' , type = 'default'\n"
      "core = '9' , gpudevice = '10' , host = 'chifflet-1.lille.grid5000.fr' , type = 'default'\n"
      "core = '1' , gpudevice = '3' , host = 'chifflet-2.lille.grid5000.fr' , type = 'default'\n");
  const auto job = detect_batch_job(lookup({{"OAR_JOB_ID", "1864321"},
                                            {"OAR_JOB_NAME", "train"},
                                            {"OAR_USER", "bob"},
                                            {"OAR_PROJECT_NAME", "green"},
                                            {"OAR_NODEFILE", nodefile.string()},
                                            {"OAR_RESOURCE_PROPERTIES_FILE", properties.string()}}),
                                    "chifflet-1");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->scheduler, "oar");
  EXPECT_EQ(job->job_id, "1864321");
  EXPECT_EQ(job->name, "train");
  EXPECT_EQ(job->user, "bob");
  EXPECT_EQ(job->account, "green");
  EXPECT_EQ(job->nodes,
            (std::vector<std::string>{"chifflet-1.lille.grid5000.fr", "chifflet-2.lille.grid5000.fr"}));
  EXPECT_EQ(job->task_count, 4) << "one line per reserved core";
  EXPECT_EQ(job->gpus, "0,1,10") << "this host's GPUs only, each once, in numeric order";
  EXPECT_TRUE(job->step_id.empty());
}

TEST(BatchJob, OarJobWithUnreadableFilesKeepsTheRest) {
  const auto job = detect_batch_job(lookup({{"OAR_JOBID", "5"},
                                            {"OAR_NODEFILE", "/nonexistent/nodefile"},
                                            {"OAR_RESOURCE_PROPERTIES_FILE", "/nonexistent/resources"}}),
                                    "n1");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->job_id, "5");
  EXPECT_TRUE(job->nodes.empty());
  EXPECT_FALSE(job->task_count);
  EXPECT_FALSE(job->gpus);
}

TEST(BatchJob, OarResourcesWithoutGpusSayNothingAboutGpus) {
  TempDir dir;
  const auto properties = dir.write("resources", "core = '1' , host = 'n1' , type = 'default'\n");
  const auto job = detect_batch_job(
      lookup({{"OAR_JOB_ID", "6"}, {"OAR_RESOURCE_PROPERTIES_FILE", properties.string()}}), "n1");
  ASSERT_TRUE(job);
  EXPECT_FALSE(job->gpus);
}

TEST(Hostlist, ExpandsSlurmRangesWithPaddingAndSuffixes) {
  EXPECT_EQ(expand_hostlist("n01"), (std::vector<std::string>{"n01"}));
  EXPECT_EQ(expand_hostlist("n[01-03,7],gpu1"),
            (std::vector<std::string>{"n01", "n02", "n03", "n7", "gpu1"}));
  EXPECT_EQ(expand_hostlist("n[8-10]"), (std::vector<std::string>{"n8", "n9", "n10"}));
  EXPECT_EQ(expand_hostlist("rack[1-2]-n[0-1]"),
            (std::vector<std::string>{"rack1-n0", "rack1-n1", "rack2-n0", "rack2-n1"}));
  EXPECT_EQ(expand_hostlist("a[09-11].cluster"),
            (std::vector<std::string>{"a09.cluster", "a10.cluster", "a11.cluster"}));
  EXPECT_TRUE(expand_hostlist("").empty());
}

TEST(Hostlist, RefusesMalformedLists) {
  EXPECT_THROW(expand_hostlist("n[01-03"), std::invalid_argument);
  EXPECT_THROW(expand_hostlist("n01]"), std::invalid_argument);
  EXPECT_THROW(expand_hostlist("n[3-1]"), std::invalid_argument);
  EXPECT_THROW(expand_hostlist("n[a-b]"), std::invalid_argument);
  EXPECT_THROW(expand_hostlist("n[1-99999999]"), std::invalid_argument);
}

TEST(BatchJob, MalformedSlurmNodelistIsKeptAsWritten) {
  const auto job = detect_batch_job(lookup({{"SLURM_JOB_ID", "1"}, {"SLURM_JOB_NODELIST", "n[1-"}}), "n1");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->nodes, (std::vector<std::string>{"n[1-"}));
}

}  // namespace
}  // namespace wattprint
