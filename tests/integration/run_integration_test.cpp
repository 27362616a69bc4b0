// Integration tests of the real `wattprint` binary ($WATTPRINT_BIN) on live fake powercap trees: energies (J)
// against the fake's ground truth, exit statuses, signals, stdio pass-through, bad input, degraded sensors.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "fakes/fake_powercap.hpp"
#include "integration/harness.hpp"

namespace wattprint::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

// Upper bound on the time between one of wattprint's clock readings (start/end of duration_s) and the counter
// read that goes with it, on the 2-CPU CI machine; energy tolerances are power × (tick + this) per endpoint.
constexpr double kReadSkewS = 0.02;
constexpr auto kTick = 5ms;
constexpr double kTickS = 0.005;
constexpr uid_t kNobody = 65534;
constexpr gid_t kNogroup = 65534;

// Error bound (J) of an energy measured at constant `power_w` over a run: each of the two endpoint reads may
// see a value up to one fake tick old and be up to kReadSkewS away from the clock reading.
double energy_tolerance_j(double power_w) { return power_w * 2.0 * (kTickS + kReadSkewS); }

// The number at a JSON pointer; throws (failing the test with the report) when missing or not a number.
double number(const json& j, const std::string& pointer) {
  const json::json_pointer ptr(pointer);
  if (!j.contains(ptr) || !j.at(ptr).is_number()) {
    throw std::runtime_error("report: " + pointer + " is " +
                             (j.contains(ptr) ? j.at(ptr).dump() : "missing") +
                             ", expected a number; report:\n" + j.dump(2));
  }
  return j.at(ptr).get<double>();
}

const json* find_sensor(const json& report, const std::string& name) {
  if (!report.contains("sensors") || !report["sensors"].is_array()) return nullptr;
  for (const json& s : report["sensors"]) {
    if (s.value("name", "") == name) return &s;
  }
  return nullptr;
}

std::string sensor_names(const json& report) {
  std::string names;
  if (report.contains("sensors") && report["sensors"].is_array()) {
    for (const json& s : report["sensors"]) names += s.value("name", "?") + " ";
  }
  return names;
}

// Busy CPU time of the whole machine in seconds, from the `cpu` line of /proc/stat: user + nice + system +
// irq + softirq + steal (idle and iowait excluded, as wattprint counts it).
double machine_busy_cpu_s() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  std::array<double, 8> ticks{};
  in >> cpu;
  for (double& t : ticks) in >> t;
  if (!in || cpu != "cpu") throw std::runtime_error("cannot parse /proc/stat");
  const double busy = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6] + ticks[7];
  return busy / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class RunIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto bin = wattprint_bin_from_env();
    if (!bin) {
      GTEST_SKIP()
          << "WATTPRINT_BIN is not set: point it at the wattprint executable to run the integration tests";
    }
    ASSERT_TRUE(fs::is_regular_file(*bin)) << "WATTPRINT_BIN=" << bin->string() << " is not a file";
    ASSERT_EQ(::access(bin->c_str(), X_OK), 0) << "WATTPRINT_BIN=" << bin->string() << " is not executable";
    bin_ = *bin;
  }

  [[nodiscard]] fs::path json_path() const { return home_.path() / "report.json"; }

  // `wattprint run --sysfs-root R --json J OPTIONS -- COMMAND`.
  [[nodiscard]] std::vector<std::string> run_args(const FakePowercapTree& tree,
                                                  std::vector<std::string> options,
                                                  const std::vector<std::string>& command) const {
    std::vector<std::string> args{"run", "--sysfs-root", tree.sysfs_root().string(), "--json",
                                  json_path().string()};
    args.insert(args.end(), options.begin(), options.end());
    args.emplace_back("--");
    args.insert(args.end(), command.begin(), command.end());
    return args;
  }

  [[nodiscard]] SpawnOptions spawn_options(std::vector<std::string> args) const {
    SpawnOptions o;
    o.args = std::move(args);
    o.home = home_.path();
    o.cwd = home_.path();
    return o;
  }

  ProcessResult run(std::vector<std::string> args) const {
    return run_process(bin_, spawn_options(std::move(args)));
  }

  // Runs `wattprint run OPTIONS -- sh -c '…; exec sleep SLEEP_S'` and calls `inject` as soon as the command
  // has started. wattprint takes its t = 0 reading before it spawns the command, so a fault injected then
  // (with its own delay) falls that delay or a little more into the run, however slow the binary's start-up
  // is (under ASan on a loaded machine it has taken over 0.6 s).
  ProcessResult run_injecting_when_command_starts(const FakePowercapTree& tree,
                                                  std::vector<std::string> options, double sleep_s,
                                                  const std::function<void()>& inject) const {
    const fs::path started = home_.path() / "COMMAND_STARTED";
    Process p(bin_, spawn_options(run_args(tree, std::move(options),
                                           {"sh", "-c", ": > \"$0\"; exec sleep " + std::to_string(sleep_s),
                                            started.string()})));
    const bool command_started = wait_for_file(started, 60s);
    if (command_started) inject();
    ProcessResult r = p.wait();
    EXPECT_TRUE(command_started) << "the command did not start within 60 s: " << r.err;
    return r;
  }

  fs::path bin_;
  TempDir home_{"wattprint-home"};
};

