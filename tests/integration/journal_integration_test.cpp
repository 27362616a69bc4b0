// The run journal through the real binary: a `wattprint run` killed with SIGKILL is recovered from its
// journal with the energy it measured up to its last flush; a normal run leaves no journal; a run kept
// nowhere leaves its final report; a changed boot id reads as a reboot; a disk that fills up mid-run stops
// the journal, not the measurement.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
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

constexpr double kPowerW = 20.0;
constexpr double kFlushS = 2.0;  // RunJournal::kFlushPeriodS: the tests use the real period

std::string describe(const ProcessResult& r) {
  return "exit " + std::to_string(r.exit_code) + (r.timed_out ? " (timed out)" : "") + "\n--- stdout:\n" +
         r.out + "\n--- stderr:\n" + r.err;
}

/// The processes whose parent is `parent` (from /proc/PID/stat).
std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> children;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator("/proc", ec)) {
    std::ifstream stat(entry.path() / "stat");
    std::string text;
    if (!std::getline(stat, text)) continue;
    const auto close = text.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(text.substr(close + 2));
    char state = 0;
    long ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent) children.push_back(static_cast<pid_t>(std::stol(entry.path().filename().string())));
  }
  return children;
}

class Journal : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto bin = wattprint_bin_from_env();
    if (!bin) GTEST_SKIP() << "WATTPRINT_BIN is not set: point it at the wattprint executable";
    bin_ = *bin;
    tree_.start(std::chrono::milliseconds(5));
    write_text_file(boot_id_file(), "boot-one\n");
  }
  [[nodiscard]] fs::path journal_root() const { return home_.path() / "journal"; }
  [[nodiscard]] fs::path boot_id_file() const { return home_.path() / "boot_id"; }
  [[nodiscard]] SpawnOptions options(std::vector<std::string> args) const {
    SpawnOptions o;
    o.args = std::move(args);
    o.home = home_.path();
    o.cwd = home_.path();
    o.extra_env = {"WATTPRINT_JOURNAL_DIR=" + journal_root().string(),
                   "WATTPRINT_BOOT_ID_FILE=" + boot_id_file().string()};
    return o;
  }
  ProcessResult wattprint(std::vector<std::string> args) const {
    return run_process(bin_, options(std::move(args)));
  }
  [[nodiscard]] std::vector<std::string> run_args(std::vector<std::string> extra,
                                                  const std::vector<std::string>& command) const {
    std::vector<std::string> args{"run", "--sysfs-root", tree_.sysfs_root().string(), "--interval", "0.1"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.emplace_back("--");
    args.insert(args.end(), command.begin(), command.end());
    return args;
  }
  [[nodiscard]] std::vector<fs::path> journals() const {
    std::vector<fs::path> found;
    std::error_code ec;
    for (const fs::directory_entry& entry : fs::directory_iterator(journal_root(), ec))
      found.push_back(entry.path());
    return found;
  }

  /// Starts `wattprint run -- sleep 30`, waits for its first flush, `at_least` of run and (when asked) until
  /// its samples.jsonl holds `sample_lines` lines (the journal writes them at each flush: waiting for them,
  /// not for a time, keeps a slow start-up under ASan from killing it before that flush), kills it with
  /// SIGKILL (and the orphaned sleep). Returns the seconds from its start to the kill and its journal.
  std::pair<double, fs::path> run_and_kill(std::chrono::milliseconds at_least, std::size_t sample_lines = 0) {
    const auto started = std::chrono::steady_clock::now();
    Process run(bin_, options(run_args({}, {"sleep", "30"})));
    fs::path report;
    std::size_t lines = 0;
    while (std::chrono::steady_clock::now() - started < 20s) {
      const auto found = journals();
      if (found.size() == 1 && fs::exists(found[0] / "report.json")) report = found[0] / "report.json";
      if (!report.empty() && sample_lines > 0) {
        std::ifstream samples(report.parent_path() / "samples.jsonl");
        lines = static_cast<std::size_t>(
            std::count(std::istreambuf_iterator<char>(samples), std::istreambuf_iterator<char>(), '\n'));
      }
      if (!report.empty() && lines >= sample_lines && std::chrono::steady_clock::now() - started >= at_least)
        break;
      std::this_thread::sleep_for(20ms);
    }
    EXPECT_FALSE(report.empty()) << "no journal report within 20 s";
    EXPECT_GE(lines, sample_lines) << "samples.jsonl did not reach " << sample_lines << " lines within 20 s";
    const std::vector<pid_t> command = children_of(run.pid());
    const double killed_at =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    run.signal(SIGKILL);
    for (const pid_t pid : command) ::kill(pid, SIGKILL);
    const ProcessResult killed = run.wait();
    EXPECT_TRUE(killed.signaled) << describe(killed);
    return {killed_at, report.parent_path()};
  }

  fs::path bin_;
  TempDir home_{"wattprint-journal"};
  FakePowercapTree tree_{{FakeZone("intel-rapl:0", "package-0", kPowerW)}};
};

