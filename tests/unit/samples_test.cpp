// Per-sample CSV (CsvSampleWriter) and the report's downsampled power timeline (TimelineDownsampler,
// timeline_to_json / timeline_from_json).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <locale>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "samples/csv_sample_writer.hpp"
#include "samples/timeline.hpp"
#include "unit/test_dir.hpp"

namespace wattprint {
namespace {

using testing::TestDir;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<SampleSeries> two_series() {
  return {{"package-0", "cpu-package", "measured", "powercap intel-rapl:0"},
          {"gpu0 NVIDIA H100", "gpu", "measured", "NVML"}};
}

SampleRow row(double t_s, double interval_s, std::vector<std::optional<double>> power_w,
              std::vector<std::optional<double>> energy_j, double cpu_share, double cpu_cores,
              std::string phase) {
  SampleRow r;
  r.t_s = t_s;
  r.interval_s = interval_s;
  r.power_w = std::move(power_w);
  r.energy_j = std::move(energy_j);
  r.cpu_share = cpu_share;
  r.cpu_cores = cpu_cores;
  r.phase = std::move(phase);
  return r;
}

// A decimal comma for every C++ stream and locale-aware formatting: the CSV must not follow it.
struct CommaDecimal : std::numpunct<char> {
  char do_decimal_point() const override { return ','; }
  char do_thousands_sep() const override { return '.'; }
  std::string do_grouping() const override { return "\3"; }
};

class GlobalLocale {
 public:
  explicit GlobalLocale(const std::locale& locale) : previous_(std::locale::global(locale)) {}
  ~GlobalLocale() { std::locale::global(previous_); }
  GlobalLocale(const GlobalLocale&) = delete;
  GlobalLocale& operator=(const GlobalLocale&) = delete;

