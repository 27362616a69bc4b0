// `wattprint run` with GPUs: the real binary loads the fake libnvidia-ml.so.1 through dlopen (--nvml-library)
// and is checked against the fake's scripted power (ground truth): the gpu method, measured.gpu_j, the run's
// GPUs (used by the command, CUDA_VISIBLE_DEVICES), the command's share, and the estimate's GPUs.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <csignal>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "integration/harness.hpp"

namespace wattprint::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr double kGpu0Watts = 60.0;  // a Volta+ GPU with an energy counter
constexpr double kGpu1Watts = 30.0;  // a pre-Volta GPU: power integrated by wattprint
// Per endpoint: the time between wattprint's clock reading and its counter read, and one integration step.
constexpr double kEndpointS = 0.05;

class GpuRun : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto bin = wattprint_bin_from_env();
    if (!bin) GTEST_SKIP() << "WATTPRINT_BIN is not set: point it at the wattprint executable";
    bin_ = *bin;
    fs::create_directories(home_.path() / "sys");
    // The command: a copy of sleep under a name the fake recognises as a GPU process.
    job_ = home_.path() / "wp-gpu-job";
    fs::copy_file("/bin/sleep", job_);
    fs::permissions(job_, fs::perms::owner_all);
    write_text_file(
        home_.path() / "trace",
        "gpu 0 name=\"Tesla T4\" uuid=GPU-00000000-aaaa-bbbb-cccc-000000000000 bus=00000000:3B:00.0 "
        "limit_w=70\n"
        "gpu 1 name=\"Tesla P100-PCIE-16GB\" uuid=GPU-11111111-aaaa-bbbb-cccc-111111111111 "
        "bus=00000000:86:00.0 limit_w=250\n"
        "energy_counter 1 unsupported\n"
        "power 0 at=0 watts=60\n"
        "power 1 at=0 watts=30\n"
        "utilisation 0 percent=80\n"
        "utilisation 1 percent=10\n"
        "process 0 comm=wp-gpu-job sm=90\n");
  }

  json run(const std::vector<std::string>& env, const std::vector<std::string>& options = {}) {
    SpawnOptions o;
    o.args = {"run",
              "--sysfs-root",
              (home_.path() / "sys").string(),
              "--nvml-library",
              FAKE_NVML_LIBRARY,
              "--interval",
              "0.2",
              "--json",
              (home_.path() / "r.json").string()};
    o.args.insert(o.args.end(), options.begin(), options.end());
    o.args.insert(o.args.end(), {"--", job_.string(), "1.5"});
    o.home = home_.path();
    o.extra_env = env;
    o.extra_env.push_back("WATTPRINT_FAKE_NVML_TRACE=" + (home_.path() / "trace").string());
    const ProcessResult r = run_process(bin_, o);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    summary_ = r.err;
    return read_json(home_.path() / "r.json");
  }

  fs::path bin_;
  fs::path job_;
  std::string summary_;
  TempDir home_{"wattprint-gpu"};
};

double at(const json& j, const char* pointer) { return j.at(json::json_pointer(pointer)).get<double>(); }

