// `wattprint mark` through the real binary: outside a run (a warning, exit 0), a bad name (exit 2), and a
// mark reaching a control socket server of the test.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "integration/harness.hpp"
#include "phases/control_socket.hpp"

namespace wattprint::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class MarkCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto bin = wattprint_bin_from_env();
    if (!bin) GTEST_SKIP() << "WATTPRINT_BIN is not set: point it at the wattprint executable";
    bin_ = *bin;
  }
  ProcessResult mark(std::vector<std::string> args, std::vector<std::string> env = {}) const {
    SpawnOptions o;
    o.args = {"mark"};
    o.args.insert(o.args.end(), args.begin(), args.end());
    o.home = home_.path();
    o.cwd = home_.path();
    o.extra_env = std::move(env);
    return run_process(bin_, o);
  }
  fs::path bin_;
  TempDir home_{"wattprint-mark"};
};

std::int64_t ns_of(SteadyTime t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

TEST_F(MarkCommand, OutsideARunWarnsOnceAndSucceeds) {
  const ProcessResult r = mark({"epoch"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(
      r.err,
      "wattprint mark: not inside `wattprint run` (WATTPRINT_CONTROL_SOCKET is not set); nothing marked\n");
  const ProcessResult end = mark({"--end", "epoch"});
  EXPECT_EQ(end.exit_code, 0) << end.err;
}

TEST_F(MarkCommand, RunThatEndedWarnsOnceAndSucceeds) {
  const ProcessResult r = mark({"epoch"}, {"WATTPRINT_CONTROL_SOCKET=" + (home_.path() / "gone").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("cannot reach the run's control socket"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing marked"), std::string::npos) << r.err;
}

TEST_F(MarkCommand, BadNameIsAUsageErrorNamingTheAllowedCharacters) {
  for (const std::string& name : {std::string("two words"), std::string("a;b"), std::string(65, 'n')}) {
    const ProcessResult r = mark({name});
    EXPECT_EQ(r.exit_code, 2) << name;
    EXPECT_NE(r.err.find("A-Z a-z 0-9 _ . : / -"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_EQ(mark({}).exit_code, 2);  // NAME is required
}

TEST_F(MarkCommand, HelpShowsAnExample) {
  const ProcessResult r = mark({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("for e in 1 2 3; do wattprint mark epoch"), std::string::npos) << r.out;
}

TEST_F(MarkCommand, MarksArriveAtTheRunsSocket) {
  MarkQueue queue;
  ControlSocketServer server(queue);
  server.start();
  const std::vector<std::string> env = {std::string(kControlSocketVariable) + "=" + server.path().string()};
  const auto before = std::chrono::steady_clock::now();
  const ProcessResult begin = mark({"data/load.1"}, env);
  const auto middle = std::chrono::steady_clock::now();
  const ProcessResult end = mark({"--end", "data/load.1"}, env);
  const auto after = std::chrono::steady_clock::now();
  EXPECT_EQ(begin.exit_code, 0) << begin.err;
  EXPECT_EQ(begin.err, "");
  EXPECT_EQ(end.exit_code, 0) << end.err;
  server.stop(5s);
  const std::vector<PhaseMark> marks = queue.drain();
  ASSERT_EQ(marks.size(), 2U);
  EXPECT_EQ(marks[0].kind, PhaseMark::Kind::Begin);
  EXPECT_EQ(marks[0].name, "data/load.1");
  EXPECT_EQ(marks[1].kind, PhaseMark::Kind::End);
  EXPECT_GT(ns_of(marks[0].at), ns_of(before));
  EXPECT_LT(ns_of(marks[0].at), ns_of(middle));
  EXPECT_GT(ns_of(marks[1].at), ns_of(middle));
  EXPECT_LT(ns_of(marks[1].at), ns_of(after));
  EXPECT_NE(marks[0].origin.find("control socket (pid "), std::string::npos);
  EXPECT_EQ(server.malformed_lines(), 0U);
}

}  // namespace
}  // namespace wattprint::testing
