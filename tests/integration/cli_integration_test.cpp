// Command-line behaviour of the real binary: where the command starts, what is checked before it starts,
// configuration layering, and a command that cannot start.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "integration/harness.hpp"

namespace wattprint::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto bin = wattprint_bin_from_env();
    if (!bin) GTEST_SKIP() << "WATTPRINT_BIN is not set: point it at the wattprint executable";
    bin_ = *bin;
    fs::create_directories(home_.path() / "sys");
  }
  ProcessResult run(std::vector<std::string> args, std::vector<std::string> env = {}) const {
    SpawnOptions o;
    o.args = std::move(args);
    o.home = home_.path();
    o.cwd = home_.path();
    o.extra_env = std::move(env);
    return run_process(bin_, o);
  }
  [[nodiscard]] std::string sys() const { return (home_.path() / "sys").string(); }
  [[nodiscard]] std::string report() const { return (home_.path() / "r.json").string(); }
  fs::path bin_;
  TempDir home_{"wattprint-cli"};
};

TEST_F(Cli, ADoubleDashAfterTheCommandBelongsToTheCommand) {
  const ProcessResult r = run({"run", "--sysfs-root", sys(), "echo", "a", "--", "b"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "a -- b\n");
  const ProcessResult r2 = run({"run", "--sysfs-root", sys(), "--pue=1.5", "--", "echo", "--", "c"});
  EXPECT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_EQ(r2.out, "-- c\n");
}

TEST_F(Cli, RepeatedOptionsAreAllKeptAndNeverTakeTheCommand) {
  // Each --mark-regex and --tag takes one value; the command after them is not read as more values.
  const ProcessResult r =
      run({"run", "--sysfs-root", sys(), "--no-store", "--json", report(), "--mark-regex", "alpha=A",
           "--mark-regex", "beta=B", "--tag", "a=1", "--tag", "b=2", "printf", "A\\nB\\n"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "A\nB\n");
  const json j = read_json(report());
  ASSERT_EQ(j.at("phases").size(), 2U) << j.at("phases").dump(2);
  EXPECT_EQ(j.at("phases")[0].at("name"), "alpha");
  EXPECT_EQ(j.at("phases")[1].at("name"), "beta");
  EXPECT_EQ(j.at("tags"), (json{{"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(j.at("command"), (json{"printf", "A\\nB\\n"}));
}

TEST_F(Cli, UnwritableReportOrMissingSysfsRootStopBeforeTheCommand) {
  const fs::path marker = home_.path() / "marker";
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"run", "--sysfs-root", sys(), "--json", home_.path().string(), "--", "touch", marker.string()},
           {"run", "--sysfs-root", (home_.path() / "absent").string(), "--", "touch", marker.string()}}) {
    const ProcessResult r = run(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(fs::exists(marker));
  }
}

TEST_F(Cli, TheLaterConfigurationFileWins) {
  // The user's file sets an intensity, a later --config file sets a country: the country wins.
  write_text_file(home_.path() / ".config/wattprint/config.toml", "carbon_intensity = 300\npue = 1.2\n");
  write_text_file(home_.path() / "late.toml", "country = \"FR\"\n");
  const ProcessResult r = run({"run", "--sysfs-root", sys(), "--config",
                               (home_.path() / "late.toml").string(), "--json", report(), "--", "true"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = read_json(report());
  EXPECT_EQ(j.at("carbon_intensity").at("region"), "FR");
  EXPECT_DOUBLE_EQ(j.at("pue").get<double>(), 1.2);
  // And flags win over both.
  const ProcessResult r2 =
      run({"run", "--sysfs-root", sys(), "--config", (home_.path() / "late.toml").string(),
           "--carbon-intensity", "ADEME-2018-FR", "--json", report(), "--", "true"});
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_DOUBLE_EQ(read_json(report()).at("carbon_intensity").at("g_per_kwh").get<double>(), 57.1);
}

TEST_F(Cli, ACommandThatCannotStartHasNoEstimate) {
  const ProcessResult r =
      run({"run", "--sysfs-root", sys(), "--json", report(), "--", "no-such-command-xyz"});
  EXPECT_EQ(r.exit_code, 127);
  const json j = read_json(report());
  EXPECT_FALSE(j.at("methods").at("estimate").at("available").get<bool>());
  EXPECT_TRUE(j.at("methods").at("estimate").at("energy_kwh").is_null());
  EXPECT_NE(j.at("error").get<std::string>().find("no-such-command-xyz"), std::string::npos);
}

TEST_F(Cli, AShortGpuNameListsTheCandidates) {
  const ProcessResult r = run({"estimate", "--runtime", "1h", "--gpu", "A100"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--gpu: 'A100' fits several models"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(400 W)"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace wattprint::testing
