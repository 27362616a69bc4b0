// Cost of the run history (src/store): add() of a report with a full 1024-bucket timeline (6 series) and 9
// phases, and list() of a store of 10,000 runs (Google Benchmark). See docs/benchmarks.md.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "store/run_store.hpp"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

json golden(const char* name) {
  std::ifstream in(fs::path(WATTPRINT_GOLDEN_DIR) / name);
  return json::parse(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
}

/// report_phases.json with its 200-bucket timeline stretched to 1024 buckets (each bucket repeated).
json full_timeline_report() {
  json report = golden("report_phases.json");
  json& t = report["timeline"];
  const std::size_t n = t["start_s"].size();
  json out = t;
  for (const char* key : {"start_s", "end_s", "cpu_cores"}) out[key] = json::array();
  for (const char* key : {"mean_w", "min_w", "max_w"}) {
    for (auto& row : out[key]) row = json::array();
  }
  for (std::size_t b = 0; b < 1024; ++b) {
    const std::size_t from = b * n / 1024;
    const double width = 1.0;
    out["start_s"].push_back(static_cast<double>(b) * width);
    out["end_s"].push_back(static_cast<double>(b + 1) * width);
    out["cpu_cores"].push_back(t["cpu_cores"][from]);
    for (const char* key : {"mean_w", "min_w", "max_w"}) {
      for (std::size_t s = 0; s < out[key].size(); ++s) out[key][s].push_back(t[key][s][from]);
    }
  }
  t = out;
  return report;
}

fs::path temp_dir() {
  std::string pattern = (fs::temp_directory_path() / "wattprint-store-bench-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) std::abort();
  return pattern;
}

void BM_AddFullTimeline(benchmark::State& state) {
  const fs::path dir = temp_dir();
  auto store = wattprint::RunStore::open(dir / "runs.db", wattprint::RunStore::Mode::Create);
  json report = full_timeline_report();
  std::int64_t n = 0;
  for (auto _ : state) {
    report["run_id"] = "bench-" + std::to_string(n++);
    benchmark::DoNotOptimize(store.add(report, "run"));
  }
  state.counters["bytes_per_run"] =
      static_cast<double>(fs::file_size(dir / "runs.db")) / static_cast<double>(n > 0 ? n : 1);
  fs::remove_all(dir);
}
BENCHMARK(BM_AddFullTimeline)->Unit(benchmark::kMillisecond);

void BM_ReportFullTimeline(benchmark::State& state) {
  const fs::path dir = temp_dir();
  auto store = wattprint::RunStore::open(dir / "runs.db", wattprint::RunStore::Mode::Create);
  const auto id = store.add(full_timeline_report(), "run").id;
  for (auto _ : state) benchmark::DoNotOptimize(store.report(id));
  fs::remove_all(dir);
}
BENCHMARK(BM_ReportFullTimeline)->Unit(benchmark::kMillisecond);

void BM_List10000(benchmark::State& state) {
  const fs::path dir = temp_dir();
  auto store = wattprint::RunStore::open(dir / "runs.db", wattprint::RunStore::Mode::Create);
  json report = golden("report_v1.json");
  for (int i = 0; i < 10'000; ++i) {
    report["run_id"] = "list-" + std::to_string(i);
    report["tags"] = {{"gpu", i % 2 == 0 ? "t4" : "a100"}};
    (void)store.add(report, "run");
  }
  for (auto _ : state) benchmark::DoNotOptimize(store.list({}));
  fs::remove_all(dir);
}
BENCHMARK(BM_List10000)->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace

BENCHMARK_MAIN();