std::string describe(const ProcessResult& r) {
  return "exit " + std::to_string(r.exit_code) + (r.timed_out ? " (timed out)" : "") + "\n--- stdout:\n" +
         r.out + "\n--- stderr:\n" + r.err;
}

// The keys every `run` report has (schema_version 2).
void expect_run_report_shape(const json& report, const std::vector<std::string>& command, int exit_code) {
  EXPECT_EQ(report.value("schema_version", 0), 2);
  EXPECT_EQ(report.at("command"), json(command));
  EXPECT_EQ(report.at("exit_code"), json(exit_code));
  EXPECT_TRUE(report.at("started_at").is_string());
  EXPECT_TRUE(report.at("duration_s").is_number());
  EXPECT_TRUE(report.at("cpu_time_s").is_number());
  for (const char* key : {"hostname", "cpu_model", "logical_cpus", "memory_gb"}) {
    EXPECT_TRUE(report.at("host").contains(key)) << key;
  }
  EXPECT_TRUE(report.at("pue").is_number());
  EXPECT_TRUE(report.at("carbon_intensity").at("g_per_kwh").is_number());
  EXPECT_TRUE(report.at("carbon_intensity").contains("source"));
  for (const char* key : {"cpu_j", "dram_j", "gpu_j", "server_j"}) {
    EXPECT_TRUE(report.at("measured").contains(key)) << key;
  }
  for (const char* method : {"estimate", "process", "gpu", "server", "server-minus-idle"}) {
    SCOPED_TRACE(method);
    const json& m = report.at("methods").at(method);
    EXPECT_TRUE(m.at("available").is_boolean());
    for (const char* key : {"reason", "it_energy_j", "energy_kwh", "co2_g"})
      EXPECT_TRUE(m.contains(key)) << key;
    for (const char* key : {"cpu_j", "dram_j", "memory_j", "gpu_j", "server_j"}) {
      EXPECT_TRUE(m.at("components").contains(key)) << key;
    }
  }
  EXPECT_TRUE(report.at("sensors").is_array());
}

// --- 1. Two sockets: packages and DRAM add up; core, psys and intel-rapl-mmio do not.
// ---------------------------

TEST_F(RunIntegration, TwoSocketsSumPackagesAndDramOnly) {
  constexpr double kP0 = 20.0, kP1 = 15.0, kDram0 = 3.0, kDram1 = 4.0;
  FakePowercapTree tree({
      FakeZone("intel-rapl:0", "package-0", kP0).with_initial(52649883221ULL).with_max_power(125.0),
      FakeZone("intel-rapl:0:0", "core", 12.0).with_initial(48265700414ULL),
      FakeZone("intel-rapl:0:1", "dram", kDram0).with_range(65712999613ULL).with_initial(1234567890ULL),
      FakeZone("intel-rapl:1", "package-1", kP1).with_initial(65997277274ULL).with_max_power(125.0),
      FakeZone("intel-rapl:1:0", "dram", kDram1).with_range(65712999613ULL).with_initial(9876543210ULL),
      FakeZone("intel-rapl:2", "psys", 60.0).with_initial(117870082040ULL),
      FakeZone("intel-rapl-mmio:0", "package-0", kP0).with_initial(52649883221ULL),
  });
  tree.start(kTick);
  const double cpu_before = tree.true_energy_j("intel-rapl:0") + tree.true_energy_j("intel-rapl:1");
  const double dram_before = tree.true_energy_j("intel-rapl:0:1") + tree.true_energy_j("intel-rapl:1:0");
  const std::vector<std::string> command{"sleep", "1.5"};
  const ProcessResult r = run(run_args(tree, {}, command));
  const double cpu_truth =
      tree.true_energy_j("intel-rapl:0") + tree.true_energy_j("intel-rapl:1") - cpu_before;
  const double dram_truth =
      tree.true_energy_j("intel-rapl:0:1") + tree.true_energy_j("intel-rapl:1:0") - dram_before;
  ASSERT_EQ(r.exit_code, 0) << describe(r);

  const json report = read_json(json_path());
  expect_run_report_shape(report, command, 0);
  const double duration = number(report, "/duration_s");
  EXPECT_GE(duration, 1.5);
  EXPECT_LE(duration, r.wall_s);

  const double cpu = number(report, "/measured/cpu_j");
  const double dram = number(report, "/measured/dram_j");
  EXPECT_NEAR(cpu, (kP0 + kP1) * duration, energy_tolerance_j(kP0 + kP1))
      << "cpu_j must be package-0 + package-1 only (core 12 W, psys 60 W, mmio 20 W excluded)";
  EXPECT_NEAR(dram, (kDram0 + kDram1) * duration, energy_tolerance_j(kDram0 + kDram1));
  // Never more than what the fake produced while wattprint ran (plus one tick of lag at the first read).
  EXPECT_LE(cpu, cpu_truth + (kP0 + kP1) * kTickS);
  EXPECT_LE(dram, dram_truth + (kDram0 + kDram1) * kTickS);

  for (const char* name : {"rapl.package-0", "rapl.package-1"}) {
    const json* s = find_sensor(report, name);
    ASSERT_NE(s, nullptr) << name << " not in sensors: " << sensor_names(report);
    EXPECT_EQ(s->value("status", ""), "ok") << s->dump(2);
  }
  // The summary goes to stderr, nothing to stdout (sleep prints nothing).
  EXPECT_EQ(r.out, "");
  EXPECT_FALSE(r.err.empty());
}

