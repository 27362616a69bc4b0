// The real `wattprint exporter` over a fake powercap tree, a fake /proc and a fake cgroup tree that the test
// advances step by step (SIGUSR1 makes the exporter sample after each step, so the truth is exact), scraped
// by Debian's real Prometheus server; a PromQL query of the job's energy must equal the truth.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "fakes/fake_cgroup_tree.hpp"
#include "fakes/fake_powercap.hpp"
#include "fakes/require_simulators.hpp"
#include "integration/harness.hpp"

namespace wattprint::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const fs::path kPrometheus = "/usr/bin/prometheus";

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw std::runtime_error("no free port");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

/// Overwrites a file in place (no rename: the exporter keeps some files open).
void overwrite(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out.flush()) throw std::runtime_error("cannot write " + path.string());
}

/// The fake machine: what the test says the sensors, /proc and the job's cgroup read.
struct FakeNode {
  // The steps come milliseconds apart: a zone allowed a high power (so a 1000-J step is plausible) and a
  // range that still never wraps.
  FakePowercapTree powercap{
      {FakeZone("intel-rapl:0", "package-0").with_max_power(1e7).with_range(1'000'000'000'000'000'000ULL)}};
  // cgroup v2 (the other layouts are CgroupFs's own tests): the Slurm job 42 of uid 1000, one process.
  FakeCgroupTree cgroups{CgroupVersion::V2};
  std::string job_path = cgroups.add_slurm_job(1000, "42");
  double ticks_per_second = static_cast<double>(::sysconf(_SC_CLK_TCK));
  double package_j = 0.0;
  double machine_busy_s = 0.0;
  double job_cpu_s = 0.0;

  FakeNode() {
    cgroups.add_process(4242, job_path, 1000);
    cgroups.set_memory_bytes(job_path, 1073741824);
    overwrite(proc_root() / "meminfo", "MemTotal:       16777216 kB\nMemAvailable:    8388608 kB\n");
    write();
  }
  /// The fake /proc: the fixture's processes, and the machine's stat and meminfo written here.
  [[nodiscard]] fs::path proc_root() const { return cgroups.proc_root(); }
  void write() {
    overwrite(powercap.zone_path("intel-rapl:0") / "energy_uj",
              std::to_string(static_cast<std::uint64_t>(std::llround(package_j * 1e6))) + "\n");
    const auto ticks = static_cast<std::uint64_t>(std::llround(machine_busy_s * ticks_per_second));
    overwrite(proc_root() / "stat", "cpu  " + std::to_string(ticks) + " 0 0 1000000 0 0 0 0 0 0\n");
    cgroups.set_cpu_usec(job_path, static_cast<std::uint64_t>(std::llround(job_cpu_s * 1e6)));
  }
};

std::optional<double> metric_value(const std::string& text, const std::string& series) {
  const std::size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return std::nullopt;
  return std::stod(text.substr(at + series.size() + 2));
}

