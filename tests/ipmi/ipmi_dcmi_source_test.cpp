// The IPMI DCMI source against a real BMC simulator (OpenIPMI's ipmi_sim with the DCMI test module) over
// lanplus, cross-checked with ipmitool; and the in-band source's checks of the device node.
#include "sources/server/ipmi/ipmi_dcmi_source.hpp"

#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "fakes/ipmi_simulator.hpp"
#include "unit/test_dir.hpp"

namespace wattprint {
namespace {

using testing::IpmiSimulator;
using State = SensorStatus::State;
using Clock = std::chrono::steady_clock;

constexpr Seconds kTimeout{2.0};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

class IpmiDcmiLan : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = IpmiSimulator::unavailable_reason()) GTEST_SKIP() << *why;
    sim_ = std::make_unique<IpmiSimulator>();
    ASSERT_TRUE(sim_->running()) << sim_->error();
  }

  [[nodiscard]] IpmiLanOptions options() const {
    IpmiLanOptions o;
    o.host = sim_->host();
    o.user = sim_->user();
    o.password = Secret(sim_->password());
    o.timeout = kTimeout;
    return o;
  }

  /// Opens with `o`, expecting success.
  static std::unique_ptr<ServerPowerSource> open_ok(const IpmiLanOptions& o) {
    OpenedServerSource opened = open_ipmi_lan_source(o);
    EXPECT_EQ(opened.status.state, State::Ok) << opened.status.reason;
    EXPECT_EQ(opened.status.name, "ipmi-dcmi.lan");
    EXPECT_EQ(opened.status.path, o.host);
    return std::move(opened.source);
  }

  std::unique_ptr<IpmiSimulator> sim_;
};

TEST_F(IpmiDcmiLan, ReadsThePowerTheBmcReports) {
  sim_->set_power_watts(250);
  auto source = open_ok(options());
  ASSERT_TRUE(source);
  EXPECT_EQ(source->family(), "ipmi-dcmi");
  ServerRead r = source->read();
  ASSERT_TRUE(r.reading) << r.error;
  EXPECT_DOUBLE_EQ(r.reading->power.value, 250.0);
  EXPECT_DOUBLE_EQ(r.reading->window.count(), 1.0);  // the simulator's period: 1000 ms

  sim_->set_power_watts(317);
  r = source->read();
  ASSERT_TRUE(r.reading) << r.error;
  EXPECT_DOUBLE_EQ(r.reading->power.value, 317.0);
}

TEST_F(IpmiDcmiLan, AverageOverThePeriodElseCurrent) {
  sim_->set_power_watts(200);
  sim_->set_average_watts(180);
  sim_->set_period_ms(5000);
  auto source = open_ok(options());
  ASSERT_TRUE(source);
  ServerRead r = source->read();
  ASSERT_TRUE(r.reading) << r.error;
  EXPECT_DOUBLE_EQ(r.reading->power.value, 180.0);
  EXPECT_DOUBLE_EQ(r.reading->window.count(), 5.0);

  sim_->set_period_ms(0);
  r = source->read();
  ASSERT_TRUE(r.reading) << r.error;
  EXPECT_DOUBLE_EQ(r.reading->power.value, 200.0);
  EXPECT_DOUBLE_EQ(r.reading->window.count(), 0.0);

  sim_->set_period_ms(3'600'000);  // an hour: "since reset", not a rolling window
  r = source->read();
  ASSERT_TRUE(r.reading) << r.error;
  EXPECT_DOUBLE_EQ(r.reading->power.value, 200.0);
  EXPECT_DOUBLE_EQ(r.reading->window.count(), 0.0);
}

TEST_F(IpmiDcmiLan, FallsBackFromSuite17To3) {
  IpmiLanOptions o = options();
  ASSERT_FALSE(o.cipher_suite);
  auto source = open_ok(o);
  ASSERT_TRUE(source);
  EXPECT_EQ(source->origin(), "IPMI DCMI over lanplus to " + sim_->host() + " as admin (cipher suite 3)");
  EXPECT_TRUE(source->read().reading);
}

TEST_F(IpmiDcmiLan, ExplicitCipherSuite3) {
  IpmiLanOptions o = options();
  o.cipher_suite = 3;
  auto source = open_ok(o);
  ASSERT_TRUE(source);
  EXPECT_TRUE(contains(source->origin(), "(cipher suite 3)")) << source->origin();
  EXPECT_TRUE(source->read().reading);
}