// --- 2. Wraps during a long reporting interval.
// -------------------------------------------------------------------

TEST_F(RunIntegration, CounterWrapsDuringALongInterval) {
  constexpr double kPowerW = 10.0;
  constexpr std::uint64_t kRangeUj = 3'000'000;  // wraps every 0.3 s at 10 W
  FakePowercapTree tree({FakeZone("intel-rapl:0", "package-0", kPowerW)
                             .with_range(kRangeUj)
                             .with_initial(2'500'000)
                             .with_max_power(20.0)});
  tree.start(kTick);
  const std::uint64_t wraps_before = tree.wraps("intel-rapl:0");
  const ProcessResult r = run(run_args(tree, {"--interval", "5"}, {"sleep", "2"}));
  const std::uint64_t wraps = tree.wraps("intel-rapl:0") - wraps_before;
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  // 20 J over a 3 J range: the test only means something if several wraps happened between 5 s reports.
  ASSERT_GE(wraps, 5u);

  const json report = read_json(json_path());
  const double duration = number(report, "/duration_s");
  EXPECT_NEAR(number(report, "/measured/cpu_j"), kPowerW * duration, energy_tolerance_j(kPowerW))
      << wraps << " wraps happened; polling must be well inside the wrap period despite --interval 5";
  // Reads are spaced well inside the safe period: scheduling delays must not be reported as missed wraps.
  const json* sensor = find_sensor(report, "rapl.package-0");
  ASSERT_NE(sensor, nullptr);
  EXPECT_EQ(sensor->at("status"), "ok") << sensor->dump(2);
  EXPECT_TRUE(sensor->at("degraded_spans").empty()) << sensor->dump(2);
}

// --- 3. Process share of the package energy.
// ------------------------------------------------------------------

TEST_F(RunIntegration, ProcessMethodGivesABusyCommandMostOfThePackage) {
  FakePowercapTree tree({FakeZone("intel-rapl:0", "package-0", 10.0),
                         FakeZone("intel-rapl:0:0", "dram", 2.0).with_range(65712999613ULL)});
  tree.start(kTick);
  // Busy for 1 to 2 s on one of the 2 CPUs, without forking.
  const double busy_before = machine_busy_cpu_s();
  const ProcessResult r =
      run(run_args(tree, {}, {"bash", "-c", "SECONDS=0; while (( SECONDS < 2 )); do :; done"}));
  const double machine_busy = machine_busy_cpu_s() - busy_before;
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const json report = read_json(json_path());
  ASSERT_EQ(report.at("methods").at("process").value("available", false), true) << report.dump(2);
  const double measured = number(report, "/measured/cpu_j");
  const double share = number(report, "/methods/process/components/cpu_j");
  const double command_cpu = number(report, "/cpu_time_s");
  EXPECT_GE(command_cpu, 0.5 * number(report, "/duration_s")) << "the busy loop did not register as busy";
  EXPECT_LE(share, measured * (1.0 + 1e-9));
  // The share of the machine's busy CPU time (/proc/stat, idle and iowait excluded) that the command had,
  // seen from outside over a window enclosing wattprint's: a lower bound on the share wattprint should find,
  // less one clock tick of /proc/stat granularity per CPU at each end.
  const double granularity_s = 2.0 / static_cast<double>(::sysconf(_SC_CLK_TCK)) *
                               static_cast<double>(std::thread::hardware_concurrency());
  const double observed_share = std::max(0.0, command_cpu - granularity_s) / machine_busy;
  EXPECT_GE(share / measured, observed_share)
      << "busy command got " << share << " J of " << measured << " J; it had " << command_cpu << " s of the "
      << machine_busy << " s of busy CPU time on the machine";
  // On an otherwise idle 2-CPU machine (others used less than half as much CPU as the command), ≥ 40%.
  if (machine_busy - command_cpu < 0.5 * command_cpu) {
    EXPECT_GE(share, 0.4 * measured) << "busy command got " << share << " J of " << measured << " J";
  }
}