 private:
  std::locale previous_;
};

// ---------------------------------------------------------------------------------------------------------
// CSV

TEST(CsvSampleWriter, WritesTheDocumentedHeaderAndRowsExactly) {
  const TestDir dir;
  const auto path = dir.path() / "samples.csv";
  {
    const GlobalLocale comma(std::locale(std::locale::classic(), new CommaDecimal));
    CsvSampleWriter csv(path);
    csv.begin(two_series());
    csv.add(row(0.5, 0.5, {12.5, 300.25}, {6.25, 150.125}, 0.5, 1.25, ""));
    // A failed package read: empty cells; µJ kept in the cumulative energy.
    csv.add(row(1.5, 1.0, {std::nullopt, 0.1}, {std::nullopt, 1234567.000001}, 1.0, 2.0, "epoch 1/train 1"));
    // A row with fewer values than series (the sampler's bug, not the CSV's): cells stay aligned.
    csv.add(row(2.5, 1.0, {1e-7}, {}, 0.0, 0.0, "x"));
    csv.end();
    EXPECT_EQ(csv.error(), "");
  }
  EXPECT_EQ(read_file(path),
            "time_s,interval_s,package-0_power_w,package-0_energy_j,gpu0 NVIDIA H100_power_w,"
            "gpu0 NVIDIA H100_energy_j,cpu_share,cpu_cores,phase\n"
            "0.5,0.5,12.5,6.25,300.25,150.125,0.5,1.25,\n"
            "1.5,1,,,0.1,1234567.000001,1,2,epoch 1/train 1\n"
            "2.5,1,1e-07,,,,0,0,x\n");
}

TEST(CsvSampleWriter, NumbersReadBackExactly) {
  const TestDir dir;
  const auto path = dir.path() / "samples.csv";
  const double power_w = 0.1 + 0.2;  // 0.30000000000000004: shortest round-trip text, not 0.3
  const double energy_j = 123456789.123456789;
  {
    CsvSampleWriter csv(path);
    csv.begin({{"server", "server", "measured", "ipmi-dcmi"}});
    csv.add(row(1.0, 1.0, {power_w}, {energy_j}, 0.0, 0.0, ""));
    csv.end();
  }
  const std::string text = read_file(path);
  const std::string line = text.substr(text.find('\n') + 1);
  std::vector<std::string> cells;
  std::stringstream in(line.substr(0, line.size() - 1));
  for (std::string cell; std::getline(in, cell, ',');) cells.push_back(cell);
  ASSERT_EQ(cells.size(), 6U) << line;
  EXPECT_EQ(std::stod(cells[2]), power_w);
  EXPECT_EQ(std::stod(cells[3]), energy_j);
}

TEST(CsvSampleWriter, QuotesPhasesAndNamesPerRfc4180) {
  const TestDir dir;
  const auto path = dir.path() / "samples.csv";
  {
    CsvSampleWriter csv(path);
    csv.begin({{"zone, \"a\"", "dram", "measured", "powercap"}});
    csv.add(row(1.0, 1.0, {2.0}, {2.0}, 0.25, 0.5, "epoch 1,\"warm\" up"));
    csv.add(row(2.0, 1.0, {2.0}, {4.0}, 0.25, 0.5, "two\nlines"));
    csv.add(row(3.0, 1.0, {2.0}, {6.0}, 0.25, 0.5, "plain text; no quotes needed"));
    csv.end();
  }
  EXPECT_EQ(
      read_file(path),
      "time_s,interval_s,\"zone, \"\"a\"\"_power_w\",\"zone, \"\"a\"\"_energy_j\",cpu_share,cpu_cores,phase\n"
      "1,1,2,2,0.25,0.5,\"epoch 1,\"\"warm\"\" up\"\n"
      "2,1,2,4,0.25,0.5,\"two\nlines\"\n"
      "3,1,2,6,0.25,0.5,plain text; no quotes needed\n");
}

TEST(CsvSampleWriter, AFullDiskIsReportedOnceAndNeverThrows) {
  CsvSampleWriter csv("/dev/full");
  EXPECT_NO_THROW(csv.begin(two_series()));
  for (int i = 1; i <= 5; ++i) {
    const double t_s = i;
    EXPECT_NO_THROW(csv.add(row(t_s, 1.0, {1.0, 2.0}, {t_s, 2.0 * t_s}, 0.5, 1.0, "p")));
  }
  EXPECT_NO_THROW(csv.end());
  EXPECT_EQ(csv.error(), "cannot write /dev/full: No space left on device");
}

TEST(CsvSampleWriter, AnUnwritablePathThrowsWithPathAndReason) {
  const TestDir dir;
  const auto path = dir.path() / "no-such-dir" / "samples.csv";
  try {
    const CsvSampleWriter csv(path);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot write " + path.string() + ": No such file or directory");
  }
  try {
    const CsvSampleWriter csv(dir.path());  // a directory
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot write " + dir.path().string() + ": Is a directory");
  }
}

TEST(CsvSampleWriter, RowsAreOnDiskWithinASecondOfRunTimeBeforeTheEnd) {
  const TestDir dir;
  const auto path = dir.path() / "samples.csv";
  CsvSampleWriter csv(path);
  csv.begin({{"server", "server", "measured", "ipmi-dcmi"}});
  const std::string header = "time_s,interval_s,server_power_w,server_energy_j,cpu_share,cpu_cores,phase\n";
  EXPECT_EQ(read_file(path), header);  // the columns are known from the start
  std::string expected = header;
  for (int i = 1; i <= 10; ++i) {  // 0.1 s rows, up to t = 1 s
    const double t_s = i / 10.0;
    csv.add(row(t_s, 0.1, {100.0}, {100.0 * t_s}, 1.0, 1.0, "load"));
    expected += fmt::format("{},0.1,100,{},1,1,load\n", t_s, 100.0 * t_s);
  }
  EXPECT_EQ(read_file(path), expected) << "one second of rows not flushed";
  for (int i = 11; i <= 20; ++i) {
    const double t_s = i / 10.0;
    csv.add(row(t_s, 0.1, {100.0}, {100.0 * t_s}, 1.0, 1.0, "load"));
    expected += fmt::format("{},0.1,100,{},1,1,load\n", t_s, 100.0 * t_s);
  }
  EXPECT_EQ(read_file(path), expected) << "the second second of rows not flushed";
  csv.add(row(2.05, 0.05, {100.0}, {205.0}, 1.0, 1.0, "load"));
  csv.end();
  EXPECT_EQ(read_file(path), expected + "2.05,0.05,100,205,1,1,load\n");
  EXPECT_EQ(csv.error(), "");
}

// ---------------------------------------------------------------------------------------------------------
// Timeline

std::vector<SampleSeries> three_series() {
  return {{"package-0", "cpu-package", "measured", "powercap intel-rapl:0"},
          {"dram-0", "dram", "measured", "powercap intel-rapl:0:0"},
          {"server", "server", "measured", "ipmi-dcmi"}};
}

SampleRow power_row(double t_s, double interval_s, std::vector<std::optional<double>> power_w,
                    double cpu_cores = 0.0) {
  return row(t_s, interval_s, std::move(power_w), {}, 0.0, cpu_cores, "");
}

// Σ mean × span of one series (every bucket holding a value for it).
double timeline_energy_j(const Timeline& t, std::size_t series) {
  double energy_j = 0.0;
  for (std::size_t b = 0; b < t.start_s.size(); ++b) {
    energy_j += t.mean_w[series][b].value() * (t.end_s[b] - t.start_s[b]);
  }
  return energy_j;
}

void expect_consistent_shape(const Timeline& t, std::size_t series) {
  const std::size_t buckets = t.start_s.size();
  EXPECT_EQ(t.series.size(), series);
  EXPECT_EQ(t.end_s.size(), buckets);
  EXPECT_EQ(t.cpu_cores.size(), buckets);
  ASSERT_EQ(t.mean_w.size(), series);
  ASSERT_EQ(t.min_w.size(), series);
  ASSERT_EQ(t.max_w.size(), series);
  for (std::size_t s = 0; s < series; ++s) {
    EXPECT_EQ(t.mean_w[s].size(), buckets);
    EXPECT_EQ(t.min_w[s].size(), buckets);
    EXPECT_EQ(t.max_w[s].size(), buckets);
  }
}

TEST(TimelineDownsampler, AWeekAt1HzKeepsAtMost1024BucketsAndItsEnergy) {
  constexpr std::int64_t kRows = 604'800;
  constexpr std::int64_t kStepRow = 333'333;  // the package steps from 100 W to 250 W at t = 333,333 s
  TimelineDownsampler downsampler;
  downsampler.begin(three_series());
  long double exact_j[3] = {0.0L, 0.0L, 0.0L};
  long double exact_core_s = 0.0L;
  for (std::int64_t k = 0; k < kRows; ++k) {
    const double package_w = k < kStepRow ? 100.0 : 250.0;
    const double dram_w = 3.0 + (0.1 * static_cast<double>(k % 7));  // not exact in binary
    const double server_w = 400.0 + (0.001 * static_cast<double>(k % 1000));
    const double cores = k < kStepRow ? 2.0 : 3.5;
    downsampler.add(power_row(static_cast<double>(k + 1), 1.0, {package_w, dram_w, server_w}, cores));
    exact_j[0] += package_w;
    exact_j[1] += dram_w;
    exact_j[2] += server_w;
    exact_core_s += cores;
  }
  downsampler.end();
  const Timeline t = downsampler.timeline();
  expect_consistent_shape(t, 3);
  const std::size_t buckets = t.start_s.size();
  EXPECT_LE(buckets, TimelineDownsampler::kMaxPoints);
  EXPECT_GT(buckets, TimelineDownsampler::kMaxPoints / 2);  // halving, not over-merging: 591 of 1024 s
  EXPECT_EQ(buckets, 591U);
  // The buckets tile the run: no gap, no overlap.
  EXPECT_EQ(t.start_s.front(), 0.0);
  EXPECT_EQ(t.end_s.back(), static_cast<double>(kRows));
  for (std::size_t b = 1; b < buckets; ++b) ASSERT_EQ(t.start_s[b], t.end_s[b - 1]) << b;
  for (std::size_t s = 0; s < 3; ++s) {
    const double exact = static_cast<double>(exact_j[s]);
    EXPECT_NEAR(timeline_energy_j(t, s), exact, 1e-9 * exact) << t.series[s].name;
  }
  double core_s = 0.0;
  for (std::size_t b = 0; b < buckets; ++b) core_s += t.cpu_cores[b] * (t.end_s[b] - t.start_s[b]);
  EXPECT_NEAR(core_s, static_cast<double>(exact_core_s), 1e-9 * static_cast<double>(exact_core_s));
  // Around the step: a bucket of 100 W, the bucket with the step (min 100, max 250), a bucket of 250 W.
  const auto step = static_cast<std::size_t>(kStepRow / 1024);
  EXPECT_EQ(t.min_w[0][step - 1], 100.0);
  EXPECT_EQ(t.max_w[0][step - 1], 100.0);
  EXPECT_DOUBLE_EQ(t.mean_w[0][step - 1].value(), 100.0);
  EXPECT_EQ(t.min_w[0][step], 100.0);
  EXPECT_EQ(t.max_w[0][step], 250.0);
  const double before_s = static_cast<double>(kStepRow) - t.start_s[step];
  const double after_s = t.end_s[step] - static_cast<double>(kStepRow);
  EXPECT_DOUBLE_EQ(t.mean_w[0][step].value(), (100.0 * before_s + 250.0 * after_s) / (before_s + after_s));
  EXPECT_DOUBLE_EQ(t.mean_w[0][step + 1].value(), 250.0);
  EXPECT_DOUBLE_EQ(t.cpu_cores[step + 1], 3.5);
  EXPECT_EQ(t.min_w[2][0], 400.0);
  EXPECT_DOUBLE_EQ(t.max_w[2][0].value(), 400.999);
}

TEST(TimelineDownsampler, MinAndMaxSurviveMerges) {
  // 64 one-second rows into 4 buckets: three merges (width 1 → 16 s).
  std::vector<double> powers_w;
  for (int k = 0; k < 64; ++k) powers_w.push_back(50.0 + (37.0 * (k * 11 % 17)) - (k == 21 ? 500.0 : 0.0));
  TimelineDownsampler downsampler(4);
  downsampler.begin({{"server", "server", "measured", "ipmi-dcmi"}});
  for (int k = 0; k < 64; ++k)
    downsampler.add(power_row(10.0 + k + 1, 1.0, {powers_w[static_cast<std::size_t>(k)]}));
  const Timeline t = downsampler.timeline();
  expect_consistent_shape(t, 1);
  ASSERT_EQ(t.start_s.size(), 4U);
  for (std::size_t b = 0; b < 4; ++b) {
    const auto first = powers_w.begin() + static_cast<std::ptrdiff_t>(16 * b);
    const auto last = first + 16;
    EXPECT_EQ(t.start_s[b], 10.0 + (16.0 * static_cast<double>(b)));
    EXPECT_EQ(t.end_s[b], 26.0 + (16.0 * static_cast<double>(b)));
    EXPECT_EQ(t.min_w[0][b], *std::min_element(first, last)) << b;
    EXPECT_EQ(t.max_w[0][b], *std::max_element(first, last)) << b;
    double sum_w = 0.0;
    for (auto it = first; it != last; ++it) sum_w += *it;
    EXPECT_DOUBLE_EQ(t.mean_w[0][b].value(), sum_w / 16.0) << b;
  }
  EXPECT_EQ(t.min_w[0][1], 50.0 + (37.0 * (21 * 11 % 17)) - 500.0);
}

TEST(TimelineDownsampler, RowsWithoutAValueAreLeftOutOfMeansButBucketsStay) {
  // 32 one-second rows into 8 buckets of 4 s; the DRAM sensor fails for rows 6..17 (t in [6, 18]).
  TimelineDownsampler downsampler(8);
  downsampler.begin(
      {{"package-0", "cpu-package", "measured", "rapl"}, {"dram-0", "dram", "measured", "rapl"}});
  for (int k = 0; k < 32; ++k) {
    const std::optional<double> dram_w =
        (k >= 6 && k <= 17) ? std::nullopt : std::optional<double>(10.0 + static_cast<double>(k));
    downsampler.add(power_row(k + 1.0, 1.0, {50.0, dram_w}, 1.0));
  }
  const Timeline t = downsampler.timeline();
  expect_consistent_shape(t, 2);
  ASSERT_EQ(t.start_s.size(), 8U);
  for (std::size_t b = 0; b < 8; ++b) {
    EXPECT_EQ(t.start_s[b], 4.0 * static_cast<double>(b));
    EXPECT_EQ(t.end_s[b], 4.0 * static_cast<double>(b + 1));
    EXPECT_EQ(t.mean_w[0][b], 50.0);
    EXPECT_EQ(t.cpu_cores[b], 1.0);
  }
  // Bucket 1 (rows 4..7): rows 4 and 5 only, not diluted by the missing 6 and 7.
  EXPECT_EQ(t.mean_w[1][1], (14.0 + 15.0) / 2.0);
  EXPECT_EQ(t.min_w[1][1], 14.0);
  EXPECT_EQ(t.max_w[1][1], 15.0);
  // Buckets 2 and 3 (rows 8..15): no value at all.
  for (const std::size_t b : {2U, 3U}) {
    EXPECT_FALSE(t.mean_w[1][b].has_value()) << b;
    EXPECT_FALSE(t.min_w[1][b].has_value()) << b;
    EXPECT_FALSE(t.max_w[1][b].has_value()) << b;
  }
  // Bucket 4 (rows 16..19): 18 and 19.
  EXPECT_EQ(t.mean_w[1][4], (28.0 + 29.0) / 2.0);
  EXPECT_EQ(t.mean_w[1][7], (38.0 + 39.0 + 40.0 + 41.0) / 4.0);
}

TEST(TimelineDownsampler, IrregularIntervalsKeepTheEnergyAndTileTheRun) {
  // Intervals from 0.05 s to 3 s (a sampler late, a long read), power changing every row.
  TimelineDownsampler downsampler(16);
  downsampler.begin({{"gpu0", "gpu", "measured", "NVML"}});
  const double intervals_s[] = {0.25, 1.0, 0.05, 3.0, 0.5, 0.75, 2.0, 0.1, 1.5, 0.3};
  double t_s = 5.0;
  double exact_j = 0.0;
  double exact_core_s = 0.0;
  double min_w = 1e9;
  double max_w = -1e9;
  for (int k = 0; k < 1000; ++k) {
    const double interval_s = intervals_s[k % 10];
    const double power_w = 100.0 + (40.0 * std::sin(k * 0.37));
    const double cores = 0.5 + (k % 3);
    t_s += interval_s;
    downsampler.add(power_row(t_s, interval_s, {power_w}, cores));
    exact_j += power_w * interval_s;
    exact_core_s += cores * interval_s;
    min_w = std::min(min_w, power_w);
    max_w = std::max(max_w, power_w);
  }
  const Timeline t = downsampler.timeline();
  expect_consistent_shape(t, 1);
  const std::size_t buckets = t.start_s.size();
  EXPECT_LE(buckets, 16U);
  EXPECT_GE(buckets, 4U);
  EXPECT_EQ(t.start_s.front(), 5.0);
  EXPECT_EQ(t.end_s.back(), t_s);
  // t − interval rounds: a row's start is its predecessor's end to within an ulp
  for (std::size_t b = 1; b < buckets; ++b) EXPECT_NEAR(t.start_s[b], t.end_s[b - 1], 1e-12) << b;
  EXPECT_NEAR(timeline_energy_j(t, 0), exact_j, 1e-9 * exact_j);
  double core_s = 0.0;
  for (std::size_t b = 0; b < buckets; ++b) core_s += t.cpu_cores[b] * (t.end_s[b] - t.start_s[b]);
  EXPECT_NEAR(core_s, exact_core_s, 1e-9 * exact_core_s);
  EXPECT_EQ(*std::min_element(t.min_w[0].begin(), t.min_w[0].end()), min_w);
  EXPECT_EQ(*std::max_element(t.max_w[0].begin(), t.max_w[0].end()), max_w);
}

TEST(TimelineDownsampler, RowsWithoutTimeAreIgnored) {
  TimelineDownsampler downsampler;
  downsampler.begin({{"server", "server", "measured", "acpi"}});
  downsampler.add(power_row(0.0, 0.0, {500.0}));  // the sampler's first call, nothing measured yet
  EXPECT_TRUE(downsampler.timeline().start_s.empty());
  downsampler.add(power_row(1.0, 1.0, {100.0}));
  downsampler.add(power_row(1.0, 0.0, {900.0}));
  const Timeline t = downsampler.timeline();
  ASSERT_EQ(t.start_s.size(), 1U);
  EXPECT_EQ(t.mean_w[0][0], 100.0);
  EXPECT_EQ(t.max_w[0][0], 100.0);
}

Timeline sample_timeline() {
  TimelineDownsampler downsampler(8);
  downsampler.begin(three_series());
  for (int k = 0; k < 40; ++k) {
    const std::optional<double> server_w = k < 20 ? std::nullopt : std::optional<double>(300.0 + (k * 0.1));
    downsampler.add(power_row((k + 1) * 0.5, 0.5, {100.0 / 3.0 + k, 5.5, server_w}, 0.1 * k));
  }
  return downsampler.timeline();
}

void expect_equal(const Timeline& a, const Timeline& b) {
  ASSERT_EQ(a.series.size(), b.series.size());
  for (std::size_t s = 0; s < a.series.size(); ++s) {
    EXPECT_EQ(a.series[s].name, b.series[s].name);
    EXPECT_EQ(a.series[s].component, b.series[s].component);
    EXPECT_EQ(a.series[s].kind, b.series[s].kind);
    EXPECT_EQ(a.series[s].source, b.series[s].source);
  }
  EXPECT_EQ(a.start_s, b.start_s);
  EXPECT_EQ(a.end_s, b.end_s);
  EXPECT_EQ(a.mean_w, b.mean_w);
  EXPECT_EQ(a.min_w, b.min_w);
  EXPECT_EQ(a.max_w, b.max_w);
  EXPECT_EQ(a.cpu_cores, b.cpu_cores);
}

TEST(TimelineJson, HasTheSchemaShapeAndRoundTripsExactly) {
  const Timeline t = sample_timeline();
  ASSERT_EQ(t.start_s.size(), 5U);
  const nlohmann::json j = timeline_to_json(t);
  EXPECT_EQ(j["series"][2],
            (nlohmann::json{
                {"name", "server"}, {"component", "server"}, {"kind", "measured"}, {"source", "ipmi-dcmi"}}));
  EXPECT_EQ(j["start_s"], (nlohmann::json{0.0, 4.0, 8.0, 12.0, 16.0}));
  EXPECT_EQ(j["end_s"], (nlohmann::json{4.0, 8.0, 12.0, 16.0, 20.0}));
  // The server reads nothing until t = 10 s: null in buckets 0 and 1, values from bucket 2 on.
  EXPECT_TRUE(j["mean_w"][2][0].is_null());
  EXPECT_TRUE(j["min_w"][2][1].is_null());
  EXPECT_TRUE(j["max_w"][2][1].is_null());
  EXPECT_EQ(j["min_w"][2][2], 302.0);
  EXPECT_EQ(j["mean_w"][1], (nlohmann::json{5.5, 5.5, 5.5, 5.5, 5.5}));
  EXPECT_EQ(j["cpu_cores"].size(), 5U);
  expect_equal(timeline_from_json(j), t);
  // Through the text of a report file too (17 significant digits).
  expect_equal(timeline_from_json(nlohmann::json::parse(j.dump(2))), t);
  // An empty timeline (a run shorter than one interval).
  const Timeline empty = TimelineDownsampler().timeline();
  expect_equal(timeline_from_json(timeline_to_json(empty)), empty);
}

void expect_rejected(const nlohmann::json& j, const std::string& message) {
  try {
    (void)timeline_from_json(j);
    ADD_FAILURE() << "accepted: " << j.dump();
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "malformed timeline: " + message) << j.dump();
  }
}

TEST(TimelineJson, FromJsonRejectsMalformedTimelinesWithWhatIsWrong) {
  const nlohmann::json good = timeline_to_json(sample_timeline());
  expect_rejected(nlohmann::json::array(), "not an object");
  for (const char* key : {"series", "start_s", "end_s", "mean_w", "min_w", "max_w", "cpu_cores"}) {
    nlohmann::json j = good;
    j.erase(key);
    expect_rejected(j, fmt::format("missing key \"{}\"", key));
  }
  nlohmann::json j = good;
  j["end_s"].erase(4);
  expect_rejected(j, "\"end_s\" has 4 values for 5 buckets");
  j = good;
  j["cpu_cores"].push_back(1.0);
  expect_rejected(j, "\"cpu_cores\" has 6 values for 5 buckets");
  j = good;
  j["mean_w"].erase(2);
  expect_rejected(j, "\"mean_w\" has 2 rows for 3 series");
  j = good;
  j["max_w"][1].erase(0);
  expect_rejected(j, "\"max_w\"[1] has 4 values for 5 buckets");
  j = good;
  j["min_w"][0] = 3.0;
  expect_rejected(j, "\"min_w\"[0] is not an array");
  j = good;
  j["min_w"][0][3] = "12 W";
  expect_rejected(j, "\"min_w\"[0][3] is neither a number nor null");
  j = good;
  j["start_s"][1] = nullptr;
  expect_rejected(j, "\"start_s\"[1] is not a number");
  j = good;
  j["end_s"] = "4,8";
  expect_rejected(j, "\"end_s\" is not an array");
  j = good;
  j["series"][1].erase("kind");
  expect_rejected(j, "\"series\"[1] has no \"kind\"");
  j = good;
  j["series"][0]["name"] = 7;
  expect_rejected(j, "\"series\"[0].name is not a string");
  j = good;
  j["series"][2] = "server";
  expect_rejected(j, "\"series\"[2] is not an object");
  j = good;
  j["series"].erase(2);  // two series, three rows of values
  expect_rejected(j, "\"mean_w\" has 3 rows for 2 series");
}

}  // namespace
}  // namespace wattprint
