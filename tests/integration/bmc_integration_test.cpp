// Whole-server power from management cards through the real binary: a live HTTPS Redfish service (and, in
// the IPMI tests, a real ipmi_sim): energy against the power the test sets, credentials that never show,
// failures that are marked and never stall or stop the run.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fakes/ipmi_simulator.hpp"
#include "fakes/redfish_server.hpp"
#include "integration/harness.hpp"

namespace wattprint::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string file_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class Bmc : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto bin = wattprint_bin_from_env();
    if (!bin) GTEST_SKIP() << "WATTPRINT_BIN is not set: point it at the wattprint executable";
    bin_ = *bin;
    fs::create_directories(home_.path() / "sys");
  }
  [[nodiscard]] SpawnOptions options(std::vector<std::string> args) const {
    SpawnOptions o;
    o.args = std::move(args);
    o.home = home_.path();
    o.cwd = home_.path();
    o.extra_env.push_back("WATTPRINT_STATE_DIR=" + (home_.path() / "state").string());
    return o;
  }
  [[nodiscard]] ProcessResult run(std::vector<std::string> args) const {
    return run_process(bin_, options(std::move(args)));
  }
  [[nodiscard]] std::string sys() const { return (home_.path() / "sys").string(); }
  [[nodiscard]] std::string report() const { return (home_.path() / "r.json").string(); }
  /// A file the command under test creates first, so that the test knows the run has started.
  [[nodiscard]] fs::path started() const { return home_.path() / "started"; }
  [[nodiscard]] static std::vector<std::string> redfish_flags(const RedfishServer& s) {
    return {"--redfish",       s.url(),        "--redfish-user", s.user(), "--redfish-password-file",
            s.password_file(), "--redfish-ca", s.ca_file()};
  }
  fs::path bin_;
  TempDir home_{"wattprint-bmc"};
};

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST_F(Bmc, RedfishServerEnergyIsItsPowerOverTheRun) {
  if (auto why = RedfishServer::unavailable()) GTEST_SKIP() << *why;
  for (const char* variant : {"legacy", "environment", "power-subsystem"}) {
    RedfishServer::Options o;
    o.variant = variant;
    o.power_watts = 344.0;
    RedfishServer server(o);
    ASSERT_TRUE(server.started()) << server.error();
    const ProcessResult r = run(concat(
        {"run", "--sysfs-root", sys(), "--server-interval", "0.2", "--idle-watts", "144", "--json", report()},
        concat(redfish_flags(server), {"--", "sleep", "1"})));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json j = read_json(report());
    ASSERT_TRUE(j.at("server").is_object()) << variant << ": " << r.err;
    EXPECT_EQ(j.at("server").at("source"), "redfish");
    const double duration = j.at("duration_s").get<double>();
    EXPECT_NEAR(j.at("server").at("energy_j").get<double>(), 344.0 * duration, 1e-6) << variant;
    EXPECT_NEAR(j.at("methods").at("server-minus-idle").at("it_energy_j").get<double>(), 200.0 * duration,
                1e-6);
    EXPECT_GE(j.at("server").at("readings").get<int>(), 4) << variant;
    // The password is in no output.
    EXPECT_EQ(r.err.find(server.password()), std::string::npos);
    EXPECT_EQ(file_text(report()).find(server.password()), std::string::npos);
  }
}