TEST_F(RunIntegration, ProcessMethodGivesASleepingCommandLittle) {
  FakePowercapTree tree({FakeZone("intel-rapl:0", "package-0", 10.0),
                         FakeZone("intel-rapl:0:0", "dram", 2.0).with_range(65712999613ULL)});
  tree.start(kTick);
  // The machine is kept busy meanwhile (one core spinning here): on an idle machine the whole busy time is
  // a few clock ticks, and the one 10-ms tick /proc may charge to sleep's start-up is then 10 % of it.
  std::atomic<bool> spinning{true};
  std::thread spinner([&spinning] {
    while (spinning.load(std::memory_order_relaxed)) {
    }
  });
  const ProcessResult r = run(run_args(tree, {}, {"sleep", "2"}));
  spinning = false;
  spinner.join();
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const json report = read_json(json_path());
  ASSERT_EQ(report.at("methods").at("process").value("available", false), true) << report.dump(2);
  const double measured = number(report, "/measured/cpu_j");
  const double share = number(report, "/methods/process/components/cpu_j");
  EXPECT_GE(share, 0.0);
  EXPECT_LT(share, 0.1 * measured) << "sleep got " << share << " J of " << measured << " J";
}

// --- 4. Exit statuses and signals.
// ------------------------------------------------------------------------------

struct ExitCase {
  const char* label;
  std::vector<std::string> command;  // "@nonexec" is replaced by a file without execute permission
  int expected;
};

void PrintTo(const ExitCase& c, std::ostream* os) { *os << c.label; }

class RunExitStatus : public RunIntegration, public ::testing::WithParamInterface<ExitCase> {};

TEST_P(RunExitStatus, IsTheCommands) {
  FakePowercapTree tree({FakeZone("intel-rapl:0", "package-0", 10.0)});
  tree.start(kTick);
  std::vector<std::string> command = GetParam().command;
  const fs::path nonexec = home_.path() / "not-executable.sh";
  write_text_file(nonexec, "#!/bin/sh\nexit 0\n", 0644);
  for (auto& arg : command) {
    if (arg == "@nonexec") arg = nonexec.string();
  }
  const ProcessResult r = run(run_args(tree, {}, command));
  EXPECT_EQ(r.exit_code, GetParam().expected) << describe(r);
  EXPECT_FALSE(r.signaled) << "wattprint itself was killed by a signal";
  const json report = read_json(json_path());
  EXPECT_EQ(report.at("exit_code"), json(GetParam().expected)) << report.dump(2);
}

INSTANTIATE_TEST_SUITE_P(
    Commands, RunExitStatus,
    ::testing::Values(ExitCase{"false", {"false"}, 1}, ExitCase{"exit7", {"sh", "-c", "exit 7"}, 7},
                      ExitCase{"not_found_on_path", {"wattprint-no-such-command-4f2a"}, 127},
                      ExitCase{"not_found_path", {"/nonexistent/wattprint-no-such-command"}, 127},
                      ExitCase{"not_executable", {"@nonexec"}, 126},
                      ExitCase{"killed_by_sigterm", {"sh", "-c", "kill -TERM $$"}, 143}),
    [](const ::testing::TestParamInfo<ExitCase>& param_info) { return std::string(param_info.param.label); });

class RunForwardsSignal : public RunIntegration, public ::testing::WithParamInterface<int> {};

