// Cost of one sample per source, as the sampler thread of `wattprint run` takes them on every tick:
//   - RAPL: PowercapRaplSource::read of a live fake 2-socket tree (6 counters, writer thread running);
//   - energy: CounterTrack::update of one counter;
//   - process tree: ProcessTreeMonitor::sample over 1, 10 and 100 `sleep` children of this process, with
//     this process single-threaded or holding one more thread (as wattprint does: main + sampler);
//   - machine: ProcFs::machine_cpu_ticks and ProcFs::machine_memory;
//   - the parts of a tree walk: one /proc/<pid>/stat, one children lookup.
// Results: docs/benchmarks.md.
#include <benchmark/benchmark.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "attribution/process_tree.hpp"
#include "attribution/procfs.hpp"
#include "energy/counter_track.hpp"
#include "fakes/fake_powercap.hpp"
#include "sources/rapl/powercap_rapl.hpp"
#include "two_socket_zones.hpp"

extern char** environ;

namespace wattprint::bench {
namespace {

using namespace std::chrono_literals;

// `count` children running `sleep 600`, killed and reaped on destruction.
class SleepingChildren {
 public:
  explicit SleepingChildren(std::int64_t count) {
    std::string program = "sleep";
    std::string seconds = "600";
    char* argv[] = {program.data(), seconds.data(), nullptr};
    for (std::int64_t i = 0; i < count; ++i) {
      pid_t pid = 0;
      if (::posix_spawnp(&pid, "sleep", nullptr, nullptr, argv, environ) != 0) {
        throw std::runtime_error("posix_spawnp sleep failed");
      }
      pids_.push_back(pid);
    }
  }
  SleepingChildren(const SleepingChildren&) = delete;
  SleepingChildren& operator=(const SleepingChildren&) = delete;
  ~SleepingChildren() {
    for (const pid_t pid : pids_) ::kill(pid, SIGKILL);
    for (const pid_t pid : pids_) ::waitpid(pid, nullptr, 0);
  }

 private:
  std::vector<pid_t> pids_;
};

// Keeps `count` extra idle threads alive in this process, so that /proc/self/task has count + 1 entries.
class IdleThreads {
 public:
  explicit IdleThreads(std::int64_t count) {
    for (std::int64_t i = 0; i < count; ++i) {
      threads_.emplace_back([this] {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return done_; });
      });
    }
  }
  IdleThreads(const IdleThreads&) = delete;
  IdleThreads& operator=(const IdleThreads&) = delete;
  ~IdleThreads() {
    {
      const std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::vector<std::thread> threads_;
};

void BM_RaplRead(benchmark::State& state) {
  testing::FakePowercapTree tree(two_socket_zones());
  tree.start(5ms);
  PowercapRaplSource source(tree.sysfs_root());
  const std::size_t n = source.sensors().size();
  if (n != 6) {
    state.SkipWithError("expected 6 RAPL counters in the fake tree");
    return;
  }
  std::vector<std::uint64_t> raw(n, 0);
  std::vector<int> errors(n, 0);
  for (auto _ : state) {
    source.read(raw, errors);
    benchmark::DoNotOptimize(raw.data());
    benchmark::DoNotOptimize(errors.data());
  }
  int failed = 0;
  for (const int e : errors) failed += e != 0 ? 1 : 0;
  if (failed != 0) state.SkipWithError("a counter read failed");
  state.counters["counters"] = static_cast<double>(n);
  state.counters["per_counter_ns"] =
      benchmark::Counter(static_cast<double>(n) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  tree.stop();
}
BENCHMARK(BM_RaplRead);

void BM_CounterTrackUpdate(benchmark::State& state) {
  SensorInfo info;
  info.name = "rapl.package-0";
  info.family = "rapl";
  info.component = Component::CpuPackage;
  info.counter_max = 262143328850ULL;
  info.max_power = Watts{165.0};
  CounterTrack track(info);
  std::uint64_t raw = 1000;
  double at_s = 0.0;
  for (auto _ : state) {
    raw += 60000;  // 60 W over 1 ms
    if (raw > info.counter_max) raw -= info.counter_max + 1;
    at_s += 0.001;
    benchmark::DoNotOptimize(track.update(at_s, raw, 0));
  }
  benchmark::DoNotOptimize(track.total());
}
BENCHMARK(BM_CounterTrackUpdate);

// Args: {children, extra threads in the monitoring process}.
void BM_ProcessTreeSample(benchmark::State& state) {
  const SleepingChildren children(state.range(0));
  const IdleThreads threads(state.range(1));
  ProcessTreeMonitor monitor(ProcFs("/proc"), ::getpid());
  TreeUsage usage;
  for (auto _ : state) {
    usage = monitor.sample();
    benchmark::DoNotOptimize(usage);
  }
  if (usage.processes != static_cast<std::size_t>(state.range(0))) {
    state.SkipWithError("the monitor did not see every child");
  }
  state.counters["processes"] = static_cast<double>(usage.processes);
  state.counters["children_files"] = monitor.uses_children_files() ? 1.0 : 0.0;
  state.counters["per_process_ns"] =
      benchmark::Counter(static_cast<double>(usage.processes) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_ProcessTreeSample)
    ->ArgNames({"children", "extra_threads"})
    ->Args({1, 0})
    ->Args({10, 0})
    ->Args({100, 0})
    ->Args({1, 1})
    ->Args({10, 1})
    ->Args({100, 1});

void BM_MachineCpuTicks(benchmark::State& state) {
  const ProcFs procfs("/proc");
  for (auto _ : state) benchmark::DoNotOptimize(procfs.machine_cpu_ticks());
}
BENCHMARK(BM_MachineCpuTicks);

void BM_MachineMemory(benchmark::State& state) {
  const ProcFs procfs("/proc");
  for (auto _ : state) benchmark::DoNotOptimize(procfs.machine_memory());
}
BENCHMARK(BM_MachineMemory);

void BM_MachineCpuTicksAndMemory(benchmark::State& state) {
  const ProcFs procfs("/proc");
  for (auto _ : state) {
    benchmark::DoNotOptimize(procfs.machine_cpu_ticks());
    benchmark::DoNotOptimize(procfs.machine_memory());
  }
}
BENCHMARK(BM_MachineCpuTicksAndMemory);

// The parts of one step of the tree walk, on a child that is asleep.
void BM_ProcessStatOne(benchmark::State& state) {
  const ProcFs procfs("/proc");
  const pid_t self = ::getpid();
  for (auto _ : state) benchmark::DoNotOptimize(procfs.process_stat(self));
}
BENCHMARK(BM_ProcessStatOne);

// Arg: extra threads in this process (0: one task/<tid>/children read; 1+: the task/ directory is listed).
void BM_ChildrenLookup(benchmark::State& state) {
  const SleepingChildren children(1);
  const IdleThreads threads(state.range(0));
  const ProcFs procfs("/proc");
  const pid_t self = ::getpid();
  const auto num_threads = static_cast<std::uint64_t>(state.range(0) + 1);
  for (auto _ : state) benchmark::DoNotOptimize(procfs.children(self, num_threads));
}
BENCHMARK(BM_ChildrenLookup)->ArgName("extra_threads")->Arg(0)->Arg(1);

}  // namespace
}  // namespace wattprint::bench

BENCHMARK_MAIN();
