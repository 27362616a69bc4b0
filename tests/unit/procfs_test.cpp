// /proc parsers and the process-tree walk over a fake /proc.
#include "attribution/procfs.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "attribution/process_tree.hpp"
#include "attribution/share.hpp"
#include "test_dir.hpp"

namespace wattprint {
namespace {

std::string stat_line(int pid, const std::string& comm, int ppid, int utime, int stime, int cutime,
                      int cstime, int threads, int rss) {
  // Fields 1..24 of proc(5), the rest zero.
  return std::to_string(pid) + " (" + comm + ") S " + std::to_string(ppid) + " 1 1 0 -1 4194304 100 0 0 0 " +
         std::to_string(utime) + " " + std::to_string(stime) + " " + std::to_string(cutime) + " " +
         std::to_string(cstime) + " 20 0 " + std::to_string(threads) + " 0 12345 1000000 " +
         std::to_string(rss) + " 0 0 0\n";
}

TEST(ProcessStat, ParsesTheVerifiedSampleLine) {
  const auto stat = parse_process_stat(
      "13616 (cat) R 13607 13607 2118 0 -1 4194304 101 0 0 0 0 0 0 0 20 0 1 0 37493 "
      "5537792 197 18446744073709551615");
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->pid, 13616);
  EXPECT_EQ(stat->ppid, 13607);
  EXPECT_EQ(stat->state, 'R');
  EXPECT_EQ(stat->starttime, 37493U);
  EXPECT_EQ(stat->rss_pages, 197U);
}

TEST(ProcessStat, CommandNamesWithSpacesAndParentheses) {
  const auto stat = parse_process_stat(stat_line(42, "evil) (name x", 7, 11, 22, 33, 44, 3, 99));
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->pid, 42);
  EXPECT_EQ(stat->ppid, 7);
  EXPECT_EQ(stat->utime, 11U);
  EXPECT_EQ(stat->stime, 22U);
  EXPECT_EQ(stat->cutime, 33U);
  EXPECT_EQ(stat->cstime, 44U);
  EXPECT_EQ(stat->num_threads, 3U);
  EXPECT_EQ(stat->rss_pages, 99U);
}

TEST(ProcessStat, RejectsTruncatedAndGarbage) {
  EXPECT_FALSE(parse_process_stat("12 (x) S 1 2 3"));
  EXPECT_FALSE(parse_process_stat("garbage"));
  EXPECT_FALSE(parse_process_stat(""));
}

TEST(MachineTicks, BusyExcludesIdleIowaitAndGuest) {
  // user nice system idle iowait irq softirq steal guest guest_nice
  const auto ticks = parse_machine_cpu_ticks("cpu  8727 5 2648 62539 589 7 187 3 100 50\ncpu0 1 2 3 4\n");
  ASSERT_TRUE(ticks);
  EXPECT_EQ(ticks->busy, 8727U + 5 + 2648 + 7 + 187 + 3);
  EXPECT_EQ(ticks->total, ticks->busy + 62539 + 589);
  EXPECT_FALSE(parse_machine_cpu_ticks("intr 1 2 3"));
}

TEST(Meminfo, UsedIsTotalMinusAvailable) {
  const auto memory =
      parse_meminfo("MemTotal:       24000000 kB\nMemFree:  1 kB\nMemAvailable:   20000000 kB\n");
  ASSERT_TRUE(memory);
  EXPECT_EQ(memory->total_bytes, 24000000ULL * 1024);
  EXPECT_EQ(memory->used_bytes(), 4000000ULL * 1024);
  EXPECT_FALSE(parse_meminfo("MemTotal: 10 kB\n"));
}

