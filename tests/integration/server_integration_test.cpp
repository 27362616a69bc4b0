// Whole-server power through the real binary: the ACPI power meter on a fake hwmon tree whose power the
// command itself changes, the idle baseline (wattprint idle, --idle-watts, --idle-before, the state
// directory), and what is refused before the command starts.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "integration/harness.hpp"

namespace wattprint::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string host_name() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  return name;
}

class ServerPower : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto bin = wattprint_bin_from_env();
    if (!bin) GTEST_SKIP() << "WATTPRINT_BIN is not set: point it at the wattprint executable";
    bin_ = *bin;
    meter_ = home_.path() / "sys/class/hwmon/hwmon2";
    write_text_file(meter_ / "name", "power_meter\n");
    write_text_file(meter_ / "power1_average_interval", "100\n");
    set_watts(100);
  }
  /// Replaces power1_average atomically, as the command under test does with `power_to`.
  void set_watts(int watts) const {
    write_text_file(meter_ / "power1_average.tmp", std::to_string(watts) + "000000\n");
    fs::rename(meter_ / "power1_average.tmp", meter_ / "power1_average");
  }
  /// A shell snippet that sets the meter to `watts`.
  [[nodiscard]] std::string power_to(int watts) const {
    const std::string file = (meter_ / "power1_average").string();
    return "echo " + std::to_string(watts) + "000000 > " + file + ".tmp && mv " + file + ".tmp " + file;
  }
  ProcessResult run(std::vector<std::string> args, std::vector<std::string> env = {}) const {
    SpawnOptions o;
    o.args = std::move(args);
    o.home = home_.path();
    o.cwd = home_.path();
    o.extra_env = std::move(env);
    o.extra_env.push_back("WATTPRINT_STATE_DIR=" + state().string());
    return run_process(bin_, o);
  }
  [[nodiscard]] std::string sys() const { return (home_.path() / "sys").string(); }
  [[nodiscard]] std::string report() const { return (home_.path() / "r.json").string(); }
  [[nodiscard]] fs::path state() const { return home_.path() / "state"; }
  fs::path bin_;
  TempDir home_{"wattprint-server"};
  fs::path meter_;
};

