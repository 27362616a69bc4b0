// The exporter's pieces without threads or sockets: the text formats, the Accept negotiation, the listen
// address, and the accounting (exact joules from fake deltas, job expiry, the methods).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "exporter/exposition.hpp"
#include "exporter/metrics_server.hpp"
#include "exporter/node_accounting.hpp"

namespace wattprint::exporter {
namespace {

std::vector<MetricFamily> sample_families() {
  MetricFamily energy;
  energy.name = "demo_energy_joules";
  energy.type = MetricType::Counter;
  energy.unit = "joules";
  energy.help = "Energy \"so far\"\\ by job\nsecond line";
  energy.samples.push_back({{{"job", "a\"b\\c\nd"}, {"kind", "measured"}}, 250.0});
  energy.samples.push_back({{{"job", "plain"}, {"kind", "modelled"}}, 0.125});
  MetricFamily power;
  power.name = "demo_power_watts";
  power.unit = "watts";
  power.help = "Power.";
  power.samples.push_back({{}, 1e21});
  MetricFamily build;
  build.name = "demo_build";
  build.type = MetricType::Info;
  build.help = "Version.";
  build.samples.push_back({{{"version", "1.2"}}, 1.0});
  return {energy, power, build};
}

TEST(ExpositionTest, PrometheusTextFormatGolden) {
  const std::string expected =
      "# HELP demo_energy_joules_total Energy \"so far\"\\\\ by job\\nsecond line\n"
      "# TYPE demo_energy_joules_total counter\n"
      "demo_energy_joules_total{job=\"a\\\"b\\\\c\\nd\",kind=\"measured\"} 250\n"
      "demo_energy_joules_total{job=\"plain\",kind=\"modelled\"} 0.125\n"
      "# HELP demo_power_watts Power.\n"
      "# TYPE demo_power_watts gauge\n"
      "demo_power_watts 1e+21\n"
      "# HELP demo_build_info Version.\n"
      "# TYPE demo_build_info gauge\n"
      "demo_build_info{version=\"1.2\"} 1\n";
  EXPECT_EQ(render_metrics(sample_families(), ExpositionFormat::Prometheus004), expected);
}

TEST(ExpositionTest, OpenMetricsGolden) {
  const std::string expected =
      "# HELP demo_energy_joules Energy \\\"so far\\\"\\\\ by job\\nsecond line\n"
      "# TYPE demo_energy_joules counter\n"
      "# UNIT demo_energy_joules joules\n"
      "demo_energy_joules_total{job=\"a\\\"b\\\\c\\nd\",kind=\"measured\"} 250\n"
      "demo_energy_joules_total{job=\"plain\",kind=\"modelled\"} 0.125\n"
      "# HELP demo_power_watts Power.\n"
      "# TYPE demo_power_watts gauge\n"
      "# UNIT demo_power_watts watts\n"
      "demo_power_watts 1e+21\n"
      "# HELP demo_build Version.\n"
      "# TYPE demo_build info\n"
      "demo_build_info{version=\"1.2\"} 1\n"
      "# EOF\n";
  EXPECT_EQ(render_metrics(sample_families(), ExpositionFormat::OpenMetrics100), expected);
}

TEST(ExpositionTest, EscapingAndValues) {
  EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(escape_label_value("façade ✓"), "façade ✓");
  EXPECT_EQ(escape_help("say \"hi\"", ExpositionFormat::Prometheus004), "say \"hi\"");
  EXPECT_EQ(escape_help("say \"hi\"", ExpositionFormat::OpenMetrics100), "say \\\"hi\\\"");
  EXPECT_EQ(format_value(250.0), "250");
  EXPECT_EQ(format_value(0.1), "0.1");
  EXPECT_EQ(format_value(1.0 / 0.0), "+Inf");
  EXPECT_EQ(format_value(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(format_value(0.0 / 0.0), "NaN");
  EXPECT_EQ(std::stod(format_value(1.0 / 3.0)), 1.0 / 3.0);  // round-trips
}

TEST(ExpositionTest, AcceptHeaderChoosesTheFormat) {
  EXPECT_EQ(format_for_accept(""), ExpositionFormat::Prometheus004);
  EXPECT_EQ(format_for_accept("*/*"), ExpositionFormat::Prometheus004);
  EXPECT_EQ(format_for_accept("text/plain;version=0.0.4"), ExpositionFormat::Prometheus004);
  // What Prometheus 2.x sends.
  EXPECT_EQ(format_for_accept("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                              "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
            ExpositionFormat::OpenMetrics100);
  EXPECT_EQ(format_for_accept("application/openmetrics-text;q=0.2, text/plain;q=0.9"),
            ExpositionFormat::Prometheus004);
  EXPECT_EQ(format_for_accept("Application/OpenMetrics-Text"), ExpositionFormat::OpenMetrics100);
  EXPECT_EQ(format_for_accept("application/openmetrics-text;q=0"), ExpositionFormat::Prometheus004);
  EXPECT_STREQ(content_type(ExpositionFormat::OpenMetrics100),
               "application/openmetrics-text; version=1.0.0; charset=utf-8");
  EXPECT_STREQ(content_type(ExpositionFormat::Prometheus004), "text/plain; version=0.0.4; charset=utf-8");
}

TEST(ListenAddressTest, ParsesHostPortAndIpv6) {
  EXPECT_EQ(parse_listen_address("--listen", "127.0.0.1:9464").host, "127.0.0.1");
  EXPECT_EQ(parse_listen_address("--listen", "127.0.0.1:9464").port, 9464);
  const ListenAddress v6 = parse_listen_address("--listen", "[::1]:9100");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, 9100);
  EXPECT_EQ(v6.text(), "[::1]:9100");
  EXPECT_THROW((void)parse_listen_address("--listen", "9464"), std::runtime_error);
  EXPECT_THROW((void)parse_listen_address("--listen", "::1:9464"), std::runtime_error);
  EXPECT_THROW((void)parse_listen_address("--listen", "host:70000"), std::runtime_error);
  EXPECT_THROW((void)parse_listen_address("--listen", "host:http"), std::runtime_error);
  EXPECT_THROW((void)parse_listen_address("--listen", ":9464"), std::runtime_error);
}

AccountingSettings settings() {
  AccountingSettings s;
  s.footprint.pue = 1.5;
  s.footprint.pue_source = "--pue";
  s.footprint.carbon_intensity.g_per_kwh = 100.0;
  s.footprint.carbon_intensity.source = "--carbon-intensity 100";
  s.cpu.watts_per_core = 10.0;
  s.keep_ended = Seconds(10.0);
  s.version = "test";
  return s;
}

JobObservation job(const std::string& id, double cpu_s, std::uint64_t memory, std::vector<pid_t> pids = {}) {
  JobObservation seen;
  seen.job = {"slurm", id, "alice", "/slurm/uid_1000/job_" + id};
  seen.usage.cpu_s = cpu_s;
  seen.usage.memory_bytes = memory;
  seen.pids = std::move(pids);
  return seen;
}

const std::vector<NodeSensor> kSensors{{"rapl.package-0", "package", "/sys/…/energy_uj"},
                                       {"rapl.package-0.dram", "dram", "/sys/…/dram/energy_uj"},
                                       {"nvml.gpu0", "gpu", "GPU-0"}};

NodeSample sample_at(double at_s, double busy_s, std::vector<Joules> energy) {
  NodeSample s;
  s.at_s = at_s;
  s.wall_unix_s = 1.7e9 + at_s;
  s.machine_busy_cpu_s = busy_s;
  s.machine_memory_used_bytes = 8'000'000'000ULL;
  s.sensor_energy = std::move(energy);
  s.gpu_activity.resize(1);
  return s;
}

TEST(NodeAccountingTest, JobGetsItsCpuShareOfThePackageExactly) {
  NodeAccounting accounting(kSensors, settings());
  NodeSample first = sample_at(0.0, 500.0, {Joules{}, Joules{}, Joules{}});
  first.jobs.push_back(job("42", 10.0, 2'000'000'000ULL, {100, 101}));
  accounting.add(first);
  // Over 10 s: package +1000 J while the machine was busy 100 s of CPU and the job 25 s of it; DRAM +400 J
  // while the job held 2 GB of the 8 GB used; the GPU +300 J, the job's processes half of its SM use.
  NodeSample second = sample_at(10.0, 600.0, {Joules{1000.0}, Joules{400.0}, Joules{300.0}});
  second.jobs.push_back(job("42", 35.0, 2'000'000'000ULL, {100, 101}));
  second.gpu_activity[0].per_process_utilisation = true;
  second.gpu_activity[0].processes = {{100, 30.0}, {101, 20.0}, {200, 50.0}};
  accounting.add(second);

  const JobTotals* totals = accounting.job("slurm", "42");
  ASSERT_NE(totals, nullptr);
  EXPECT_DOUBLE_EQ(totals->package.value, 250.0);
  EXPECT_DOUBLE_EQ(totals->dram.value, 100.0);
  EXPECT_DOUBLE_EQ(totals->gpu.value, 150.0);
  EXPECT_DOUBLE_EQ(totals->cpu_s, 25.0);
  // Modelled: 2.5 cores x 10 W x 10 s = 250 J; 2e9 B / 2^30 x 0.3725 W/GB x 10 s.
  EXPECT_DOUBLE_EQ(totals->estimate_cpu.value, 250.0);
  EXPECT_NEAR(totals->estimate_memory.value, 2e9 / 1073741824.0 * 0.3725 * 10.0, 1e-9);

  EXPECT_DOUBLE_EQ(accounting.method_energy("process")->value, 1700.0);
  EXPECT_DOUBLE_EQ(accounting.method_energy("gpu")->value, 300.0);
  EXPECT_FALSE(accounting.method_energy("server"));
  EXPECT_FALSE(accounting.method_energy("server-minus-idle"));
  EXPECT_EQ(accounting.samples(), 2U);

  const std::string text = render_metrics(accounting.metrics(), ExpositionFormat::Prometheus004);
  EXPECT_NE(text.find("wattprint_job_energy_joules_total{scheduler=\"slurm\",job_id=\"42\",user=\"alice\","
                      "method=\"process\",component=\"package\",kind=\"measured\"} 250\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("wattprint_node_energy_joules_total{component=\"package\",sensor=\"rapl.package-0\","
                      "kind=\"measured\"} 1000\n"),
            std::string::npos);
  EXPECT_NE(text.find("wattprint_node_power_watts{component=\"package\",sensor=\"rapl.package-0\","
                      "kind=\"measured\"} 100\n"),
            std::string::npos);
  EXPECT_NE(text.find("wattprint_method_energy_joules_total{method=\"process\",kind=\"measured\"} 1700\n"),
            std::string::npos);
  // 1700 J = 1700/3.6e6 kWh x 1.5 x 100 g/kWh.
  const double co2 = 1700.0 / 3.6e6 * 1.5 * 100.0;
  EXPECT_NE(text.find("wattprint_method_co2_grams_total{method=\"process\",kind=\"measured\"} " +
                      format_value(co2)),
            std::string::npos);
  EXPECT_NE(
      text.find("wattprint_job_cpu_seconds_total{scheduler=\"slurm\",job_id=\"42\",user=\"alice\"} 25\n"),
      std::string::npos);
  EXPECT_NE(text.find("wattprint_pue{source=\"--pue\"} 1.5\n"), std::string::npos);
}

TEST(NodeAccountingTest, EstimateIsBusyCoresTimesWattsPerCore) {
  NodeAccounting accounting(kSensors, settings());
  NodeSample first = sample_at(0.0, 0.0, {Joules{}, Joules{}, Joules{}});
  first.machine_memory_used_bytes = 0;
  accounting.add(first);
  NodeSample second = sample_at(10.0, 100.0, {Joules{}, Joules{}, Joules{}});
  second.machine_memory_used_bytes = 0;
  second.gpu_activity[0].utilisation_percent = 0.0;
  accounting.add(second);
  // 10 busy cores x 10 W x 10 s; the GPU idle (0 % utilisation) adds nothing.
  EXPECT_DOUBLE_EQ(accounting.method_energy("estimate")->value, 1000.0);
}

TEST(NodeAccountingTest, ServerMinusIdleSubtractsTheBaselinePerSample) {
  AccountingSettings s = settings();
  s.server_attached = true;
  s.server_sensor = "redfish";
  s.idle_server_power = Watts{100.0};
  s.idle_source = "--idle-watts 100";
  NodeAccounting accounting({}, s);
  NodeSample first;
  accounting.add(first);
  NodeSample second;
  second.at_s = 2.0;
  second.server_energy = Joules{500.0};
  second.server_power = Watts{250.0};
  accounting.add(second);
  NodeSample third;  // below idle: adds nothing, never decreases
  third.at_s = 4.0;
  third.server_energy = Joules{150.0};
  accounting.add(third);
  EXPECT_DOUBLE_EQ(accounting.method_energy("server")->value, 650.0);
  EXPECT_DOUBLE_EQ(accounting.method_energy("server-minus-idle")->value, 300.0);
  EXPECT_FALSE(accounting.method_energy("process"));
  const std::string text = render_metrics(accounting.metrics(), ExpositionFormat::OpenMetrics100);
  EXPECT_NE(
      text.find(
          "wattprint_node_power_watts{component=\"server\",sensor=\"redfish\",kind=\"measured\"} 250\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("wattprint_node_idle_power_watts{source=\"--idle-watts 100\"} 100\n"),
            std::string::npos);
}

TEST(NodeAccountingTest, EndedJobKeepsItsSeriesForKeepEndedThenDisappears) {
  NodeAccounting accounting(kSensors, settings());  // keep_ended: 10 s
  NodeSample s = sample_at(0.0, 0.0, {Joules{}, Joules{}, Joules{}});
  s.jobs.push_back(job("7", 0.0, 0));
  accounting.add(s);
  s = sample_at(5.0, 10.0, {Joules{100.0}, Joules{}, Joules{}});
  s.jobs.push_back(job("7", 10.0, 0));
  accounting.add(s);
  ASSERT_NE(accounting.job("slurm", "7"), nullptr);
  EXPECT_DOUBLE_EQ(accounting.job("slurm", "7")->package.value, 100.0);

  for (const double at : {6.0, 12.0, 16.0}) {  // gone since 6 s: kept until 16 s
    accounting.add(sample_at(at, 10.0, {Joules{50.0}, Joules{}, Joules{}}));
    const JobTotals* totals = accounting.job("slurm", "7");
    ASSERT_NE(totals, nullptr) << at;
    EXPECT_DOUBLE_EQ(totals->package.value, 100.0) << "an ended job's counters do not move";
    EXPECT_EQ(totals->ended_at_s, 6.0);
  }
  EXPECT_NE(render_metrics(accounting.metrics(), ExpositionFormat::Prometheus004)
                .find("wattprint_job_running{scheduler=\"slurm\",job_id=\"7\",user=\"alice\"} 0\n"),
            std::string::npos);
  accounting.add(sample_at(16.5, 10.0, {Joules{}, Joules{}, Joules{}}));
  EXPECT_EQ(accounting.job("slurm", "7"), nullptr);
  EXPECT_EQ(accounting.job_count(), 0U);
  EXPECT_EQ(render_metrics(accounting.metrics(), ExpositionFormat::Prometheus004).find("job_id=\"7\""),
            std::string::npos);
}

TEST(NodeAccountingTest, FirstSightOfAJobIsItsBaseline) {
  NodeAccounting accounting(kSensors, settings());
  accounting.add(sample_at(0.0, 0.0, {Joules{}, Joules{}, Joules{}}));
  // The job appears with 1000 s of CPU time already used: none of it is this interval's.
  NodeSample s = sample_at(5.0, 10.0, {Joules{100.0}, Joules{}, Joules{}});
  s.jobs.push_back(job("9", 1000.0, 0));
  accounting.add(s);
  EXPECT_DOUBLE_EQ(accounting.job("slurm", "9")->package.value, 0.0);
  EXPECT_DOUBLE_EQ(accounting.job("slurm", "9")->cpu_s, 0.0);
}

}  // namespace
}  // namespace wattprint::exporter