TEST_F(IpmiDcmiLan, ExplicitSuiteTheBmcLacksIsAnErrorNotAFallback) {
  IpmiLanOptions o = options();
  o.cipher_suite = 17;
  const OpenedServerSource opened = open_ipmi_lan_source(o);
  EXPECT_EQ(opened.status.state, State::Error);
  EXPECT_FALSE(opened.source);
  EXPECT_TRUE(contains(opened.status.reason, "cipher suite 17")) << opened.status.reason;
}

TEST_F(IpmiDcmiLan, UnprotectedSuiteOnlyWhenNamedAndSaidSo) {
  IpmiLanOptions o = options();
  o.cipher_suite = 0;
  auto source = open_ok(o);
  ASSERT_TRUE(source);
  EXPECT_TRUE(contains(source->origin(), "cipher suite 0, without authentication")) << source->origin();
}

TEST_F(IpmiDcmiLan, WrongPasswordIsClearAndNeverShown) {
  IpmiLanOptions o = options();
  const std::string wrong = "Wr0ngPassw0rd";
  o.password = Secret(wrong);
  const OpenedServerSource opened = open_ipmi_lan_source(o);
  EXPECT_EQ(opened.status.state, State::Error);
  EXPECT_FALSE(opened.source);
  EXPECT_EQ(opened.status.reason,
            "authentication failed for user 'ipmiusr' at " + sim_->host() + " (wrong user or password?)");
  EXPECT_TRUE(contains(opened.status.remedy, "--ipmi-user")) << opened.status.remedy;
  EXPECT_TRUE(contains(opened.status.remedy, "--ipmi-password-file")) << opened.status.remedy;
  for (const std::string& text : {opened.status.reason, opened.status.remedy, opened.status.path}) {
    EXPECT_FALSE(contains(text, wrong)) << text;
    EXPECT_FALSE(contains(text, sim_->password())) << text;
  }
}

TEST_F(IpmiDcmiLan, UnknownUserIsAnAuthenticationFailure) {
  IpmiLanOptions o = options();
  o.user = "nobody";
  const OpenedServerSource opened = open_ipmi_lan_source(o);
  EXPECT_EQ(opened.status.state, State::Error);
  EXPECT_TRUE(contains(opened.status.reason, "authentication failed for user 'nobody'"))
      << opened.status.reason;
  EXPECT_FALSE(contains(opened.status.reason, sim_->password()));
}

TEST_F(IpmiDcmiLan, UserPrivilegeGetsInsufficientPrivilege) {
  IpmiLanOptions o = options();
  o.privilege = "user";
  const OpenedServerSource opened = open_ipmi_lan_source(o);
  EXPECT_EQ(opened.status.state, State::Error);
  EXPECT_FALSE(opened.source);
  EXPECT_TRUE(contains(opened.status.reason, "insufficient privilege")) << opened.status.reason;
  EXPECT_TRUE(contains(opened.status.reason, "use privilege admin")) << opened.status.reason;
  EXPECT_TRUE(contains(opened.status.remedy, "--ipmi-privilege admin")) << opened.status.remedy;
}

TEST_F(IpmiDcmiLan, BmcWithoutDcmiAtOpen) {
  sim_->set_completion_code(0xC1);
  const OpenedServerSource opened = open_ipmi_lan_source(options());
  EXPECT_EQ(opened.status.state, State::Error);
  EXPECT_FALSE(opened.source);
  EXPECT_TRUE(contains(opened.status.reason, "does not support DCMI")) << opened.status.reason;
  EXPECT_FALSE(opened.status.remedy.empty());
}

TEST_F(IpmiDcmiLan, CompletionCodeErrorDuringReadsThenRecovers) {
  sim_->set_power_watts(240);
  auto source = open_ok(options());
  ASSERT_TRUE(source);
  sim_->set_completion_code(0xFF);
  ServerRead r = source->read();
  EXPECT_FALSE(r.reading);
  EXPECT_TRUE(contains(r.error, "0xFF")) << r.error;
  EXPECT_TRUE(contains(r.error, "unspecified error")) << r.error;
  EXPECT_FALSE(contains(r.error, "\n"));
  sim_->set_completion_code(0xC3);
  r = source->read();
  EXPECT_FALSE(r.reading);
  EXPECT_TRUE(contains(r.error, "timeout")) << r.error;
  sim_->set_completion_code(0);
  r = source->read();
  ASSERT_TRUE(r.reading) << r.error;
  EXPECT_DOUBLE_EQ(r.reading->power.value, 240.0);
}

