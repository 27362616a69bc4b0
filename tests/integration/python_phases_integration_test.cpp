// The Python module end to end: `wattprint run` on a real PyTorch training (tests/python/tiny_cnn.py,
// Debian's python3-torch on the CPU) that marks its epochs with `wattprint.phase`, and the phases in the JSON
// report. Skips without /usr/bin/python3 or torch, unless WATTPRINT_REQUIRE_SIMULATORS=1 (CI installs them).
// Build: part of run_integration_tests, with WATTPRINT_SOURCE_DIR="${PROJECT_SOURCE_DIR}" (the repository
// root) among its compile definitions.
#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fakes/require_simulators.hpp"
#include "integration/harness.hpp"

#ifndef WATTPRINT_SOURCE_DIR
#error "WATTPRINT_SOURCE_DIR (the repository root) must be defined by the build"
#endif

namespace wattprint::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kDebianPython = "/usr/bin/python3";
constexpr const char* kMethodNames[] = {"estimate", "process", "gpu", "server", "server-minus-idle"};

class PythonPhases : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto bin = wattprint_bin_from_env();
    if (!bin) GTEST_SKIP() << "WATTPRINT_BIN is not set: point it at the wattprint executable";
    bin_ = *bin;
    fs::create_directories(home_.path() / "sys");
    std::string missing;
    if (!fs::exists(kDebianPython)) {
      missing = std::string(kDebianPython) + " is missing (Debian's python3)";
    } else {
      SpawnOptions o;
      o.args = {"-c", "import torch"};
      o.home = home_.path();
      o.timeout = std::chrono::milliseconds(120'000);
      const ProcessResult r = run_process(kDebianPython, o);
      if (r.exit_code != 0) missing = "`import torch` fails for /usr/bin/python3 (python3-torch): " + r.err;
    }
    if (!missing.empty()) {
      if (required_by_environment()) FAIL() << "WATTPRINT_REQUIRE_SIMULATORS is set, but " << missing;
      GTEST_SKIP() << missing;
    }
  }

  fs::path bin_;
  TempDir home_{"wattprint-python"};
};

const json& phase_at(const json& phases, const json& position) {
  return phases.at(position.get<std::size_t>());
}

TEST_F(PythonPhases, TinyCnnEpochsWithNestedTrainAndEvalInTheReport) {
  const fs::path source(WATTPRINT_SOURCE_DIR);
  const fs::path report = home_.path() / "R.json";
  SpawnOptions o;
  o.args = {"run",
            "--sysfs-root",
            (home_.path() / "sys").string(),
            "--json",
            report.string(),
            "--",
            kDebianPython,
            (source / "tests/python/tiny_cnn.py").string()};
  o.home = home_.path();
  o.cwd = home_.path();
  o.extra_env = {"PYTHONPATH=" + (source / "python").string(), "PYTHONDONTWRITEBYTECODE=1"};
  o.timeout = std::chrono::milliseconds(240'000);
  const ProcessResult r = run_process(bin_, o);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Epoch 3/3 loss "), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find("wattprint: not inside"), std::string::npos) << r.err;  // the module found the socket
  EXPECT_EQ(r.err.find("RuntimeWarning"), std::string::npos) << r.err;

  const json j = read_json(report);
  const json& phases = j.at("phases");
  ASSERT_EQ(phases.size(), 9U) << phases.dump(2);  // 3 × (epoch, train, eval)

  std::vector<std::size_t> epochs;
  for (std::size_t i = 0; i < phases.size(); ++i) {
    const json& p = phases.at(i);
    SCOPED_TRACE(p.value("path", "?"));
    EXPECT_EQ(p.at("ended_by"), "mark");
    EXPECT_LE(p.at("start_s").get<double>(), p.at("end_s").get<double>());
    for (const char* method : kMethodNames) {
      SCOPED_TRACE(method);
      const json& m = p.at("methods").at(method);
      EXPECT_TRUE(m.at("available").is_boolean());
      for (const char* key : {"reason", "it_energy_j", "energy_kwh", "co2_g", "components"}) {
        EXPECT_TRUE(m.contains(key)) << key;
      }
    }
    EXPECT_TRUE(p.at("methods").at("estimate").at("available").get<bool>()) << p.dump(2);
    if (p.at("name") == "epoch") epochs.push_back(i);
  }

  ASSERT_EQ(epochs.size(), 3U);
  for (std::size_t e = 0; e < epochs.size(); ++e) {
    const json& epoch = phases.at(epochs[e]);
    SCOPED_TRACE(epoch.dump());
    EXPECT_EQ(epoch.at("index").get<std::int64_t>(), static_cast<std::int64_t>(e + 1));
    EXPECT_EQ(epoch.at("depth").get<int>(), 0);
    EXPECT_TRUE(epoch.at("parent").is_null());
    if (e > 0) {  // consecutive, in order
      EXPECT_GE(epoch.at("start_s").get<double>(), phases.at(epochs[e - 1]).at("end_s").get<double>());
    }
    // Its children, in order of start: train then eval, both inside it.
    std::vector<std::size_t> children;
    for (std::size_t i = 0; i < phases.size(); ++i) {
      const json& parent = phases.at(i).at("parent");
      if (!parent.is_null() && parent.get<std::size_t>() == epochs[e]) children.push_back(i);
    }
    ASSERT_EQ(children.size(), 2U);
    const json& train = phases.at(children[0]);
    const json& eval = phases.at(children[1]);
    EXPECT_EQ(train.at("name"), "train");
    EXPECT_EQ(eval.at("name"), "eval");
    EXPECT_EQ(&phase_at(phases, train.at("parent")), &epoch);
    for (const json* child : {&train, &eval}) {
      EXPECT_EQ(child->at("depth").get<int>(), 1);
      EXPECT_EQ(child->at("index").get<std::int64_t>(), static_cast<std::int64_t>(e + 1));
      EXPECT_GE(child->at("start_s").get<double>(), epoch.at("start_s").get<double>());
      EXPECT_LE(child->at("end_s").get<double>(), epoch.at("end_s").get<double>());
    }
    EXPECT_LE(train.at("end_s").get<double>(), eval.at("start_s").get<double>());
    EXPECT_GT(train.at("duration_s").get<double>(), 0.0);  // forward and backward passes take time
    // Energy is additive over time: the children together hold no more than their epoch.
    const auto estimate_j = [](const json& p) {
      return p.at("methods").at("estimate").at("it_energy_j").get<double>();
    };
    EXPECT_LE(estimate_j(train) + estimate_j(eval), estimate_j(epoch) * 1.01 + 1e-9);
  }

  const json& summary = j.at("phase_summary").at("epoch");
  ASSERT_TRUE(summary.contains("estimate")) << summary.dump(2);
  for (const auto& [method, stats] : summary.items()) {
    SCOPED_TRACE(method);
    EXPECT_EQ(stats.at("count").get<int>(), 3);
  }
  EXPECT_EQ(j.at("phase_summary").at("train").at("estimate").at("count").get<int>(), 3);
  EXPECT_EQ(j.at("phase_summary").at("eval").at("estimate").at("count").get<int>(), 3);
  const json& marks = j.at("phase_marks");
  EXPECT_EQ(marks.at("accepted").get<int>(), 18);
  EXPECT_EQ(marks.at("malformed").get<int>(), 0);
  EXPECT_EQ(marks.at("unmatched_ends").get<int>(), 0);
}

}  // namespace
}  // namespace wattprint::testing