TEST_P(RunForwardsSignal, ToTheCommandAndStillReports) {
  const int sig = GetParam();
  FakePowercapTree tree({FakeZone("intel-rapl:0", "package-0", 10.0)});
  tree.start(kTick);
  constexpr double kSignalAfterS = 1.0;
  Process p(bin_, spawn_options(run_args(tree, {}, {"sleep", "30"})));
  std::this_thread::sleep_for(std::chrono::duration<double>(kSignalAfterS));
  p.signal(sig);
  const ProcessResult r = p.wait();
  EXPECT_EQ(r.exit_code, 128 + sig) << describe(r);
  EXPECT_FALSE(r.signaled) << "wattprint died of the signal instead of passing it on";
  EXPECT_LT(r.wall_s, 10.0) << "the command was not interrupted";
  const json report = read_json(json_path());
  EXPECT_EQ(report.at("exit_code"), json(128 + sig)) << report.dump(2);
  // It measured up to the signal, not nothing.
  EXPECT_NEAR(number(report, "/measured/cpu_j"), 10.0 * number(report, "/duration_s"),
              energy_tolerance_j(10.0));
  // The command ran until the signal (less wattprint's start-up, which is well under half of it).
  EXPECT_GE(number(report, "/duration_s"), kSignalAfterS / 2);
  EXPECT_LE(number(report, "/duration_s"), r.wall_s);
}

INSTANTIATE_TEST_SUITE_P(Signals, RunForwardsSignal, ::testing::Values(SIGINT, SIGTERM, SIGHUP),
                         [](const ::testing::TestParamInfo<int>& param_info) {
                           return std::string(param_info.param == SIGINT    ? "SIGINT"
                                              : param_info.param == SIGTERM ? "SIGTERM"
                                                                            : "SIGHUP");
                         });

// --- 5. The command's stdio is untouched.
// ---------------------------------------------------------------------------

TEST_F(RunIntegration, StdinAndStdoutPassThrough) {
  FakePowercapTree tree({FakeZone("intel-rapl:0", "package-0", 10.0)});
  tree.start(kTick);
  SpawnOptions o = spawn_options(run_args(tree, {}, {"cat"}));
  o.stdin_data = "hello\n";
  const ProcessResult r = run_process(bin_, o);
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "hello\n");
  EXPECT_FALSE(r.err.empty()) << "no summary on stderr";
  EXPECT_FALSE(contains(r.err, "hello"));
}

TEST_F(RunIntegration, SummaryComesAfterTheCommandsStderr) {
  FakePowercapTree tree({FakeZone("intel-rapl:0", "package-0", 10.0)});
  tree.start(kTick);
  const ProcessResult r = run(run_args(tree, {}, {"sh", "-c", "echo out; echo err >&2"}));
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err.rfind("err\n", 0), 0u) << "wattprint wrote to stderr before the command ended:\n" << r.err;
  EXPECT_GT(r.err.size(), 4u) << "no summary on stderr";
}

// --- 6. Bad input: exit 2, one line naming the option, command not started.
// ------------------------------------

struct BadInput {
  const char* label;
  std::vector<std::string> options;
  std::string expected_in_error;
  std::string config;  // written to $XDG_CONFIG_HOME/wattprint/config.toml when not empty
};

void PrintTo(const BadInput& c, std::ostream* os) { *os << c.label; }

class RunRejects : public RunIntegration, public ::testing::WithParamInterface<BadInput> {};

TEST_P(RunRejects, BadInputWithoutStartingTheCommand) {
  const BadInput& c = GetParam();
  TempDir empty_sysfs("wattprint-nosysfs");
  if (!c.config.empty()) write_text_file(home_.path() / ".config/wattprint/config.toml", c.config);
  const fs::path marker = home_.path() / "MARKER";
  std::vector<std::string> args{"run", "--sysfs-root", empty_sysfs.path().string()};
  args.insert(args.end(), c.options.begin(), c.options.end());
  args.insert(args.end(), {"--", "touch", marker.string()});
  const ProcessResult r = run(args);
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_FALSE(fs::exists(marker)) << "the command was started";
  EXPECT_EQ(r.out, "");
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.back(), '\n');
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line:\n" << r.err;
  EXPECT_TRUE(contains(r.err, c.expected_in_error)) << "error does not name " << c.expected_in_error << ":\n"
                                                    << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, RunRejects,
    ::testing::Values(
        BadInput{"unknown_option", {"--bogus-option"}, "--bogus-option", ""},
        BadInput{"interval_not_a_number", {"--interval", "abc"}, "--interval", ""},
        BadInput{"interval_zero", {"--interval", "0"}, "--interval", ""},
        BadInput{"interval_negative", {"--interval", "-1"}, "--interval", ""},
        BadInput{"pue_below_one", {"--pue", "0.5"}, "--pue", ""},
        BadInput{"pue_not_a_number", {"--pue", "abc"}, "--pue", ""},
        BadInput{"memory_not_a_number", {"--memory-gb", "lots"}, "--memory-gb", ""},
        BadInput{"unknown_country", {"--country", "ZZ"}, "--country", ""},
        BadInput{"unknown_carbon_intensity_name",
                 {"--carbon-intensity", "NO-SUCH-FIGURE"},
                 "--carbon-intensity",
                 ""},
        BadInput{"broken_config", {}, "config.toml:3", "# wattprint\npue = 1.2\ncarbon_intensity = = 5\n"}),
    [](const ::testing::TestParamInfo<BadInput>& param_info) { return std::string(param_info.param.label); });

