// Output file names with placeholders (src/cluster/output_pattern.cpp).
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "cluster/batch_job.hpp"
#include "core/error.hpp"

namespace wattprint {
namespace {

BatchJob slurm_job() {
  BatchJob job;
  job.scheduler = "slurm";
  job.job_id = "4242";
  job.step_id = "0";
  job.task_rank = 5;
  job.local_rank = 1;
  return job;
}

TEST(OutputPattern, ExpandsEveryPlaceholder) {
  const std::string pid = std::to_string(::getpid());
  EXPECT_EQ(expand_output_pattern("report-%h.json", slurm_job(), "node07.cluster.example"),
            "report-node07.json");
  EXPECT_EQ(expand_output_pattern("%H", slurm_job(), "node07.cluster.example"), "node07.cluster.example");
  EXPECT_EQ(expand_output_pattern("r-%j-%s-%t-%n.json", slurm_job(), "n1"), "r-4242-0-5-1.json");
  EXPECT_EQ(expand_output_pattern("r-%p", slurm_job(), "n1"), "r-" + pid);
  EXPECT_EQ(expand_output_pattern("100%%-%j%%", slurm_job(), "n1"), "100%-4242%");
  EXPECT_EQ(expand_output_pattern("plain.json", slurm_job(), "n1"), "plain.json");
  EXPECT_EQ(expand_output_pattern("", slurm_job(), "n1"), "");
}

TEST(OutputPattern, ShortHostOfAHostWithoutDomainIsTheHost) {
  EXPECT_EQ(expand_output_pattern("%h/%H", std::nullopt, "gpu1"), "gpu1/gpu1");
}

TEST(OutputPattern, OutsideAJobTheJobFieldsSaySo) {
  EXPECT_EQ(expand_output_pattern("%j-%s-%t-%n", std::nullopt, "n1"), "nojob-nostep-norank-norank");
  BatchJob oar;
  oar.scheduler = "oar";
  oar.job_id = "77";
  EXPECT_EQ(expand_output_pattern("%j-%s-%t", oar, "n1"), "77-nostep-norank");
}

TEST(OutputPattern, UnknownPlaceholderIsAUsageErrorListingTheValidOnes) {
  try {
    expand_output_pattern("report-%x.json", slurm_job(), "n1");
    FAIL() << "expected a UsageError";
  } catch (const UsageError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("%x"), std::string::npos) << message;
    for (const char* valid : {"%h", "%H", "%j", "%s", "%t", "%n", "%p", "%%"})
      EXPECT_NE(message.find(valid), std::string::npos) << valid << " missing from: " << message;
  }
  EXPECT_THROW(expand_output_pattern("report-%", slurm_job(), "n1"), UsageError);
}

}  // namespace
}  // namespace wattprint