TEST_F(GpuRun, TheGpuTheCommandUsedIsTheRunsGpu) {
  const json r = run({});
  const double duration = at(r, "/duration_s");
  ASSERT_EQ(r.at("gpus").size(), 2U) << r.dump(2);
  EXPECT_EQ(r.at("gpu_selection"), "GPUs the command's processes used");
  EXPECT_TRUE(r.at("gpus")[0].at("in_run").get<bool>());
  EXPECT_FALSE(r.at("gpus")[1].at("in_run").get<bool>());
  EXPECT_NEAR(at(r, "/gpus/0/energy_j"), kGpu0Watts * duration, kGpu0Watts * 2 * kEndpointS);
  EXPECT_NEAR(at(r, "/gpus/1/energy_j"), kGpu1Watts * duration, kGpu1Watts * 2 * kEndpointS);
  EXPECT_NE(r.at("gpus")[1].at("energy_method").get<std::string>().find("integrated"), std::string::npos);

  // measured.gpu_j and the gpu method count the run's GPU only.
  EXPECT_DOUBLE_EQ(at(r, "/measured/gpu_j"), at(r, "/gpus/0/energy_j"));
  EXPECT_TRUE(r.at("methods").at("gpu").at("available").get<bool>());
  EXPECT_DOUBLE_EQ(at(r, "/methods/gpu/it_energy_j"), at(r, "/gpus/0/energy_j"));
  // The command is the GPU's only user: it gets the whole GPU from the first interval in which the fake
  // reports it (its samples lie on a 100 ms grid), so at most one interval and one grid step are missing.
  EXPECT_NEAR(at(r, "/methods/process/components/gpu_j"), at(r, "/gpus/0/energy_j"),
              kGpu0Watts * (0.2 + 0.1 + 0.05));
  EXPECT_TRUE(r.at("methods").at("process").at("available").get<bool>());  // no RAPL here, the GPU suffices

  // The estimate uses the run's GPU: 70 W (table) × measured utilisation 80 %.
  EXPECT_NEAR(at(r, "/methods/estimate/components/gpu_j"), 70.0 * 0.8 * duration, 1e-6 * duration);
  EXPECT_NE(summary_.find("in run  nvml.gpu-0 Tesla T4"), std::string::npos) << summary_;
  EXPECT_NE(summary_.find("left out nvml.gpu-1"), std::string::npos) << summary_;
}

TEST_F(GpuRun, CudaVisibleDevicesChoosesTheGpus) {
  const json r = run({"CUDA_VISIBLE_DEVICES=GPU-11111111"});
  EXPECT_EQ(r.at("gpu_selection"), "CUDA_VISIBLE_DEVICES=GPU-11111111");
  EXPECT_FALSE(r.at("gpus")[0].at("in_run").get<bool>());
  EXPECT_TRUE(r.at("gpus")[1].at("in_run").get<bool>());
  EXPECT_NEAR(at(r, "/measured/gpu_j"), kGpu1Watts * at(r, "/duration_s"), kGpu1Watts * 2 * kEndpointS);
  // --gpus wins over the environment.
  const json r2 = run({"CUDA_VISIBLE_DEVICES=1"}, {"--gpus", "0,1"});
  EXPECT_EQ(r2.at("gpu_selection"), "--gpus 0,1");
  EXPECT_NEAR(at(r2, "/measured/gpu_j"), (kGpu0Watts + kGpu1Watts) * at(r2, "/duration_s"),
              (kGpu0Watts + kGpu1Watts) * 2 * kEndpointS);
}

TEST_F(GpuRun, TwoCommandsSharingOneGpuSplitItByUtilisation) {
  // Another job uses GPU 0 at a third of the command's SM utilisation during the whole run.
  const fs::path other = home_.path() / "wp-gpu-other";
  fs::copy_file("/bin/sleep", other);
  fs::permissions(other, fs::perms::owner_all);
  write_text_file(home_.path() / "trace",
                  "gpu 0 name=\"Tesla T4\" uuid=GPU-00000000-aaaa-bbbb-cccc-000000000000 limit_w=70\n"
                  "power 0 at=0 watts=60\n"
                  "process 0 comm=wp-gpu-job sm=75\n"
                  "process 0 comm=wp-gpu-other sm=25\n");
  SpawnOptions background;
  background.args = {"5"};
  background.home = home_.path();
  Process neighbour(other, background);
  const json r = run({});
  neighbour.signal(SIGKILL);
  neighbour.wait();
  const double gpu = at(r, "/gpus/0/energy_j");
  EXPECT_NEAR(at(r, "/methods/process/components/gpu_j"), 0.75 * gpu, 0.75 * kGpu0Watts * (0.2 + 0.1 + 0.05));
  EXPECT_LT(at(r, "/methods/process/components/gpu_j"), 0.76 * gpu);
  EXPECT_DOUBLE_EQ(at(r, "/methods/gpu/it_energy_j"), gpu);  // the gpu method counts the whole device
}