// --- 7. Faults during the run.
// ---------------------------------------------------------------------------------

constexpr double kFaultIntervalS = 0.2;
constexpr auto kFaultAfter = 600ms;
constexpr auto kFaultLength = 500ms;

// The fault's times are counted from its injection, once the command has started: the run's t = 0 came
// before, by the command's start-up (fork, exec of sh) and the test noticing it, together at most this.
constexpr double kCommandStartS = 0.5;

// `sensor` has one span that brackets the fault [from_s, to_s] (times since the injection): it starts at the
// last good read before the fault (at most one interval earlier) and ends at the first good read after it
// (at most one interval later). Its length does not depend on the start-up delay, so it is checked tightly.
void expect_span_brackets_fault(const json& sensor, double from_s, double to_s) {
  const double slack = kFaultIntervalS + kTickS + kReadSkewS;
  std::size_t bracketing = 0;
  for (const json& span : sensor["degraded_spans"]) {
    const double start = number(span, "/start_s");
    const double end = number(span, "/end_s");
    if (end < from_s - slack || start > to_s + kCommandStartS + slack) continue;  // another span
    ++bracketing;
    EXPECT_GE(start, from_s - slack) << span.dump();
    EXPECT_LE(start, from_s + kCommandStartS + kTickS + kReadSkewS) << span.dump();
    EXPECT_GE(end, to_s - kTickS - kReadSkewS) << span.dump();
    EXPECT_LE(end, to_s + kCommandStartS + slack) << span.dump();
    EXPECT_GE(end - start, (to_s - from_s) - 2 * (kTickS + kReadSkewS)) << span.dump();
    EXPECT_LE(end - start, (to_s - from_s) + 2 * slack) << span.dump();
  }
  EXPECT_EQ(bracketing, 1U) << sensor.dump(2);
}

void expect_degraded_span_over_fault(const json& report, const std::string& sensor, double duration) {
  const json* s = find_sensor(report, sensor);
  ASSERT_NE(s, nullptr) << sensor << " not in sensors: " << sensor_names(report);
  EXPECT_EQ(s->value("status", ""), "degraded") << s->dump(2);
  ASSERT_TRUE(s->contains("degraded_spans") && (*s)["degraded_spans"].is_array()) << s->dump(2);
  ASSERT_FALSE((*s)["degraded_spans"].empty()) << s->dump(2);
  // The fault lasted [0.6 s, 1.1 s] after its injection, which came at most kCommandStartS into the run;
  // with reads every interval, a span must overlap it.
  const double fault_from = std::chrono::duration<double>(kFaultAfter).count();
  const double fault_to = fault_from + std::chrono::duration<double>(kFaultLength).count();
  bool overlaps = false;
  for (const json& span : (*s)["degraded_spans"]) {
    const double start = number(span, "/start_s");
    const double end = number(span, "/end_s");
    EXPECT_LE(start, end) << span.dump();
    EXPECT_GE(start, 0.0) << span.dump();
    EXPECT_LE(end, duration + kReadSkewS) << span.dump();
    EXPECT_TRUE(span.contains("error") && span["error"].is_string() &&
                !span["error"].get<std::string>().empty())
        << span.dump();
    overlaps = overlaps || (start <= fault_to + kCommandStartS + kFaultIntervalS + kReadSkewS &&
                            end >= fault_from - kFaultIntervalS - kReadSkewS);
  }
  EXPECT_TRUE(overlaps) << "no span over the fault [" << fault_from << ", " << fault_to
                        << "] s: " << s->dump(2);
  expect_span_brackets_fault(*s, fault_from, fault_to);
}

TEST_F(RunIntegration, VanishingCounterIsDegradedNotFatal) {
  constexpr double kPowerW = 10.0;
  FakePowercapTree tree({FakeZone("intel-rapl:0", "package-0", kPowerW)});
  tree.start(kTick);
  const ProcessResult r = run_injecting_when_command_starts(
      tree, {"--interval", "0.2"}, 2.0, [&] { tree.vanish("intel-rapl:0", kFaultAfter, kFaultLength); });
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const json report = read_json(json_path());
  const double duration = number(report, "/duration_s");
  expect_degraded_span_over_fault(report, "rapl.package-0", duration);
  // The counter kept running while the file was gone: no energy is invented, and at most the gap is lost.
  const double cpu = number(report, "/measured/cpu_j");
  const double gap_s = std::chrono::duration<double>(kFaultLength).count() + 2 * kFaultIntervalS;
  EXPECT_LE(cpu, kPowerW * duration + energy_tolerance_j(kPowerW));
  EXPECT_GE(cpu, kPowerW * (duration - gap_s) - energy_tolerance_j(kPowerW));
}