TEST(Share, CpuAndMemorySharesAreClamped) {
  EXPECT_DOUBLE_EQ(cpu_time_share(1.0, 4.0), 0.25);
  EXPECT_DOUBLE_EQ(cpu_time_share(5.0, 4.0), 1.0);
  EXPECT_DOUBLE_EQ(cpu_time_share(0.0, 4.0), 0.0);
  EXPECT_DOUBLE_EQ(cpu_time_share(0.5, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(memory_share(1, 4), 0.25);
  EXPECT_DOUBLE_EQ(memory_share(0, 4), 0.0);
}

class FakeProc {
 public:
  explicit FakeProc(const std::filesystem::path& root) : root_(root) {}
  void process(int pid, int ppid, int utime, int stime, int cutime, int cstime, int rss,
               const std::vector<int>& children, bool with_children_file = true) {
    const auto dir = root_ / std::to_string(pid);
    std::filesystem::create_directories(dir / "task" / std::to_string(pid));
    std::ofstream(dir / "stat") << stat_line(pid, "p" + std::to_string(pid), ppid, utime, stime, cutime,
                                             cstime, 1, rss);
    if (with_children_file) {
      std::string text;
      for (int c : children) text += std::to_string(c) + " ";
      std::ofstream(dir / "task" / std::to_string(pid) / "children") << text;
    }
  }

 private:
  std::filesystem::path root_;
};

TEST(ProcessTreeMonitor, SumsDescendantsThroughChildrenFiles) {
  testing::TestDir dir;
  FakeProc proc(dir.path());
  // monitor 100 -> 200 -> {300, 400}; 500 is not in the tree.
  proc.process(100, 1, 1000, 1000, 0, 0, 10, {200});
  proc.process(200, 100, 10, 5, 20, 5, 100, {300, 400});
  proc.process(300, 200, 30, 0, 0, 0, 200, {});
  proc.process(400, 200, 40, 10, 0, 0, 300, {});
  proc.process(500, 1, 9999, 0, 0, 0, 9999, {});
  ProcessTreeMonitor monitor(ProcFs(dir.path()), 100);
  EXPECT_TRUE(monitor.uses_children_files());
  const TreeUsage usage = monitor.sample();
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  EXPECT_EQ(usage.processes, 3U);
  EXPECT_NEAR(usage.cpu_s, (10 + 5 + 20 + 5 + 30 + 40 + 10) / ticks, 1e-9);
  EXPECT_EQ(usage.rss_bytes, 600U * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE)));
}

TEST(ProcessTreeMonitor, FallsBackToScanningWithoutChildrenFiles) {
  testing::TestDir dir;
  FakeProc proc(dir.path());
  proc.process(100, 1, 0, 0, 0, 0, 10, {}, false);
  proc.process(200, 100, 10, 0, 0, 0, 1, {}, false);
  proc.process(300, 200, 20, 0, 0, 0, 1, {}, false);  // grandchild found through the ppid map
  proc.process(400, 1, 50, 0, 0, 0, 1, {}, false);
  ProcessTreeMonitor monitor(ProcFs(dir.path()), 100);
  EXPECT_FALSE(monitor.uses_children_files());
  const TreeUsage usage = monitor.sample();
  EXPECT_EQ(usage.processes, 2U);
  EXPECT_NEAR(usage.cpu_s, 30 / static_cast<double>(sysconf(_SC_CLK_TCK)), 1e-9);
}

TEST(ProcessTreeMonitor, ReapedChildrenKeepTheirTime) {
  testing::TestDir dir;
  FakeProc proc(dir.path());
  proc.process(100, 1, 0, 0, 0, 0, 10, {});
  ProcessTreeMonitor monitor(ProcFs(dir.path()), 100);
  struct rusage usage {};
  usage.ru_utime.tv_sec = 2;
  usage.ru_stime.tv_usec = 500000;
  usage.ru_maxrss = 2048;  // kB
  {
    const std::lock_guard lock(monitor.reap_mutex());
    monitor.record_reaped(usage);
  }
  EXPECT_NEAR(monitor.sample().cpu_s, 2.5, 1e-9);
  EXPECT_EQ(monitor.reaped_max_rss_bytes(), 2048U * 1024U);
}

}  // namespace
}  // namespace wattprint