TEST_F(ServerPower, ServerEnergyFollowsThePowerTheCommandSets) {
  // 100 W for 1 s, then 300 W for 1 s: 400 J, whatever the sampling.
  const ProcessResult r =
      run({"run", "--sysfs-root", sys(), "--server-interval", "0.1", "--idle-watts", "100", "--json",
           report(), "--", "sh", "-c", "sleep 1; " + power_to(300) + "; sleep 1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = read_json(report());
  const double duration = j.at("duration_s").get<double>();
  ASSERT_TRUE(j.at("server").is_object()) << j.dump(2);
  EXPECT_EQ(j.at("server").at("source"), "acpi-power-meter");
  EXPECT_DOUBLE_EQ(j.at("server").at("mean_window_s").get<double>(), 0.1);
  const double expected = 100.0 * 1.0 + 300.0 * (duration - 1.0);
  const double server_j = j.at("server").at("energy_j").get<double>();
  EXPECT_NEAR(server_j, expected, 40.0) << j.at("server").dump(2);
  EXPECT_GE(j.at("server").at("readings").get<int>(), 15);
  EXPECT_EQ(j.at("server").at("failed_readings").get<int>(), 0);
  EXPECT_DOUBLE_EQ(j.at("measured").at("server_j").get<double>(), server_j);
  const json& server = j.at("methods").at("server");
  EXPECT_TRUE(server.at("available").get<bool>());
  EXPECT_EQ(server.at("kind"), "measured");
  EXPECT_DOUBLE_EQ(server.at("it_energy_j").get<double>(), server_j);
  const json& minus_idle = j.at("methods").at("server-minus-idle");
  ASSERT_TRUE(minus_idle.at("available").get<bool>()) << minus_idle.dump(2);
  EXPECT_NEAR(minus_idle.at("it_energy_j").get<double>(), server_j - 100.0 * duration, 1e-6);
  EXPECT_EQ(j.at("idle_baseline").at("how"), "--idle-watts 100");
  EXPECT_NE(r.err.find("server-minus-idle"), std::string::npos);
}

TEST_F(ServerPower, IdleStoresABaselineThatTheNextRunUses) {
  set_watts(150);
  const ProcessResult idle =
      run({"idle", "--duration", "1", "--sysfs-root", sys(), "--server-interval", "0.1"});
  ASSERT_EQ(idle.exit_code, 0) << idle.err;
  EXPECT_NE(idle.out.find("150.0 W"), std::string::npos) << idle.out;
  const fs::path stored = state() / "idle" / (host_name() + ".json");
  ASSERT_TRUE(fs::exists(stored)) << idle.out;
  const json baseline = read_json(stored);
  EXPECT_NEAR(baseline.at("server_w").get<double>(), 150.0, 1e-6);
  EXPECT_EQ(baseline.at("how"), "wattprint idle --duration 1");
  EXPECT_NEAR(baseline.at("duration_s").get<double>(), 1.0, 0.3);

  set_watts(250);
  const ProcessResult r =
      run({"run", "--sysfs-root", sys(), "--server-interval", "0.1", "--json", report(), "--", "sleep", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = read_json(report());
  const double duration = j.at("duration_s").get<double>();
  const json& minus_idle = j.at("methods").at("server-minus-idle");
  ASSERT_TRUE(minus_idle.at("available").get<bool>()) << minus_idle.dump(2);
  EXPECT_NEAR(minus_idle.at("it_energy_j").get<double>(), 100.0 * duration, 5.0);
  EXPECT_EQ(j.at("idle_baseline").at("stored_in"), stored.string());
  EXPECT_EQ(j.at("idle_baseline").at("measured_at"), baseline.at("measured_at"));

  // --no-store measures without replacing the stored baseline.
  set_watts(400);
  const ProcessResult again = run({"idle", "--duration", "1", "--sysfs-root", sys(), "--no-store"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NEAR(read_json(stored).at("server_w").get<double>(), 150.0, 1e-6);
}

TEST_F(ServerPower, BelowTheBaselineIsZeroWithAWarning) {
  const ProcessResult r = run({"run", "--sysfs-root", sys(), "--server-interval", "0.1", "--idle-watts",
                               "500", "--json", report(), "--", "sleep", "0.5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = read_json(report());
  EXPECT_DOUBLE_EQ(j.at("methods").at("server-minus-idle").at("it_energy_j").get<double>(), 0.0);
  ASSERT_EQ(j.at("warnings").size(), 1U);
  EXPECT_NE(j.at("warnings")[0].get<std::string>().find("less than its idle baseline"), std::string::npos);
  EXPECT_NE(r.err.find("warning: "), std::string::npos);
}

TEST_F(ServerPower, IdleBeforeMeasuresJustBeforeTheCommand) {
  set_watts(120);
  const ProcessResult r = run({"run", "--sysfs-root", sys(), "--server-interval", "0.1", "--idle-before", "1",
                               "--json", report(), "--", "sh", "-c", power_to(220) + "; sleep 1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = read_json(report());
  EXPECT_NEAR(j.at("idle_baseline").at("server_w").get<double>(), 120.0, 1e-6);
  EXPECT_NE(j.at("idle_baseline").at("how").get<std::string>().find("--idle-before 1"), std::string::npos);
  const double duration = j.at("duration_s").get<double>();
  EXPECT_NEAR(j.at("methods").at("server-minus-idle").at("it_energy_j").get<double>(), 100.0 * duration,
              15.0);
}

TEST_F(ServerPower, WithoutABaselineTheReasonSaysWhatToDo) {
  const ProcessResult r =
      run({"run", "--sysfs-root", sys(), "--server-interval", "0.1", "--json", report(), "--", "true"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = read_json(report());
  EXPECT_TRUE(j.at("methods").at("server").at("available").get<bool>());
  const std::string reason = j.at("methods").at("server-minus-idle").at("reason");
  EXPECT_NE(reason.find("wattprint idle"), std::string::npos) << reason;
  EXPECT_TRUE(j.at("idle_baseline").is_null());
}

TEST_F(ServerPower, TheConfigurationCanHoldTheIdlePowerAndTheSource) {
  const fs::path config = home_.path() / "server.toml";
  write_text_file(config, "idle_watts = 60\nserver_interval = 0.1\n");
  const ProcessResult r = run(
      {"run", "--sysfs-root", sys(), "--config", config.string(), "--json", report(), "--", "sleep", "0.5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = read_json(report());
  EXPECT_EQ(j.at("idle_baseline").at("how"), "idle_watts in " + config.string());
  EXPECT_DOUBLE_EQ(j.at("server").at("period_s").get<double>(), 0.1);
  EXPECT_NEAR(j.at("methods").at("server-minus-idle").at("it_energy_j").get<double>(),
              40.0 * j.at("duration_s").get<double>(), 1e-6);
  write_text_file(config, "server_source = \"none\"\n");
  const ProcessResult none =
      run({"run", "--sysfs-root", sys(), "--config", config.string(), "--json", report(), "--", "true"});
  ASSERT_EQ(none.exit_code, 0) << none.err;
  j = read_json(report());
  EXPECT_TRUE(j.at("server").is_null());
  EXPECT_NE(j.at("methods").at("server").at("reason").get<std::string>().find("--server-source none"),
            std::string::npos);
  write_text_file(config, "ipmi_cipher_suite = 3.5\n");
  const ProcessResult bad = run({"run", "--sysfs-root", sys(), "--config", config.string(), "--", "true"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("server.toml:1:"), std::string::npos) << bad.err;
}

TEST_F(ServerPower, PasswordsAreRefusedOnTheCommandLineWithoutBeingRepeated) {
  const fs::path marker = home_.path() / "marker";
  const ProcessResult r = run({"run", "--sysfs-root", sys(), "--ipmi-host", "10.0.0.1", "--ipmi-user",
                               "admin", "--ipmi-password", "hunter2", "--", "touch", marker.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.find("hunter2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--ipmi-password-file"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(marker));
  const ProcessResult no_user = run({"run", "--sysfs-root", sys(), "--ipmi-host", "10.0.0.1", "--", "true"});
  EXPECT_EQ(no_user.exit_code, 2);
  EXPECT_NE(no_user.err.find("--ipmi-user"), std::string::npos) << no_user.err;
  const ProcessResult no_password =
      run({"run", "--sysfs-root", sys(), "--ipmi-host", "10.0.0.1", "--ipmi-user", "admin", "--", "true"});
  EXPECT_EQ(no_password.exit_code, 2);
  EXPECT_NE(no_password.err.find("WATTPRINT_IPMI_PASSWORD"), std::string::npos) << no_password.err;
  const ProcessResult bad_suite =
      run({"run", "--sysfs-root", sys(), "--ipmi-cipher-suite", "3.5", "--", "true"});
  EXPECT_EQ(bad_suite.exit_code, 0) << "a cipher suite without --ipmi-host is not used";
  const ProcessResult source = run({"run", "--sysfs-root", sys(), "--server-source", "bmc", "--", "true"});
  EXPECT_EQ(source.exit_code, 2);
  EXPECT_NE(source.err.find("auto, ipmi, redfish, acpi, none"), std::string::npos);
}

TEST_F(ServerPower, PasswordVariablesNeverReachTheCommand) {
  // The command prints its environment, then wattprint's (its parent's) /proc environ.
  const ProcessResult r = run(
      {"run", "--sysfs-root", sys(), "--", "sh", "-c", "env; echo ---; tr '\\0' '\\n' < /proc/$PPID/environ"},
      {"WATTPRINT_IPMI_PASSWORD=ipmi-Secr3t", "WATTPRINT_REDFISH_PASSWORD=redfish-Secr3t", "KEEP_ME=yes"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string command_env = r.out.substr(0, r.out.find("---"));
  EXPECT_NE(command_env.find("KEEP_ME=yes"), std::string::npos) << r.out;
  EXPECT_EQ(command_env.find("_PASSWORD"), std::string::npos) << r.out;
  // wattprint's own environ keeps the names (the kernel's copy of the start-up block) but not the values.
  EXPECT_EQ(r.out.find("Secr3t"), std::string::npos) << r.out;
}

TEST_F(ServerPower, MistypedOptionsDoNotEchoTheirValues) {
  for (const char* command : {"run", "idle", "sensors"}) {
    const ProcessResult r = run({command, "--redfish-pass=S3cret-typo", "--", "true"});
    EXPECT_EQ(r.exit_code, 2) << command;
    EXPECT_EQ(r.err.find("S3cret-typo"), std::string::npos) << command << ": " << r.err;
  }
  const fs::path config = home_.path() / "pw.toml";
  write_text_file(config, "ipmi_password = \"S3cret-in-config\"\n");
  const ProcessResult in_config =
      run({"run", "--sysfs-root", sys(), "--config", config.string(), "--", "true"});
  EXPECT_EQ(in_config.exit_code, 2);
  EXPECT_NE(in_config.err.find("ipmi_password_file"), std::string::npos) << in_config.err;
  EXPECT_EQ(in_config.err.find("S3cret-in-config"), std::string::npos) << in_config.err;
  for (const char* host : {"127.0.0.1:99999", "127.0.0.1:0", "bmc:", "[::1]x"}) {
    const ProcessResult bad =
        run({"run", "--sysfs-root", sys(), "--ipmi-host", host, "--ipmi-user", "u", "--", "true"});
    EXPECT_EQ(bad.exit_code, 2) << host;
    EXPECT_NE(bad.err.find("--ipmi-host"), std::string::npos) << bad.err;
  }
}

TEST_F(ServerPower, IdleWritesJsonToAPlainFileName) {
  const ProcessResult r =
      run({"idle", "--duration", "1", "--sysfs-root", sys(), "--no-store", "--json", "idle.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NEAR(read_json(home_.path() / "idle.json").at("server_w").get<double>(), 100.0, 1e-6);
  EXPECT_FALSE(fs::exists(state()));
}

TEST_F(ServerPower, SensorsShowsTheServerSources) {
  const ProcessResult r = run({"sensors", "--sysfs-root", sys()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("acpi-power-meter"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("100 W now"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ipmi-dcmi.lan"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("redfish"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace wattprint::testing