TEST_F(RunIntegration, GarbageInCounterIsDegradedNotFatal) {
  constexpr double kPowerW = 10.0;
  FakePowercapTree tree({FakeZone("intel-rapl:0", "package-0", kPowerW)});
  tree.start(kTick);
  const ProcessResult r = run_injecting_when_command_starts(tree, {"--interval", "0.2"}, 2.0, [&] {
    tree.write_garbage("intel-rapl:0", kFaultAfter, kFaultLength);
  });
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const json report = read_json(json_path());
  const double duration = number(report, "/duration_s");
  expect_degraded_span_over_fault(report, "rapl.package-0", duration);
  const double cpu = number(report, "/measured/cpu_j");
  const double gap_s = std::chrono::duration<double>(kFaultLength).count() + 2 * kFaultIntervalS;
  EXPECT_LE(cpu, kPowerW * duration + energy_tolerance_j(kPowerW));
  EXPECT_GE(cpu, kPowerW * (duration - gap_s) - energy_tolerance_j(kPowerW));
}

TEST_F(RunIntegration, BackwardJumpIsNotTurnedIntoEnergy) {
  constexpr double kPowerW = 10.0;
  // Counter at 50 kJ drops by 20 kJ mid-run: read as a wrap it would add ~242 kJ.
  FakePowercapTree tree({FakeZone("intel-rapl:0", "package-0", kPowerW).with_initial(50'000'000'000ULL)});
  tree.start(kTick);
  const ProcessResult r = run_injecting_when_command_starts(tree, {"--interval", "0.2"}, 2.0, [&] {
    tree.jump_backwards("intel-rapl:0", 20'000'000'000ULL, 700ms);
  });
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  ASSERT_LT(tree.counter_uj("intel-rapl:0"), 50'000'000'000ULL) << "the fake did not jump";
  const json report = read_json(json_path());
  const double duration = number(report, "/duration_s");
  const double cpu = number(report, "/measured/cpu_j");
  // At most the interval holding the jump is lost.
  EXPECT_LE(cpu, kPowerW * duration + energy_tolerance_j(kPowerW));
  EXPECT_GE(cpu, kPowerW * (duration - 2 * kFaultIntervalS) - energy_tolerance_j(kPowerW));
  // The dropped interval is marked: one span, one read period long, around the jump (0.7 s after the
  // injection, which came at most kCommandStartS into the run), saying why.
  const json* s = find_sensor(report, "rapl.package-0");
  ASSERT_NE(s, nullptr) << sensor_names(report);
  EXPECT_EQ(s->value("status", ""), "degraded") << s->dump(2);
  ASSERT_EQ(s->at("degraded_spans").size(), 1U) << s->dump(2);
  const json& span = s->at("degraded_spans")[0];
  const double start = number(span, "/start_s");
  const double end = number(span, "/end_s");
  EXPECT_LE(end - start, kFaultIntervalS + kReadSkewS) << span.dump();
  EXPECT_LE(start, 0.7 + kCommandStartS + kTickS + kReadSkewS) << span.dump();
  EXPECT_GE(end, 0.7 - kTickS - kReadSkewS) << span.dump();
  EXPECT_NE(span.value("error", "").find("backwards"), std::string::npos) << span.dump();
}

// --- 8. energy_uj readable by root only (Linux ≥ 5.10), binary run as nobody.
// ----------------------------------

TEST_F(RunIntegration, RootOnlyCounterAsNobodyIsUnreadableWithRemedy) {
  if (::geteuid() != 0)
    GTEST_SKIP() << "needs root to run the binary as nobody against a 0400 root-owned tree";
  FakePowercapTree tree({FakeZone("intel-rapl:0", "package-0", 10.0).with_mode(0400),
                         FakeZone("intel-rapl:0:0", "dram", 2.0).with_range(65712999613ULL).with_mode(0400)});
  tree.start(kTick);
  // A copy of the binary that nobody can reach, and a home nobody can write.
  TempDir bin_dir("wattprint-bin");
  fs::permissions(bin_dir.path(), fs::perms(0755));
  const fs::path bin_copy = bin_dir.path() / "wattprint";
  fs::copy_file(bin_, bin_copy);
  fs::permissions(bin_copy, fs::perms(0755));
  home_.chown_to(kNobody, kNogroup);

  SpawnOptions o = spawn_options(run_args(tree, {"--cpu-tdp", "85"}, {"sleep", "1"}));
  o.uid = kNobody;
  o.gid = kNogroup;
  const ProcessResult r = run_process(bin_copy, o);
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const json report = read_json(json_path());

  const json* s = find_sensor(report, "rapl.package-0");
  ASSERT_NE(s, nullptr) << "rapl.package-0 not in sensors: " << sensor_names(report);
  EXPECT_EQ(s->value("status", ""), "unreadable") << s->dump(2);
  const std::string reason = (*s)["reason"].is_string() ? (*s)["reason"].get<std::string>() : "";
  const std::string remedy = (*s)["remedy"].is_string() ? (*s)["remedy"].get<std::string>() : "";
  EXPECT_TRUE(contains(remedy, "root")) << s->dump(2);
  EXPECT_TRUE(contains(reason + remedy, "5.10")) << s->dump(2);

  EXPECT_TRUE(report.at("measured").at("cpu_j").is_null()) << report.at("measured").dump(2);
  const json& process = report.at("methods").at("process");
  EXPECT_EQ(process.value("available", true), false) << process.dump(2);
  EXPECT_TRUE(process.at("reason").is_string() && !process.at("reason").get<std::string>().empty())
      << process.dump(2);
  const json& estimate = report.at("methods").at("estimate");
  EXPECT_EQ(estimate.value("available", false), true) << estimate.dump(2);
  EXPECT_GT(number(report, "/methods/estimate/it_energy_j"), 0.0);
}

// --- 9. `wattprint estimate` golden numbers.
// ---------------------------------------------------------------------

TEST_F(RunIntegration, EstimateGoldenNumbers) {
  const ProcessResult r = run({"estimate", "--runtime", "2h", "--cpu", "Xeon Silver 4110", "--cores", "8",
                               "--gpu", "Tesla T4", "--gpus", "1", "--memory-gb", "24", "--pue", "1.65",
                               "--carbon-intensity", "57.1", "--json", json_path().string()});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const json report = read_json(json_path());
  // 2 h × (8 cores × 85 W / 8 cores + 24 GB × 0.3725 W/GB + 1 × 70 W) = 327.88 Wh.
  constexpr double kSeconds = 2 * 3600.0;
  constexpr double kCpuJ = kSeconds * 8 * 85.0 / 8;
  constexpr double kMemoryJ = kSeconds * 24 * 0.3725;
  constexpr double kGpuJ = kSeconds * 70.0;
  constexpr double kItJ = 1'180'368.0;
  constexpr double kKwh = 0.327880 * 1.65;
  constexpr double kCo2G = kKwh * 57.1;
  const auto near = [](double expected) { return std::abs(expected) * 1e-9; };
  EXPECT_NEAR(number(report, "/methods/estimate/it_energy_j"), kItJ, near(kItJ));
  EXPECT_NEAR(number(report, "/methods/estimate/energy_kwh"), kKwh, near(kKwh));
  EXPECT_NEAR(number(report, "/methods/estimate/co2_g"), kCo2G, near(kCo2G));
  EXPECT_NEAR(number(report, "/methods/estimate/components/cpu_j"), kCpuJ, near(kCpuJ));
  EXPECT_NEAR(number(report, "/methods/estimate/components/memory_j"), kMemoryJ, near(kMemoryJ));
  EXPECT_NEAR(number(report, "/methods/estimate/components/gpu_j"), kGpuJ, near(kGpuJ));
  EXPECT_NEAR(number(report, "/pue"), 1.65, 1e-12);
  EXPECT_NEAR(number(report, "/carbon_intensity/g_per_kwh"), 57.1, 1e-12);
}

// --- `wattprint sensors`.
// ---------------------------------------------------------------------------------------

TEST_F(RunIntegration, SensorsListsZones) {
  FakePowercapTree tree({FakeZone("intel-rapl:0", "package-0", 10.0), FakeZone("intel-rapl:0:0", "dram", 2.0),
                         FakeZone("intel-rapl:1", "package-1", 10.0),
                         FakeZone("intel-rapl:2", "psys", 30.0)});
  const ProcessResult r = run({"sensors", "--sysfs-root", tree.sysfs_root().string()});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const std::string all = r.out + r.err;
  for (const char* zone : {"package-0", "package-1", "dram", "psys"}) {
    EXPECT_TRUE(contains(all, zone)) << zone << " missing from:\n" << all;
  }
}

}  // namespace
}  // namespace wattprint::testing