/// Polls until `done` holds (a handshake on what the other process publishes, not a guess of its speed).
template <typename Done>
bool wait_for(Done done, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

/// The value of a PromQL instant query with one result, if any yet.
std::optional<double> promql(httplib::Client& prometheus, const std::string& query) {
  const auto response =
      prometheus.Get("/api/v1/query", httplib::Params{{"query", query}}, httplib::Headers{});
  if (!response || response->status != 200) return std::nullopt;
  const nlohmann::json body = nlohmann::json::parse(response->body);
  if (body.at("status") != "success" || body.at("data").at("result").size() != 1) return std::nullopt;
  return std::stod(body["data"]["result"][0]["value"][1].get<std::string>());
}

TEST(ExporterPrometheusTest, PromqlJobEnergyEqualsTheTruth) {
  if (!fs::exists(kPrometheus)) {
    if (required_by_environment())
      FAIL() << kPrometheus << " is missing: install Debian's prometheus package";
    GTEST_SKIP() << kPrometheus
                 << " is missing (apt-get install prometheus); WATTPRINT_REQUIRE_SIMULATORS unset";
  }
  const auto bin = wattprint_bin_from_env();
  ASSERT_TRUE(bin) << "WATTPRINT_BIN is not set";
  FakeNode node;
  TempDir home("wattprint-exporter-home");
  const int exporter_port = free_port();
  SpawnOptions options;
  options.home = home.path();
  options.timeout = 180s;
  options.args = {"exporter",
                  "--listen",
                  "127.0.0.1:" + std::to_string(exporter_port),
                  "--interval",
                  "3600",
                  "--sysfs-root",
                  node.powercap.sysfs_root().string(),
                  "--proc-root",
                  node.proc_root().string(),
                  "--cgroup-root",
                  node.cgroups.root().string(),
                  "--pue",
                  "1.5",
                  "--carbon-intensity",
                  "100"};
  Process exporter(*bin, options);
  httplib::Client client("127.0.0.1", exporter_port);
  std::string metrics;
  const auto samples = [&]() -> std::optional<double> {
    const auto response = client.Get("/metrics");
    if (!response || response->status != 200) return std::nullopt;
    metrics = response->body;
    return metric_value(metrics, "wattprint_exporter_samples_total");
  };
  ASSERT_TRUE(wait_for([&] { return samples() == 1.0; }, 60s))
      << "the exporter never served its first sample";

  // Each step: package energy, machine busy CPU time and the job's CPU time; the job gets
  // package × job CPU ÷ busy CPU: 1000 × 25/100 + 600 × 30/40 + 200 × 5/50 = 250 + 450 + 20 = 720 J.
  const struct {
    double package_j, busy_s, job_s;
  } steps[] = {{1000.0, 100.0, 25.0}, {600.0, 40.0, 30.0}, {200.0, 50.0, 5.0}};
  double expected_j = 0.0;
  double step_count = 1.0;
  for (const auto& step : steps) {
    node.package_j += step.package_j;
    node.machine_busy_s += step.busy_s;
    node.job_cpu_s += step.job_s;
    node.write();
    expected_j += step.package_j * step.job_s / step.busy_s;
    step_count += 1.0;
    exporter.signal(SIGUSR1);
    ASSERT_TRUE(wait_for([&] { return samples() == step_count; }, 60s)) << "no sample after SIGUSR1";
  }
  const std::string job_series = R"(wattprint_job_energy_joules_total{scheduler="slurm",job_id="42",user=")";
  ASSERT_NE(metrics.find(job_series), std::string::npos) << metrics;

  // Between samples every scrape is the same bytes, in both formats.
  const auto first = client.Get("/metrics");
  const auto second = client.Get("/metrics");
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->body, second->body);
  EXPECT_EQ(first->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  const httplib::Headers openmetrics{{"Accept", "application/openmetrics-text;version=1.0.0"}};
  const auto om1 = client.Get("/metrics", openmetrics);
  const auto om2 = client.Get("/metrics", openmetrics);
  ASSERT_TRUE(om1 && om2);
  EXPECT_EQ(om1->body, om2->body);
  EXPECT_TRUE(om1->body.ends_with("# EOF\n"));
  // Read-only: no method but GET and HEAD; unknown paths 404.
  const auto post = client.Post("/metrics", "x", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  const auto head = client.Head("/metrics");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());
  const auto missing = client.Get("/admin");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);

  // A real Prometheus scrapes the exporter every second.
  TempDir prometheus_dir("wattprint-prometheus");
  const int prometheus_port = free_port();
  overwrite(prometheus_dir.path() / "prometheus.yml",
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: wattprint\n    static_configs:\n      - targets: ['127.0.0.1:" +
                std::to_string(exporter_port) + "']\n");
  SpawnOptions prometheus_options;
  prometheus_options.home = prometheus_dir.path();
  prometheus_options.timeout = 180s;
  prometheus_options.args = {"--config.file=" + (prometheus_dir.path() / "prometheus.yml").string(),
                             "--storage.tsdb.path=" + (prometheus_dir.path() / "data").string(),
                             "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port)};
  Process prometheus(kPrometheus, prometheus_options);
  httplib::Client api("127.0.0.1", prometheus_port);
  ASSERT_TRUE(wait_for([&] { return promql(api, "wattprint_exporter_samples_total") == step_count; }, 120s))
      << "Prometheus never scraped the final sample";
  const std::optional<double> job_j = promql(
      api, R"(sum(wattprint_job_energy_joules_total{job_id="42",method="process",component="package"}))");
  ASSERT_TRUE(job_j) << metrics;
  EXPECT_NEAR(*job_j, expected_j, 1e-6 * expected_j);
  EXPECT_NEAR(*job_j, 720.0, 1e-6 * 720.0);
  const std::optional<double> node_j =
      promql(api, R"(sum(wattprint_node_energy_joules_total{component="package"}))");
  ASSERT_TRUE(node_j);
  EXPECT_NEAR(*node_j, 1800.0, 1e-6 * 1800.0);
  // The job's CPU time, and its owner found through its process (uid 1000, by name or number).
  EXPECT_EQ(promql(api, R"(sum(wattprint_job_cpu_seconds_total{job_id="42",user!=""}))"), 60.0);
  // CO2 of the job: kWh × PUE × intensity.
  const std::optional<double> job_g =
      promql(api, R"(sum(wattprint_job_co2_grams_total{job_id="42",method="process"}))");
  ASSERT_TRUE(job_g);
  EXPECT_NEAR(*job_g, 720.0 / 3.6e6 * 1.5 * 100.0, 1e-6 * 720.0 / 3.6e6 * 1.5 * 100.0);

  prometheus.signal(SIGTERM);
  (void)prometheus.wait();
  exporter.signal(SIGTERM);
  const ProcessResult result = exporter.wait();
  EXPECT_EQ(result.exit_code, 0) << result.err;
}

TEST(ExporterPrometheusTest, PortInUseIsOneLineWithTheRemedy) {
  const auto bin = wattprint_bin_from_env();
  ASSERT_TRUE(bin) << "WATTPRINT_BIN is not set";
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), length), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const std::string listen = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  FakeNode node;
  TempDir home("wattprint-exporter-home");
  SpawnOptions options;
  options.home = home.path();
  options.args = {"exporter",
                  "--listen",
                  listen,
                  "--sysfs-root",
                  node.powercap.sysfs_root().string(),
                  "--proc-root",
                  node.proc_root().string(),
                  "--cgroup-root",
                  node.cgroups.root().string()};
  const ProcessResult result = run_process(*bin, options);
  ::close(fd);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("cannot listen on " + listen), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("--listen"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace wattprint::testing