TEST_F(IpmiDcmiLan, MeasurementNotActive) {
  auto source = open_ok(options());
  ASSERT_TRUE(source);
  sim_->set_measurement_active(false);
  const ServerRead r = source->read();
  EXPECT_FALSE(r.reading);
  EXPECT_TRUE(contains(r.error, "not active")) << r.error;
  // And at open.
  const OpenedServerSource opened = open_ipmi_lan_source(options());
  EXPECT_EQ(opened.status.state, State::Error);
  EXPECT_TRUE(contains(opened.status.reason, "not active")) << opened.status.reason;
}

TEST_F(IpmiDcmiLan, SilentBmcTimesOutThenIsUsedAgain) {
  sim_->set_power_watts(260);
  auto source = open_ok(options());
  ASSERT_TRUE(source);
  ASSERT_TRUE(source->read().reading);

  sim_->pause();
  auto start = Clock::now();
  ServerRead r = source->read();  // the request on the open session times out
  double elapsed = seconds_since(start);
  EXPECT_FALSE(r.reading);
  EXPECT_TRUE(contains(r.error, "no answer")) << r.error;
  EXPECT_LE(elapsed, kTimeout.count() + 1.0);

  start = Clock::now();
  r = source->read();  // the re-open times out
  elapsed = seconds_since(start);
  EXPECT_FALSE(r.reading);
  EXPECT_TRUE(contains(r.error, "no answer")) << r.error;
  EXPECT_LE(elapsed, kTimeout.count() + 1.0);

  sim_->resume();
  sim_->set_power_watts(275);
  r = source->read();
  ASSERT_TRUE(r.reading) << r.error;
  EXPECT_DOUBLE_EQ(r.reading->power.value, 275.0);
  EXPECT_EQ(source->origin(), "IPMI DCMI over lanplus to " + sim_->host() + " as admin (cipher suite 3)");
}

TEST_F(IpmiDcmiLan, TwoSourcesInTwoThreads) {
  sim_->set_power_watts(222);
  auto a = open_ok(options());
  auto b = open_ok(options());
  ASSERT_TRUE(a && b);
  auto loop = [](ServerPowerSource& s, int& good) {
    for (int i = 0; i < 10; ++i) {
      const ServerRead r = s.read();
      if (r.reading && r.reading->power.value == 222.0) ++good;
    }
  };
  int good_a = 0;
  int good_b = 0;
  std::thread ta(loop, std::ref(*a), std::ref(good_a));
  std::thread tb(loop, std::ref(*b), std::ref(good_b));
  ta.join();
  tb.join();
  EXPECT_EQ(good_a, 10);
  EXPECT_EQ(good_b, 10);
}

/// Runs a command and returns its stdout.
std::optional<std::string> run(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");  // NOLINT(cert-env33-c): a fixed test command
  if (pipe == nullptr) return std::nullopt;
  std::string out;
  std::array<char, 512> buffer{};
  while (std::fgets(buffer.data(), static_cast<int>(buffer.size()), pipe) != nullptr) out += buffer.data();
  if (::pclose(pipe) != 0) return std::nullopt;
  return out;
}