TEST_F(Journal, AKilledRunIsRecoveredUpToItsLastFlush) {
  const auto [killed_at, journal] = run_and_kill(3000ms);
  const std::string run_id = journal.filename().string();

  const ProcessResult listed = wattprint({"report", "--recover"});
  ASSERT_EQ(listed.exit_code, 0) << describe(listed);
  EXPECT_NE(listed.out.find(run_id + "  interrupted "), std::string::npos) << listed.out;

  const fs::path out = home_.path() / "out.json";
  const ProcessResult recovered = wattprint({"report", "--recover", "last", "--json", out.string()});
  ASSERT_EQ(recovered.exit_code, 0) << describe(recovered);
  EXPECT_NE(recovered.err.find("exit status unknown"), std::string::npos) << recovered.err;
  const json report = read_json(out);
  EXPECT_EQ(report.at("run_id"), run_id);
  EXPECT_TRUE(report.at("exit_code").is_null());
  ASSERT_TRUE(report.contains("recovered")) << report.dump(2);
  EXPECT_EQ(report.at("recovered").at("reason"), "monitor killed");
  EXPECT_EQ(report.at("recovered").at("journal"), journal.string());
  // The report covers the run up to its last flush: at most one flush period (and an interval) before the
  // kill, never after it.
  const double duration = report.at("duration_s").get<double>();
  EXPECT_LE(duration, killed_at);
  // (killed_at also counts wattprint's start-up before its sampler's t=0: up to a second on a loaded CI
  // machine)
  EXPECT_GE(duration, killed_at - kFlushS - 1.5) << "killed at " << killed_at << " s";
  EXPECT_EQ(report.at("recovered").at("covered_s").get<double>(), duration);
  // The fake package draws 20 W: the energy is the truth over the covered span.
  EXPECT_NEAR(report.at("measured").at("cpu_j").get<double>(), kPowerW * duration, kPowerW * 0.1);
  bool warned = false;
  for (const json& w : report.at("warnings"))
    warned = warned || w.get<std::string>().find("last flush") != std::string::npos;
  EXPECT_TRUE(warned) << report.at("warnings").dump();

  // Stored in the history, and the journal is gone.
  const ProcessResult runs = wattprint({"runs", "--json", "--limit", "0"});
  ASSERT_EQ(runs.exit_code, 0) << describe(runs);
  const json listed_runs = json::parse(runs.out);
  ASSERT_EQ(listed_runs.size(), 1U) << listed_runs.dump(2);
  EXPECT_TRUE(listed_runs[0].at("exit_code").is_null()) << listed_runs.dump(2);
  EXPECT_FALSE(fs::exists(journal));
}

TEST_F(Journal, ARunStillGoingIsNotRecovered) {
  Process run(bin_, options(run_args({}, {"sleep", "30"})));
  const auto started = std::chrono::steady_clock::now();
  std::vector<fs::path> found;
  while ((found.empty() || !fs::exists(found[0] / "owner.json")) &&
         std::chrono::steady_clock::now() - started < 20s) {
    found = journals();
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(found.size(), 1U);
  const ProcessResult refused = wattprint({"report", "--recover", found[0].filename().string().substr(0, 8)});
  EXPECT_EQ(refused.exit_code, 1) << describe(refused);
  EXPECT_NE(refused.err.find("still running"), std::string::npos) << refused.err;
  EXPECT_TRUE(fs::exists(found[0] / "owner.json")) << "a refused recovery leaves the journal";
  for (const pid_t pid : children_of(run.pid())) ::kill(pid, SIGKILL);
  run.wait();
}

TEST_F(Journal, ANormalRunLeavesNoJournal) {
  const ProcessResult run = wattprint(run_args({}, {"sleep", "0.3"}));
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.err.find("stored as run 1"), std::string::npos) << run.err;
  EXPECT_TRUE(journals().empty());
}

TEST_F(Journal, ARunKeptNowhereLeavesItsFinalReportInTheJournal) {
  const ProcessResult run = wattprint(run_args({"--no-store"}, {"sleep", "0.3"}));
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  const auto found = journals();
  ASSERT_EQ(found.size(), 1U) << run.err;
  const std::string run_id = found[0].filename().string();
  EXPECT_NE(run.err.find("wattprint report --recover " + run_id), std::string::npos) << run.err;
  EXPECT_FALSE(fs::exists(found[0] / "samples.jsonl"));
  const ProcessResult listed = wattprint({"report", "--recover"});
  EXPECT_NE(listed.out.find("finished, not stored"), std::string::npos) << listed.out;
  // It ended normally: its report is the final one, exit status included.
  const fs::path out = home_.path() / "out.json";
  const ProcessResult recovered =
      wattprint({"report", "--recover", run_id, "--json", out.string(), "--no-store"});
  ASSERT_EQ(recovered.exit_code, 0) << describe(recovered);
  const json report = read_json(out);
  EXPECT_EQ(report.at("exit_code"), 0);
  EXPECT_FALSE(report.contains("recovered"));
  EXPECT_FALSE(fs::exists(found[0]));
}