TEST_F(Bmc, RedfishPowerChangesDuringTheRunAreFollowed) {
  if (auto why = RedfishServer::unavailable()) GTEST_SKIP() << *why;
  RedfishServer server;
  ASSERT_TRUE(server.started()) << server.error();
  server.set_power_watts(100.0);
  const fs::path started = home_.path() / "started";
  Process p(bin_,
            options(concat({"run", "--sysfs-root", sys(), "--server-interval", "0.1", "--json", report()},
                           concat(redfish_flags(server),
                                  {"--", "sh", "-c", "touch " + started.string() + "; sleep 2"}))));
  ASSERT_TRUE(wait_for_file(started));
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  server.set_power_watts(300.0);
  const ProcessResult r = p.wait();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = read_json(report());
  const double duration = j.at("duration_s").get<double>();
  // The switch came 1 s after the command started (plus the few ms the test takes to see the file).
  const double energy = j.at("server").at("energy_j").get<double>();
  EXPECT_NEAR(energy, 100.0 * 1.0 + 300.0 * (duration - 1.0), 100.0)
      << j.at("server").dump(2);  // as for IPMI
  EXPECT_DOUBLE_EQ(j.at("server").at("min_power_w").get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(j.at("server").at("max_power_w").get<double>(), 300.0);
}

TEST_F(Bmc, ASlowServiceIsMarkedAndDoesNotHoldTheRunBack) {
  if (auto why = RedfishServer::unavailable()) GTEST_SKIP() << *why;
  RedfishServer server;
  ASSERT_TRUE(server.started()) << server.error();
  Process p(bin_, options(concat({"run", "--sysfs-root", sys(), "--server-interval", "0.2",
                                  "--server-timeout", "0.5", "--json", report()},
                                 concat(redfish_flags(server),
                                        {"--", "sh", "-c", "touch " + started().string() + "; sleep 3"}))));
  ASSERT_TRUE(wait_for_file(started()));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  server.set_delay_s(5.0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  server.set_delay_s(0.0);
  const ProcessResult r = p.wait();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // wattprint ended within the command's time + one timeout + the last reading, not after the 5-s delays.
  EXPECT_LT(r.wall_s, 3.0 + 2.0) << r.err;
  const json j = read_json(report());
  EXPECT_GE(j.at("server").at("failed_readings").get<int>(), 1);
  ASSERT_GE(j.at("server").at("degraded_spans").size(), 1U) << j.at("server").dump(2);
  EXPECT_NE(j.at("server").at("degraded_spans")[0].at("error").get<std::string>().find("time"),
            std::string::npos);
  // The span starts at the last good reading before the delays (run time 0.5 s plus the command's start-up
  // and the poll for its file, ≤ 0.3 s; a period and a reading earlier at most) and lasts at least the
  // timeout of the first reading that failed.
  const json& span = j.at("server").at("degraded_spans")[0];
  EXPECT_GE(span.at("start_s").get<double>(), 0.5 - 0.2 - 0.1) << span.dump();
  EXPECT_LE(span.at("start_s").get<double>(), 0.5 + 0.3) << span.dump();
  EXPECT_GE(span.at("end_s").get<double>(), span.at("start_s").get<double>() + 0.5) << span.dump();
  EXPECT_LE(span.at("end_s").get<double>(), j.at("duration_s").get<double>() + 1e-9) << span.dump();
  // The gap is bridged: 344 W over the whole run.
  EXPECT_NEAR(j.at("server").at("energy_j").get<double>(), 344.0 * j.at("duration_s").get<double>(), 1e-6);
  EXPECT_NE(r.err.find("degraded"), std::string::npos);
}

TEST_F(Bmc, AWrongPasswordOrAnUntrustedCertificateIsAWarningNotAFailure) {
  if (auto why = RedfishServer::unavailable()) GTEST_SKIP() << *why;
  RedfishServer server;
  ASSERT_TRUE(server.started()) << server.error();
  const fs::path wrong = home_.path() / "wrong.pw";
  write_text_file(wrong, "not-the-Pa55word\n", 0600);
  const ProcessResult r = run({"run", "--sysfs-root", sys(), "--redfish", server.url(), "--redfish-user",
                               server.user(), "--redfish-password-file", wrong.string(), "--redfish-ca",
                               server.ca_file(), "--json", report(), "--", "echo", "ran"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "ran\n");
  EXPECT_NE(r.err.find("warning: server power"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("authentication failed"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("not-the-Pa55word"), std::string::npos);
  const json j = read_json(report());
  EXPECT_FALSE(j.at("methods").at("server").at("available").get<bool>());
  EXPECT_EQ(file_text(report()).find("not-the-Pa55word"), std::string::npos);

  const ProcessResult untrusted =
      run({"run", "--sysfs-root", sys(), "--redfish", server.url(), "--redfish-user", server.user(),
           "--redfish-password-file", server.password_file(), "--json", report(), "--", "true"});
  ASSERT_EQ(untrusted.exit_code, 0) << untrusted.err;
  EXPECT_NE(untrusted.err.find("certificate"), std::string::npos) << untrusted.err;
  EXPECT_NE(untrusted.err.find("--redfish-ca"), std::string::npos) << untrusted.err;
  const ProcessResult insecure = run(
      {"run", "--sysfs-root", sys(), "--redfish", server.url(), "--redfish-user", server.user(),
       "--redfish-password-file", server.password_file(), "--insecure", "--json", report(), "--", "true"});
  ASSERT_EQ(insecure.exit_code, 0) << insecure.err;
  const json k = read_json(report());
  EXPECT_TRUE(k.at("methods").at("server").at("available").get<bool>()) << insecure.err;
  EXPECT_NE(k.at("server").at("origin").get<std::string>().find("not verified"), std::string::npos);
  ASSERT_EQ(k.at("warnings").size(), 1U);
  EXPECT_NE(k.at("warnings")[0].get<std::string>().find("--insecure"), std::string::npos);
}

TEST_F(Bmc, TheRedfishPasswordCanComeFromTheEnvironment) {
  if (auto why = RedfishServer::unavailable()) GTEST_SKIP() << *why;
  RedfishServer server;
  ASSERT_TRUE(server.started()) << server.error();
  SpawnOptions o = options({"sensors", "--sysfs-root", sys(), "--redfish", server.chassis_url(),
                            "--redfish-ca", server.ca_file()});
  o.extra_env.push_back("WATTPRINT_REDFISH_USER=" + server.user());
  o.extra_env.push_back("WATTPRINT_REDFISH_PASSWORD=" + server.password());
  const ProcessResult r = run_process(bin_, o);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("344 W now"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(server.password()), std::string::npos);
}

constexpr const char* kIpmiPassword = "Pa55-ipmi-w0rd";

class Ipmi : public Bmc {
 protected:
  void SetUp() override {
    Bmc::SetUp();
    if (IsSkipped()) return;
    if (auto why = IpmiSimulator::unavailable_reason()) GTEST_SKIP() << *why;
    sim_ = std::make_unique<IpmiSimulator>("ipmiusr", kIpmiPassword);
    ASSERT_TRUE(sim_->running()) << sim_->error();
    password_file_ = home_.path() / "bmc.pw";
    write_text_file(password_file_, std::string(kIpmiPassword) + "\n", 0600);
  }
  [[nodiscard]] std::vector<std::string> ipmi_flags() const {
    return {"--ipmi-host", sim_->host(),           "--ipmi-user",
            sim_->user(),  "--ipmi-password-file", password_file_.string()};
  }
  std::unique_ptr<IpmiSimulator> sim_;
  fs::path password_file_;
};

TEST_F(Ipmi, ServerEnergyOverLanplusIsTheBmcPowerOverTheRun) {
  sim_->set_power_watts(256);
  const ProcessResult r = run(concat(
      {"run", "--sysfs-root", sys(), "--server-interval", "0.2", "--idle-watts", "156", "--json", report()},
      concat(ipmi_flags(), {"--", "sleep", "1.5"})));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = read_json(report());
  ASSERT_TRUE(j.at("server").is_object()) << r.err;
  EXPECT_EQ(j.at("server").at("source"), "ipmi-dcmi");
  EXPECT_NE(j.at("server").at("origin").get<std::string>().find("cipher suite 3"), std::string::npos);
  // The module reports its power as the average over 1 s.
  EXPECT_DOUBLE_EQ(j.at("server").at("mean_window_s").get<double>(), 1.0);
  const double duration = j.at("duration_s").get<double>();
  EXPECT_NEAR(j.at("server").at("energy_j").get<double>(), 256.0 * duration, 1e-6);
  EXPECT_NEAR(j.at("methods").at("server-minus-idle").at("it_energy_j").get<double>(), 100.0 * duration,
              1e-6);
  EXPECT_GE(j.at("server").at("readings").get<int>(), 6);
  EXPECT_EQ(r.err.find(kIpmiPassword), std::string::npos);
  EXPECT_EQ(file_text(report()).find(kIpmiPassword), std::string::npos);
}

TEST_F(Ipmi, PowerChangesAreFollowed) {
  sim_->set_period_ms(0);  // no rolling average: the current power is used, as an instantaneous value
  sim_->set_power_watts(100);
  // The command itself turns the BMC's power to 300 W after 1 s (rewriting the simulator's control file
  // atomically, as IpmiSimulator does), so the step is at a known time of the run.
  const fs::path control = sim_->directory() / "dcmi.ctl";
  const std::string to_300 =
      "printf 'current=300\\nminimum=300\\nmaximum=300\\naverage=300\\ncc=0\\nperiod_ms=0\\n"
      "active=1\\n' > " +
      control.string() + ".cmd && mv " + control.string() + ".cmd " + control.string();
  const ProcessResult r =
      run(concat({"run", "--sysfs-root", sys(), "--server-interval", "0.1", "--json", report()},
                 concat(ipmi_flags(), {"--", "sh", "-c", "sleep 1; " + to_300 + "; sleep 1"})));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = read_json(report());
  const double duration = j.at("duration_s").get<double>();
  EXPECT_DOUBLE_EQ(j.at("server").at("mean_window_s").get<double>(), 0.0);
  // The step is bridged linearly between the last 100-W reading and the first 300-W one, 0.1 s apart.
  EXPECT_NEAR(j.at("server").at("energy_j").get<double>(), 100.0 * 1.0 + 300.0 * (duration - 1.0), 40.0)
      << j.at("server").dump(2);
  EXPECT_DOUBLE_EQ(j.at("server").at("min_power_w").get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(j.at("server").at("max_power_w").get<double>(), 300.0);
}

TEST_F(Ipmi, ABmcThatStopsAnsweringIsMarkedAndTheRunGoesOn) {
  sim_->set_power_watts(200);
  Process p(
      bin_,
      options(concat({"run", "--sysfs-root", sys(), "--server-interval", "0.2", "--server-timeout", "0.5",
                      "--json", report()},
                     concat(ipmi_flags(), {"--", "sh", "-c", "touch " + started().string() + "; sleep 3"}))));
  ASSERT_TRUE(wait_for_file(started()));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  sim_->pause();
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  sim_->resume();
  const ProcessResult r = p.wait();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(r.wall_s, 3.0 + 2.5) << r.err;
  const json j = read_json(report());
  EXPECT_GE(j.at("server").at("failed_readings").get<int>(), 1) << j.at("server").dump(2);
  // One span, from the last good reading before the pause to the first good one after the resume. In run
  // time the pause began at 0.5 s plus the command's start-up and the poll for its file (≤ 0.3 s), and
  // lasted 1.2 s; the span may start a period and a reading earlier, and end up to a timeout, a period and
  // that start-up later.
  ASSERT_EQ(j.at("server").at("degraded_spans").size(), 1U) << j.at("server").dump(2);
  const json& span = j.at("server").at("degraded_spans")[0];
  EXPECT_GE(span.at("start_s").get<double>(), 0.5 - 0.2 - 0.1) << span.dump();
  EXPECT_LE(span.at("start_s").get<double>(), 0.5 + 0.3) << span.dump();
  EXPECT_GE(span.at("end_s").get<double>(), 0.5 + 1.2) << span.dump();
  EXPECT_LE(span.at("end_s").get<double>(), 0.5 + 1.2 + 0.3 + 0.5 + 0.2 + 0.1) << span.dump();
  // Readings came back after the pause, and the gap is bridged at the same 200 W.
  EXPECT_NEAR(j.at("server").at("energy_j").get<double>(), 200.0 * j.at("duration_s").get<double>(), 1e-6);
  EXPECT_TRUE(j.at("methods").at("server").at("available").get<bool>());
}

TEST_F(Ipmi, AWrongPasswordIsAWarningAndNeverShown) {
  const fs::path wrong = home_.path() / "wrong.pw";
  write_text_file(wrong, "Wr0ng-ipmi-pa55\n", 0600);
  const ProcessResult r =
      run({"run", "--sysfs-root", sys(), "--ipmi-host", sim_->host(), "--ipmi-user", sim_->user(),
           "--ipmi-password-file", wrong.string(), "--json", report(), "--", "sh", "-c", "exit 3"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("warning: server power"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("authentication failed"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("Wr0ng-ipmi-pa55"), std::string::npos);
  EXPECT_EQ(file_text(report()).find("Wr0ng-ipmi-pa55"), std::string::npos);
  EXPECT_FALSE(read_json(report()).at("methods").at("server").at("available").get<bool>());
}

TEST_F(Ipmi, ABmcWithoutDcmiIsSaidSo) {
  sim_->set_completion_code(0xC1);
  SpawnOptions o = options({"sensors", "--sysfs-root", sys(), "--ipmi-host", sim_->host()});
  o.extra_env.push_back("WATTPRINT_IPMI_USER=" + sim_->user());
  o.extra_env.push_back(std::string("WATTPRINT_IPMI_PASSWORD=") + kIpmiPassword);
  const ProcessResult r = run_process(bin_, o);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("does not support DCMI"), std::string::npos) << r.out;
  sim_->set_completion_code(0);
  sim_->set_power_watts(187);
  const ProcessResult ok = run_process(bin_, o);
  EXPECT_NE(ok.out.find("187 W now"), std::string::npos) << ok.out;
  EXPECT_EQ(ok.out.find(kIpmiPassword), std::string::npos);
}

TEST_F(Ipmi, IdleMeasuresTheBmcAndStoresIt) {
  sim_->set_power_watts(156);
  const ProcessResult idle = run(
      concat({"idle", "--duration", "1", "--sysfs-root", sys(), "--server-interval", "0.2"}, ipmi_flags()));
  ASSERT_EQ(idle.exit_code, 0) << idle.err;
  EXPECT_NE(idle.out.find("156.0 W"), std::string::npos) << idle.out;
  sim_->set_power_watts(234);
  const ProcessResult r =
      run(concat({"run", "--sysfs-root", sys(), "--server-interval", "0.2", "--json", report()},
                 concat(ipmi_flags(), {"--", "sleep", "1"})));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = read_json(report());
  EXPECT_NEAR(j.at("idle_baseline").at("server_w").get<double>(), 156.0, 1e-6);
  EXPECT_NE(j.at("idle_baseline").at("server_source").get<std::string>().find("IPMI DCMI over lanplus"),
            std::string::npos);
  EXPECT_NEAR(j.at("methods").at("server-minus-idle").at("it_energy_j").get<double>(),
              78.0 * j.at("duration_s").get<double>(), 1e-6);
}

}  // namespace
}  // namespace wattprint::testing
