// The JSON report contract (schema_version 2) and the text summary.
#include <gtest/gtest.h>

#include "methods/gpu.hpp"
#include "methods/process.hpp"
#include "methods/server.hpp"
#include "report/json_report.hpp"
#include "report/summary_text.hpp"

namespace wattprint {
namespace {

RunReport sample_report() {
  RunReport r;
  r.tool_version = "0.1.0";
  r.command = {"python", "train.py", "--epochs", "3"};
  r.exit_code = 0;
  r.started_at = "2026-11-27T05:44:53Z";
  r.duration_s = 3600.0;
  r.cpu_time_s = 7200.0;
  r.host.hostname = "node1";
  r.footprint.pue = 1.65;
  r.footprint.pue_source = "--pue";
  r.footprint.carbon_intensity.g_per_kwh = 57.1;
  r.footprint.carbon_intensity.source = "ADEME";
  r.measured.cpu = Joules{360000.0};
  MethodResult estimate;
  estimate.name = "estimate";
  estimate.available = true;
  estimate.provenance = Provenance::Modelled;
  estimate.it_energy = Joules{3.6e6};
  estimate.components.cpu = Joules{3.0e6};
  estimate.components.memory = Joules{0.6e6};
  r.methods.push_back(estimate);
  RunMeasurement m;
  m.have_package = true;
  m.attributed_package = Joules{180000.0};
  r.methods.push_back(process_method(m, ""));
  r.methods.push_back(gpu_method({}, GpuSelection{}, "no readable GPU"));
  r.methods.push_back(server_method(std::nullopt, "no usable server power source"));
  std::string warning;
  r.methods.push_back(server_minus_idle_method(std::nullopt, "no usable server power source", std::nullopt,
                                               "no idle baseline", 10.0, warning));
  r.sensor_statuses.push_back({"rapl.package-0", SensorStatus::State::Ok, "/sys/x", "", ""});
  r.sensor_statuses.push_back(
      {"rapl.package-1", SensorStatus::State::Unreadable, "/sys/y", "root only", "run as root"});
  SensorEnergy energy;
  energy.info.name = "rapl.package-0";
  energy.energy = Joules{360000.0};
  energy.degraded.push_back({1.0, 2.0, "Input/output error"});
  r.sensor_energies.push_back(energy);
  return r;
}

TEST(JsonReport, HasTheStableKeys) {
  const auto j = to_json(sample_report());
  EXPECT_EQ(j["schema_version"], 2);
  EXPECT_EQ(j["command"].size(), 4U);
  EXPECT_EQ(j["exit_code"], 0);
  EXPECT_EQ(j["started_at"], "2026-11-27T05:44:53Z");
  for (const char* key :
       {"duration_s", "cpu_time_s", "host", "pue", "carbon_intensity", "measured", "methods"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  for (const char* key : {"hostname", "cpu_model", "logical_cpus", "memory_gb"})
    EXPECT_TRUE(j["host"].contains(key));
  EXPECT_DOUBLE_EQ(j["measured"]["cpu_j"].get<double>(), 360000.0);
  EXPECT_TRUE(j["measured"]["dram_j"].is_null());
  EXPECT_TRUE(j["measured"]["gpu_j"].is_null());
  EXPECT_TRUE(j["measured"]["server_j"].is_null());
  for (const char* name : {"estimate", "process", "gpu", "server", "server-minus-idle"}) {
    const auto& m = j["methods"][name];
    for (const char* key : {"available", "reason", "it_energy_j", "energy_kwh", "co2_g", "components"}) {
      EXPECT_TRUE(m.contains(key)) << name << "." << key;
    }
    for (const char* key : {"cpu_j", "dram_j", "memory_j", "gpu_j", "server_j"}) {
      EXPECT_TRUE(m["components"].contains(key)) << name << ".components." << key;
    }
  }
}

TEST(JsonReport, AppliesPueAndCarbonIntensity) {
  const auto j = to_json(sample_report());
  // 3.6 MJ = 1 kWh IT; × 1.65 PUE; × 57.1 g/kWh
  EXPECT_NEAR(j["methods"]["estimate"]["energy_kwh"].get<double>(), 1.65, 1e-12);
  EXPECT_NEAR(j["methods"]["estimate"]["co2_g"].get<double>(), 1.65 * 57.1, 1e-9);
  EXPECT_EQ(j["methods"]["estimate"]["kind"], "modelled");
  EXPECT_EQ(j["methods"]["process"]["kind"], "measured");
  EXPECT_NEAR(j["methods"]["process"]["it_energy_j"].get<double>(), 180000.0, 1e-9);
  EXPECT_FALSE(j["methods"]["gpu"]["available"].get<bool>());
  EXPECT_TRUE(j["methods"]["gpu"]["energy_kwh"].is_null());
  EXPECT_FALSE(j["methods"]["gpu"]["reason"].get<std::string>().empty());
}

TEST(JsonReport, SensorsCarryStatusRemedyAndDegradedSpans) {
  const auto j = to_json(sample_report());
  ASSERT_EQ(j["sensors"].size(), 2U);
  EXPECT_EQ(j["sensors"][0]["status"], "degraded");
  EXPECT_DOUBLE_EQ(j["sensors"][0]["degraded_spans"][0]["start_s"].get<double>(), 1.0);
  EXPECT_EQ(j["sensors"][1]["status"], "unreadable");
  EXPECT_EQ(j["sensors"][1]["remedy"], "run as root");
}

TEST(Summary, ShowsEveryMethodProvenanceAndRemedies) {
  const std::string text = render_summary(sample_report());
  EXPECT_NE(text.find("python train.py --epochs 3"), std::string::npos);
  EXPECT_NE(text.find("exit status 0"), std::string::npos);
  EXPECT_NE(text.find("PUE 1.65 (--pue)"), std::string::npos);
  EXPECT_NE(text.find("57.1 gCO2e/kWh"), std::string::npos);
  // estimate: 1 kWh IT, 1.65 kWh with PUE, 94.2 g
  EXPECT_NE(text.find("estimate           modelled          1.0000         1.6500      94.2150"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("process            measured"), std::string::npos);
  EXPECT_NE(text.find("gpu                -         unavailable:"), std::string::npos);
  EXPECT_NE(text.find("remedy: run as root"), std::string::npos);
  EXPECT_NE(text.find("rapl.package-0 from 1.00 s to 2.00 s"), std::string::npos);
}

TEST(Summary, Formats) {
  EXPECT_EQ(format_duration(4.2), "4.20 s");
  EXPECT_EQ(format_duration(3723.0), "1h 02m 03s");
  EXPECT_EQ(format_kwh(0.32788), "0.3279");
  EXPECT_EQ(format_kwh(0.000123), "0.000123");
  EXPECT_EQ(format_kwh(1.2e-8), "1.20e-08");
}

}  // namespace
}  // namespace wattprint