TEST_F(Journal, AChangedBootIdReadsAsAReboot) {
  // Past the first 2-s flush of the samples: the journal then holds about 20 rows of 0.1 s (and a header
  // line).
  run_and_kill(2600ms, 16);
  write_text_file(boot_id_file(), "boot-two\n");
  const ProcessResult listed = wattprint({"report", "--recover"});
  EXPECT_NE(listed.out.find("interrupted by a reboot"), std::string::npos) << describe(listed);
  // The next run says that there is something to recover.
  const ProcessResult next = wattprint(run_args({}, {"true"}));
  EXPECT_NE(next.err.find("1 interrupted run(s) can be recovered: wattprint report --recover"),
            std::string::npos)
      << next.err;
  const fs::path csv = home_.path() / "samples.csv";
  const ProcessResult recovered = wattprint({"report", "--recover", "last", "--csv", csv.string(),
                                             "--no-store", "--json", (home_.path() / "r.json").string()});
  ASSERT_EQ(recovered.exit_code, 0) << describe(recovered);
  EXPECT_EQ(read_json(home_.path() / "r.json").at("recovered").at("reason"), "machine rebooted");
  std::ifstream in(csv);
  std::string header;
  ASSERT_TRUE(std::getline(in, header));
  EXPECT_NE(header.find("package-0_power_w"), std::string::npos) << header;
  std::size_t rows = 0;
  for (std::string line; std::getline(in, line);) ++rows;
  EXPECT_GE(rows, 15U) << "one row per 0.1-s interval up to the first flush at least";
}

/// A small tmpfs of the test's own (root only: mount(2)), unmounted at the end.
class SmallFileSystem {
 public:
  explicit SmallFileSystem(fs::path where) : where_(std::move(where)) {
    fs::create_directories(where_);
    mounted_ = ::mount("tmpfs", where_.c_str(), "tmpfs", 0, "size=1m,mode=0700") == 0;
    if (!mounted_) error_ = std::strerror(errno);
  }
  SmallFileSystem(const SmallFileSystem&) = delete;
  SmallFileSystem& operator=(const SmallFileSystem&) = delete;
  ~SmallFileSystem() {
    if (mounted_) ::umount2(where_.c_str(), MNT_DETACH);
  }
  [[nodiscard]] bool mounted() const { return mounted_; }
  [[nodiscard]] const std::string& error() const { return error_; }
  /// Writes a file until the file system says ENOSPC; returns the errno that stopped it.
  [[nodiscard]] int fill() const {
    const int fd = ::open((where_ / "filler").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return errno;
    const std::string block(4096, 'x');
    int stopped = 0;
    while (stopped == 0) {
      if (::write(fd, block.data(), block.size()) < 0) stopped = errno;
    }
    // The last bytes: a partial block may still fit.
    while (::write(fd, "x", 1) == 1) {
    }
    ::close(fd);
    return stopped;
  }

 private:
  fs::path where_;
  bool mounted_ = false;
  std::string error_;
};

TEST_F(Journal, ADiskThatFillsUpMidRunStopsTheJournalNotTheMeasurement) {
  const SmallFileSystem disk(home_.path() / "small");
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (" << disk.error() << "): needs root";
  const fs::path out = home_.path() / "report.json";
  const auto started = std::chrono::steady_clock::now();
  Process run(bin_, options(run_args({"--journal-dir", (home_.path() / "small" / "journal").string(),
                                      "--json", out.string()},
                                     {"sleep", "6"})));
  // Once the journal's first report is on the small disk, the disk fills up; the journal's next flush fails.
  bool journaled = false;
  while (!journaled && std::chrono::steady_clock::now() - started < 20s) {
    std::error_code ec;
    for (const fs::directory_entry& entry : fs::directory_iterator(home_.path() / "small" / "journal", ec))
      journaled = journaled || fs::exists(entry.path() / "report.json");
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(journaled) << "no journal on the small disk within 20 s";
  EXPECT_EQ(disk.fill(), ENOSPC);
  const ProcessResult done = run.wait();
  ASSERT_EQ(done.exit_code, 0) << describe(done);
  // One warning on stderr, the same in the report; the measurement went on to the end of the command.
  const std::string warning = "measuring continued in memory";
  const std::size_t first = done.err.find(warning);
  ASSERT_NE(first, std::string::npos) << done.err;
  const json report = read_json(out);
  bool in_report = false;
  for (const json& w : report.at("warnings")) {
    const std::string text = w.get<std::string>();
    if (text.find(warning) == std::string::npos) continue;
    in_report = true;
    EXPECT_NE(text.find("No space left on device"), std::string::npos) << text;
  }
  EXPECT_TRUE(in_report) << report.at("warnings").dump(2);
  const double duration = report.at("duration_s").get<double>();
  EXPECT_GE(duration, 5.9);
  EXPECT_NEAR(report.at("measured").at("cpu_j").get<double>(), kPowerW * duration, kPowerW * 0.1);
  EXPECT_EQ(report.at("exit_code"), 0);
}

}  // namespace
}  // namespace wattprint::testing