TEST_F(IpmiDcmiLan, SameWattsAsIpmitool) {
  if (::access("/usr/bin/ipmitool", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/ipmitool";
  sim_->set_power_watts(287);
  sim_->set_period_ms(0);  // the source reports the current power, as ipmitool's "Instantaneous" line
  const auto text =
      run("/usr/bin/ipmitool -I lanplus -C 3 -H 127.0.0.1 -p " + std::to_string(sim_->port()) + " -U " +
          sim_->user() + " -P " + sim_->password() + " dcmi power reading 2>/dev/null");
  ASSERT_TRUE(text) << "ipmitool failed";
  std::smatch m;
  ASSERT_TRUE(std::regex_search(*text, m, std::regex(R"(Instantaneous power reading:\s+(\d+) Watts)")))
      << *text;
  const double ipmitool_watts = std::stod(m[1].str());

  auto source = open_ok(options());
  ASSERT_TRUE(source);
  const ServerRead r = source->read();
  ASSERT_TRUE(r.reading) << r.error;
  EXPECT_DOUBLE_EQ(r.reading->power.value, ipmitool_watts);
  EXPECT_DOUBLE_EQ(ipmitool_watts, 287.0);
}

// Without a simulator.

TEST(IpmiDcmiLanOptions, UnknownPrivilegeListsTheAcceptedOnes) {
  IpmiLanOptions o;
  o.host = "127.0.0.1:9";
  o.privilege = "root";
  const OpenedServerSource opened = open_ipmi_lan_source(o);
  EXPECT_EQ(opened.status.state, State::Error);
  EXPECT_EQ(opened.status.name, "ipmi-dcmi.lan");
  EXPECT_TRUE(contains(opened.status.reason, "'root'")) << opened.status.reason;
  EXPECT_TRUE(contains(opened.status.reason, "user, operator, admin")) << opened.status.reason;
}

TEST(IpmiDcmiLanOptions, BadCipherSuiteAndEmptyHost) {
  IpmiLanOptions o;
  o.host = "127.0.0.1:9";
  o.cipher_suite = 5;
  OpenedServerSource opened = open_ipmi_lan_source(o);
  EXPECT_EQ(opened.status.state, State::Error);
  EXPECT_TRUE(contains(opened.status.reason, "cipher suite 5")) << opened.status.reason;
  o = IpmiLanOptions{};
  opened = open_ipmi_lan_source(o);
  EXPECT_EQ(opened.status.state, State::Error);
  EXPECT_TRUE(contains(opened.status.reason, "no BMC host")) << opened.status.reason;
}

TEST(IpmiDcmiLanOptions, NoBmcListeningGivesUpInTime) {
  // A port nobody listens on: the open must fail, within about the timeout.
  IpmiLanOptions o;
  o.host = "127.0.0.1:9";  // discard; no IPMI there
  o.user = "ipmiusr";
  o.password = Secret("pw-not-shown");
  o.timeout = Seconds{1.0};
  const auto start = Clock::now();
  const OpenedServerSource opened = open_ipmi_lan_source(o);
  const double elapsed = seconds_since(start);
  EXPECT_EQ(opened.status.state, State::Error);
  EXPECT_FALSE(opened.source);
  EXPECT_FALSE(contains(opened.status.reason, "pw-not-shown")) << opened.status.reason;
  EXPECT_LE(elapsed, o.timeout.count() + 1.0) << opened.status.reason;
}

TEST(IpmiDcmiLocal, MissingDeviceIsAbsent) {
  const std::string device = "/dev/wattprint-test-no-such-ipmi0";
  const OpenedServerSource opened = open_ipmi_local_source(device, Seconds{5.0});
  EXPECT_EQ(opened.status.state, State::Absent);
  EXPECT_FALSE(opened.source);
  EXPECT_EQ(opened.status.name, "ipmi-dcmi.local");
  EXPECT_EQ(opened.status.path, device);
  EXPECT_EQ(opened.status.reason,
            "no " + device + " (no BMC, or the ipmi_si and ipmi_devintf modules are not loaded)");
  EXPECT_EQ(opened.status.remedy, "modprobe ipmi_si ipmi_devintf");
}

TEST(IpmiDcmiLocal, RegularFileIsNotAnIpmiDevice) {
  testing::TestDir dir;
  const std::string path = (dir.path() / "ipmi0").string();
  std::ofstream(path) << "x";
  const OpenedServerSource opened = open_ipmi_local_source(path, Seconds{5.0});
  EXPECT_EQ(opened.status.state, State::Error);
  EXPECT_TRUE(contains(opened.status.reason, "not a character device")) << opened.status.reason;
}

TEST(IpmiDcmiLocal, NoPermissionIsUnreadable) {
  // /dev/kmsg: a character device that only root may open for writing (0644 root, or absent access).
  const std::string device = "/dev/kmsg";
  struct stat st {};
  if (::stat(device.c_str(), &st) != 0 || !S_ISCHR(st.st_mode)) GTEST_SKIP() << "no " << device;
  // As root every device is accessible: check as user nobody in a child process.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::geteuid() == 0 && (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0)) {
      ::_exit(2);
    }
    if (::access(device.c_str(), R_OK | W_OK) == 0) ::_exit(3);  // this user may open it: nothing to check
    const OpenedServerSource opened = open_ipmi_local_source(device, Seconds{5.0});
    const bool ok = opened.status.state == State::Unreadable && opened.status.path == device &&
                    contains(opened.status.reason, "no permission") &&
                    contains(opened.status.remedy, "docs/permissions.md");
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 2) GTEST_SKIP() << "cannot switch to user nobody";
  if (WEXITSTATUS(status) == 3) GTEST_SKIP() << device << " is writable for this user";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "expected state unreadable with a remedy naming docs/permissions.md";
}

}  // namespace
}  // namespace wattprint
