// Cost of one NVML sample, as the sampler thread of `wattprint run` takes it on every tick, against the fake
// libnvidia-ml.so.1 (tests/fakes/fake_nvml.cpp) loaded through the real dlopen path of NvmlGpuSource:
//   - NvmlGpuSource::read of 1, 4 and 8 GPUs whose energy comes from the driver's counter
//     (nvmlDeviceGetTotalEnergyConsumption), and of 1, 4 and 8 GPUs without it (`energy_counter <i>
//     unsupported`: power field 186 read and integrated by the source);
//   - NvmlGpuSource::sample_activity of 1 and 8 GPUs (device utilisation, process lists; no `process` lines,
//     so the fake's /proc scan for matching processes is not part of the figure).
// This measures wattprint's side of each call (dlsym'd function pointers, error mapping, integration) plus
// the fake's trivial answers; a real driver's calls go to the kernel driver and cost more (not measured
// here). Results: docs/benchmarks.md.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "sources/nvml/nvml_source.hpp"

#ifndef WATTPRINT_FAKE_NVML_LIBRARY
#error "WATTPRINT_FAKE_NVML_LIBRARY must name the fake libnvidia-ml.so.1"
#endif

namespace wattprint::bench {
namespace {

constexpr const char* kFakeLibrary = WATTPRINT_FAKE_NVML_LIBRARY;

/// A trace of `gpus` GPUs drawing constant power, with or without the energy counter; written to a temp
/// file named by WATTPRINT_FAKE_NVML_TRACE for the lifetime of the object.
class TraceFile {
 public:
  TraceFile(std::int64_t gpus, bool counter) {
    char name[] = "/tmp/wattprint-nvml-bench-XXXXXX";
    const int fd = ::mkstemp(name);
    if (fd < 0) return;
    ::close(fd);
    path_ = name;
    std::ofstream out(path_);
    for (std::int64_t i = 0; i < gpus; ++i) {
      out << "gpu " << i << " name=\"Tesla V100\" uuid=GPU-bench-" << i << " bus=00000000:" << (10 + i)
          << ":00.0 limit_w=300\n";
      out << "power " << i << " at=0 watts=" << (100 + 10 * i) << "\n";
      out << "utilisation " << i << " percent=50\n";
      if (!counter) out << "energy_counter " << i << " unsupported\n";
    }
    out.close();
    ok_ = static_cast<bool>(out);
    ::setenv("WATTPRINT_FAKE_NVML_TRACE", path_.c_str(), 1);
  }
  TraceFile(const TraceFile&) = delete;
  TraceFile& operator=(const TraceFile&) = delete;
  ~TraceFile() {
    ::unsetenv("WATTPRINT_FAKE_NVML_TRACE");
    if (!path_.empty()) std::remove(path_.c_str());
  }
  [[nodiscard]] bool ok() const { return ok_; }

 private:
  std::string path_;
  bool ok_ = false;
};

void read_bench(benchmark::State& state, bool counter) {
  const std::int64_t gpus = state.range(0);
  const TraceFile trace(gpus, counter);
  if (!trace.ok()) {
    state.SkipWithError("could not write the fake NVML trace");
    return;
  }
  NvmlGpuSource source(kFakeLibrary);
  const std::size_t n = source.sensors().size();
  if (n != static_cast<std::size_t>(gpus)) {
    state.SkipWithError("the fake NVML library did not list the expected GPUs");
    return;
  }
  std::vector<std::uint64_t> raw(n, 0);
  std::vector<int> errors(n, 0);
  for (auto _ : state) {
    source.read(raw, errors);
    benchmark::DoNotOptimize(raw.data());
    benchmark::DoNotOptimize(errors.data());
  }
  for (const int e : errors) {
    if (e != 0) {
      state.SkipWithError("a GPU read failed");
      return;
    }
  }
  state.counters["gpus"] = static_cast<double>(n);
  state.counters["per_gpu_ns"] =
      benchmark::Counter(static_cast<double>(n) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_NvmlReadCounter(benchmark::State& state) { read_bench(state, true); }
BENCHMARK(BM_NvmlReadCounter)->ArgName("gpus")->Arg(1)->Arg(4)->Arg(8);

void BM_NvmlReadIntegrated(benchmark::State& state) { read_bench(state, false); }
BENCHMARK(BM_NvmlReadIntegrated)->ArgName("gpus")->Arg(1)->Arg(4)->Arg(8);

void BM_NvmlSampleActivity(benchmark::State& state) {
  const std::int64_t gpus = state.range(0);
  const TraceFile trace(gpus, true);
  if (!trace.ok()) {
    state.SkipWithError("could not write the fake NVML trace");
    return;
  }
  NvmlGpuSource source(kFakeLibrary);
  if (source.devices().size() != static_cast<std::size_t>(gpus)) {
    state.SkipWithError("the fake NVML library did not list the expected GPUs");
    return;
  }
  std::vector<GpuActivity> activity;
  for (auto _ : state) {
    source.sample_activity(activity);
    benchmark::DoNotOptimize(activity.data());
  }
  if (activity.size() != static_cast<std::size_t>(gpus) || !activity[0].utilisation_percent) {
    state.SkipWithError("sample_activity returned no utilisation");
    return;
  }
  state.counters["gpus"] = static_cast<double>(gpus);
}
BENCHMARK(BM_NvmlSampleActivity)->ArgName("gpus")->Arg(1)->Arg(8);

}  // namespace
}  // namespace wattprint::bench

BENCHMARK_MAIN();
