// Cost of the run's sample sinks, which get one row per attribution interval on the sampler thread:
//   - TimelineDownsampler::add per row (3 and 16 series), merges included (amortised);
//   - CsvSampleWriter::add per row to /dev/null and to a file on tmpfs (/dev/shm), at 1 row per second of run
//     time (a flush per row, as at the default 1 s interval) and 1000 rows per second (a flush per 1000
//     rows);
//   - a million rows into a timeline, then Timeline and timeline_to_json: the whole report-side cost;
//   - the downsampler's heap after 1e4 and 1e6 rows (glibc mallinfo2, peak over the run): it must not grow.
// Results: docs/benchmarks.md.
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "report/json_report.hpp"
#include "report/report_formats.hpp"
#include "samples/csv_sample_writer.hpp"
#include "samples/timeline.hpp"

namespace wattprint::bench {
namespace {

std::vector<SampleSeries> make_series(std::int64_t count) {
  std::vector<SampleSeries> series;
  for (std::int64_t i = 0; i < count; ++i) {
    series.push_back({"package-" + std::to_string(i), "cpu-package", "measured", "powercap intel-rapl:0"});
  }
  return series;
}

// Row k of a run at rows_per_s: realistic numbers (not round, so formatting does real work).
void fill_row(SampleRow& row, std::int64_t k, double rows_per_s) {
  const double interval_s = 1.0 / rows_per_s;
  row.t_s = static_cast<double>(k + 1) * interval_s;
  row.interval_s = interval_s;
  for (std::size_t i = 0; i < row.power_w.size(); ++i) {
    const double power_w = 87.3 + (static_cast<double>((k * 7 + static_cast<std::int64_t>(i)) % 101) * 0.731);
    row.power_w[i] = power_w;
    row.energy_j[i] = power_w * row.t_s;
  }
  row.cpu_share = 0.4375;
  row.cpu_cores = 3.0 + (static_cast<double>(k % 13) * 0.0625);
}

SampleRow make_row(std::size_t series) {
  SampleRow row;
  row.power_w.resize(series);
  row.energy_j.resize(series);
  row.phase = "epoch 3/train 3";
  return row;
}

void BM_TimelineAdd(benchmark::State& state) {
  const std::int64_t series = state.range(0);
  TimelineDownsampler downsampler;
  downsampler.begin(make_series(series));
  SampleRow row = make_row(static_cast<std::size_t>(series));
  std::int64_t k = 0;
  for (auto _ : state) {
    fill_row(row, k++, 1.0);
    downsampler.add(row);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["buckets"] = static_cast<double>(downsampler.timeline().start_s.size());
}
BENCHMARK(BM_TimelineAdd)->ArgName("series")->Arg(3)->Arg(16);

// range(0): 0 = /dev/null, 1 = a file on tmpfs (truncated every 2^20 rows, untimed); range(1): rows per
// second.
void BM_CsvAdd(benchmark::State& state) {
  const bool tmpfs = state.range(0) != 0;
  const auto rows_per_s = static_cast<double>(state.range(1));
  const std::filesystem::path path =
      tmpfs ? std::filesystem::path("/dev/shm") / ("wattprint-bench-" + std::to_string(::getpid()) + ".csv")
            : std::filesystem::path("/dev/null");
  const std::vector<SampleSeries> series = make_series(3);
  auto csv = std::make_unique<CsvSampleWriter>(path);
  csv->begin(series);
  SampleRow row = make_row(series.size());
  std::int64_t k = 0;
  for (auto _ : state) {
    if (tmpfs && (k & ((std::int64_t{1} << 20) - 1)) == 0 && k != 0) {
      state.PauseTiming();
      csv->end();
      csv = std::make_unique<CsvSampleWriter>(path);
      csv->begin(series);
      state.ResumeTiming();
    }
    fill_row(row, k++, rows_per_s);
    csv->add(row);
  }
  csv->end();
  if (!csv->error().empty()) state.SkipWithError(csv->error().c_str());
  if (tmpfs) {
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CsvAdd)->ArgNames({"tmpfs", "rows_per_s"})->ArgsProduct({{0, 1}, {1, 1000}});

void BM_MillionRowsToJson(benchmark::State& state) {
  constexpr std::int64_t kRows = 1'000'000;
  const std::vector<SampleSeries> series = make_series(3);
  SampleRow row = make_row(series.size());
  std::size_t json_bytes = 0;
  std::size_t buckets = 0;
  for (auto _ : state) {
    TimelineDownsampler downsampler;
    downsampler.begin(series);
    for (std::int64_t k = 0; k < kRows; ++k) {
      fill_row(row, k, 1.0);
      downsampler.add(row);
    }
    downsampler.end();
    const nlohmann::json j = timeline_to_json(downsampler.timeline());
    benchmark::DoNotOptimize(j);
    state.PauseTiming();
    json_bytes = j.dump().size();
    buckets = j["start_s"].size();
    state.ResumeTiming();
  }
  state.counters["buckets"] = static_cast<double>(buckets);
  state.counters["json_bytes"] = static_cast<double>(json_bytes);
}
BENCHMARK(BM_MillionRowsToJson)->Unit(benchmark::kMillisecond);

// The whole report road for a week-long run: a million rows of 6 series through the downsampler, a report
// with that timeline and 300 epochs (each with the five methods), to_json, then one rendering (md, latex,
// html, csv). The bound: under a second.
void BM_MillionRowsToRenderedReport(benchmark::State& state) {
  constexpr std::int64_t kRows = 1'000'000;
  constexpr int kEpochs = 300;
  const auto format = static_cast<ReportFormat>(state.range(0));
  const std::vector<SampleSeries> series = make_series(6);
  SampleRow row = make_row(series.size());
  std::size_t bytes = 0;
  for (auto _ : state) {
    TimelineDownsampler downsampler;
    downsampler.begin(series);
    for (std::int64_t k = 0; k < kRows; ++k) {
      fill_row(row, k, 1.0);
      downsampler.add(row);
    }
    downsampler.end();
    RunReport report;
    report.command = {"python", "train.py"};
    report.duration_s = static_cast<double>(kRows);
    report.footprint.pue = 1.65;
    report.footprint.carbon_intensity.g_per_kwh = 57.1;
    report.timeline = downsampler.timeline();
    const double epoch_s = report.duration_s / kEpochs;
    for (int e = 0; e < kEpochs; ++e) {
      PhaseResult phase;
      phase.phase.name = "epoch";
      phase.phase.index = e + 1;
      phase.phase.start_s = e * epoch_s;
      phase.phase.end_s = (e + 1) * epoch_s;
      for (const std::string& name : method_names()) {
        MethodResult m;
        m.name = name;
        m.available = true;
        m.it_energy = Joules{250.0 * epoch_s * (1.0 + 0.01 * (e % 7))};
        phase.methods.push_back(m);
        if (e == 0) report.methods.push_back(m);
      }
      report.phases.phases.push_back(std::move(phase));
    }
    report.phases.summary = summarise_phases(report.phases.phases);
    const std::string text = render_report(to_json(report), format);
    benchmark::DoNotOptimize(text.data());
    bytes = text.size();
  }
  state.counters["output_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_MillionRowsToRenderedReport)
    ->ArgName("format(0=md,1=latex,2=html,3=csv)")
    ->DenseRange(0, 3)
    ->Unit(benchmark::kMillisecond);

// Heap in use (glibc's own count of allocated bytes).
std::int64_t heap_in_use_bytes() { return static_cast<std::int64_t>(::mallinfo2().uordblks); }

// The downsampler's heap after range(0) rows of 3 series: peak (sampled every 1000 rows) and at the end,
// above what was in use before it was made.
void BM_DownsamplerMemory(benchmark::State& state) {
  const std::int64_t rows = state.range(0);
  const std::vector<SampleSeries> series = make_series(3);
  SampleRow row = make_row(series.size());
  std::int64_t peak_bytes = 0;
  std::int64_t end_bytes = 0;
  for (auto _ : state) {
    const std::int64_t before = heap_in_use_bytes();
    {
      TimelineDownsampler downsampler;
      downsampler.begin(series);
      for (std::int64_t k = 0; k < rows; ++k) {
        fill_row(row, k, 1.0);
        downsampler.add(row);
        if (k % 1000 == 0) peak_bytes = std::max(peak_bytes, heap_in_use_bytes() - before);
      }
      end_bytes = heap_in_use_bytes() - before;
      peak_bytes = std::max(peak_bytes, end_bytes);
    }
  }
  state.counters["heap_peak_bytes"] = static_cast<double>(peak_bytes);
  state.counters["heap_end_bytes"] = static_cast<double>(end_bytes);
}
BENCHMARK(BM_DownsamplerMemory)->ArgName("rows")->Arg(10'000)->Arg(1'000'000)->Iterations(1);

}  // namespace
}  // namespace wattprint::bench

BENCHMARK_MAIN();