TEST_F(GpuRun, AGpuLostMidRunIsDegradedFromThenOnAndItsLostTimeIsNotBilled) {
  // GPU 0 falls off the bus 0.7 s after nvmlInit (a little before the run's t = 0): every NVML call on it
  // returns GPU_IS_LOST from then on, to the end of the 1.5-s command.
  constexpr double kLostAtS = 0.7;
  constexpr double kIntervalS = 0.2;
  constexpr double kStartupS = 0.3;  // nvmlInit to the run's t = 0, at most
  write_text_file(home_.path() / "trace",
                  "gpu 0 name=\"Tesla T4\" uuid=GPU-00000000-aaaa-bbbb-cccc-000000000000 limit_w=70\n"
                  "power 0 at=0 watts=60\n"
                  "utilisation 0 percent=80\n"
                  "process 0 comm=wp-gpu-job sm=90\n"
                  "lost 0 at=0.7\n");
  const json r = run({});
  const double duration = at(r, "/duration_s");
  ASSERT_GT(duration, 1.4);
  // The energy up to the last reading before the loss (at most one interval before it), nothing after.
  const double gpu = at(r, "/gpus/0/energy_j");
  EXPECT_LE(gpu, kGpu0Watts * (kLostAtS + kEndpointS)) << r.at("gpus").dump(2);
  EXPECT_GE(gpu, kGpu0Watts * (kLostAtS - kIntervalS - kStartupS - kEndpointS)) << r.at("gpus").dump(2);
  EXPECT_DOUBLE_EQ(at(r, "/measured/gpu_j"), gpu);
  EXPECT_DOUBLE_EQ(at(r, "/methods/gpu/it_energy_j"), gpu);
  // The sensor is degraded from the last good reading before the loss to the end of the run.
  const json* sensor = nullptr;
  for (const json& s : r.at("sensors")) {
    if (s.value("name", "") == "nvml.gpu-0") sensor = &s;
  }
  ASSERT_NE(sensor, nullptr) << r.at("sensors").dump(2);
  EXPECT_EQ(sensor->value("status", ""), "degraded") << sensor->dump(2);
  ASSERT_EQ(sensor->at("degraded_spans").size(), 1U) << sensor->dump(2);
  const json& span = sensor->at("degraded_spans")[0];
  EXPECT_LE(at(span, "/start_s"), kLostAtS + kEndpointS) << span.dump();
  EXPECT_GE(at(span, "/start_s"), kLostAtS - kIntervalS - kStartupS - kEndpointS) << span.dump();
  EXPECT_NEAR(at(span, "/end_s"), duration, kEndpointS) << span.dump();
  EXPECT_EQ(span.value("error", ""), "No such device") << span.dump();
}

TEST_F(GpuRun, NoNvmlMeansAGpuMethodUnavailableWithTheReason) {
  SpawnOptions o;
  o.args = {"run",
            "--sysfs-root",
            (home_.path() / "sys").string(),
            "--nvml-library",
            (home_.path() / "absent/libnvidia-ml.so.1").string(),
            "--json",
            (home_.path() / "r.json").string(),
            "--",
            "true"};
  o.home = home_.path();
  const ProcessResult result = run_process(bin_, o);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const json r = read_json(home_.path() / "r.json");
  EXPECT_FALSE(r.at("methods").at("gpu").at("available").get<bool>());
  EXPECT_NE(r.at("methods").at("gpu").at("reason").get<std::string>().find("libnvidia-ml.so.1"),
            std::string::npos);
  EXPECT_TRUE(r.at("measured").at("gpu_j").is_null());
}

}  // namespace
}  // namespace wattprint::testing
