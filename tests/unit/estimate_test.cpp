// The estimator with the study's hardware (Xeon Silver 4110, Tesla T4) and the TDP resolution rules.
#include "methods/estimate.hpp"

#include <gtest/gtest.h>

namespace wattprint {
namespace {

TEST(Estimate, StudyServerTwoHours) {
  EstimateInputs in;
  in.runtime = Seconds(7200.0);
  in.cores_used = 8;
  in.cpu = resolve_cpu_power("Intel(R) Xeon(R) Silver 4110 CPU @ 2.10GHz", std::nullopt, 0);
  in.memory_gb = 24;
  in.gpus = 1;
  in.gpu = resolve_gpu_power("Tesla T4", std::nullopt);
  const MethodResult r = estimate_method(in);
  // 2 h × (8 × 85/8 + 24 × 0.3725 + 70) W = 327.88 Wh
  EXPECT_NEAR(r.it_energy.value, 327.88 * 3600.0, 1e-6);
  EXPECT_NEAR(r.components.cpu->value, 85.0 * 7200.0, 1e-6);
  EXPECT_NEAR(r.components.memory->value, 24 * 0.3725 * 7200.0, 1e-6);
  EXPECT_NEAR(r.components.gpu->value, 70.0 * 7200.0, 1e-6);
  EXPECT_EQ(r.provenance, Provenance::Modelled);
  EXPECT_FALSE(in.cpu.fallback);
  EXPECT_EQ(in.cpu.cores, 8);
}

TEST(Estimate, UsageFactorsScaleCpuAndGpu) {
  EstimateInputs in;
  in.runtime = Seconds(3600.0);
  in.cores_used = 2;
  in.cpu.watts_per_core = 10;
  in.cpu_usage = 0.5;
  in.gpus = 2;
  in.gpu.watts = 100;
  in.gpu_usage = 0.25;
  EXPECT_NEAR(estimate_method(in).it_energy.value, (2 * 10 * 0.5 + 2 * 100 * 0.25) * 3600.0, 1e-9);
}

TEST(CpuPower, TdpOverrideUsesTheTableCoreCount) {
  const CpuPowerModel m = resolve_cpu_power("Xeon Silver 4110", 100.0, 64);
  EXPECT_DOUBLE_EQ(m.watts_per_core, 100.0 / 8);
}

TEST(CpuPower, TdpOverrideForAnUnknownCpuUsesThisMachinesCores) {
  const CpuPowerModel m = resolve_cpu_power("Imaginary CPU 9999", 60.0, 6);
  EXPECT_DOUBLE_EQ(m.watts_per_core, 10.0);
  EXPECT_FALSE(m.fallback);
}

TEST(CpuPower, UnknownCpuFallsBackTo12WattsPerCoreAndSaysSo) {
  const CpuPowerModel m = resolve_cpu_power("AMD EPYC", std::nullopt, 2);
  EXPECT_TRUE(m.fallback);
  EXPECT_DOUBLE_EQ(m.watts_per_core, 12.0);
  EXPECT_NE(m.source.find("fallback"), std::string::npos);
}

TEST(GpuPower, UnknownGpuFallsBackTo200Watts) {
  const GpuPowerModel g = resolve_gpu_power("Imaginary GPU", std::nullopt);
  EXPECT_TRUE(g.fallback);
  EXPECT_DOUBLE_EQ(g.watts, 200.0);
  EXPECT_DOUBLE_EQ(resolve_gpu_power("Quadro RTX 6000", std::nullopt).watts, 260.0);
}

}  // namespace
}  // namespace wattprint
