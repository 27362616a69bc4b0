#include "samples/timeline.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

namespace wattprint {
namespace {

using nlohmann::json;

[[noreturn]] void malformed(const std::string& what) {
  throw std::runtime_error("malformed timeline: " + what);
}

json optional_numbers_to_json(const std::vector<std::optional<double>>& values) {
  json out = json::array();
  for (const std::optional<double>& v : values) {
    if (v) {
      out.push_back(*v);
    } else {
      out.push_back(nullptr);
    }
  }
  return out;
}

const json& member(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end()) malformed(fmt::format("missing key \"{}\"", key));
  return *it;
}

const json& array_member(const json& object, const char* key) {
  const json& value = member(object, key);
  if (!value.is_array()) malformed(fmt::format("\"{}\" is not an array", key));
  return value;
}

std::vector<double> numbers(const json& object, const char* key, std::size_t buckets) {
  const json& value = array_member(object, key);
  if (value.size() != buckets) {
    malformed(fmt::format("\"{}\" has {} values for {} buckets", key, value.size(), buckets));
  }
  std::vector<double> out;
  out.reserve(buckets);
  for (std::size_t b = 0; b < buckets; ++b) {
    if (!value[b].is_number()) malformed(fmt::format("\"{}\"[{}] is not a number", key, b));
    out.push_back(value[b].get<double>());
  }
  return out;
}

std::vector<std::vector<std::optional<double>>> optional_numbers(const json& object, const char* key,
                                                                 std::size_t series, std::size_t buckets) {
  const json& value = array_member(object, key);
  if (value.size() != series) {
    malformed(fmt::format("\"{}\" has {} rows for {} series", key, value.size(), series));
  }
  std::vector<std::vector<std::optional<double>>> out(series);
  for (std::size_t s = 0; s < series; ++s) {
    const json& row = value[s];
    if (!row.is_array()) malformed(fmt::format("\"{}\"[{}] is not an array", key, s));
    if (row.size() != buckets) {
      malformed(fmt::format("\"{}\"[{}] has {} values for {} buckets", key, s, row.size(), buckets));
    }
    out[s].reserve(buckets);
    for (std::size_t b = 0; b < buckets; ++b) {
      if (row[b].is_null()) {
        out[s].emplace_back(std::nullopt);
      } else if (row[b].is_number()) {
        out[s].emplace_back(row[b].get<double>());
      } else {
        malformed(fmt::format("\"{}\"[{}][{}] is neither a number nor null", key, s, b));
      }
    }
  }
  return out;
}

std::string string_member(const json& object, const char* key, std::size_t index) {
  const auto it = object.find(key);
  if (it == object.end()) malformed(fmt::format(R"("series"[{}] has no "{}")", index, key));
  if (!it->is_string()) malformed(fmt::format("\"series\"[{}].{} is not a string", index, key));
  return it->get<std::string>();
}

}  // namespace

json timeline_to_json(const Timeline& timeline) {
  json series = json::array();
  for (const SampleSeries& s : timeline.series) {
    series.push_back({{"name", s.name}, {"component", s.component}, {"kind", s.kind}, {"source", s.source}});
  }
  json mean = json::array();
  json min = json::array();
  json max = json::array();
  for (const auto& values : timeline.mean_w) mean.push_back(optional_numbers_to_json(values));
  for (const auto& values : timeline.min_w) min.push_back(optional_numbers_to_json(values));
  for (const auto& values : timeline.max_w) max.push_back(optional_numbers_to_json(values));
  return json{{"series", std::move(series)},    {"start_s", timeline.start_s}, {"end_s", timeline.end_s},
              {"mean_w", std::move(mean)},      {"min_w", std::move(min)},     {"max_w", std::move(max)},
              {"cpu_cores", timeline.cpu_cores}};
}

Timeline timeline_from_json(const json& j) {
  if (!j.is_object()) malformed("not an object");
  Timeline t;
  const json& series = array_member(j, "series");
  for (std::size_t i = 0; i < series.size(); ++i) {
    if (!series[i].is_object()) malformed(fmt::format("\"series\"[{}] is not an object", i));
    t.series.push_back({string_member(series[i], "name", i), string_member(series[i], "component", i),
                        string_member(series[i], "kind", i), string_member(series[i], "source", i)});
  }
  const std::size_t buckets = array_member(j, "start_s").size();
  t.start_s = numbers(j, "start_s", buckets);
  t.end_s = numbers(j, "end_s", buckets);
  t.mean_w = optional_numbers(j, "mean_w", t.series.size(), buckets);
  t.min_w = optional_numbers(j, "min_w", t.series.size(), buckets);
  t.max_w = optional_numbers(j, "max_w", t.series.size(), buckets);
  t.cpu_cores = numbers(j, "cpu_cores", buckets);
  return t;
}

TimelineDownsampler::TimelineDownsampler(std::size_t max_points)
    : max_points_(std::max<std::size_t>(max_points, 1)) {}

void TimelineDownsampler::begin(const std::vector<SampleSeries>& series) {
  series_ = series;
  buckets_.clear();
  totals_.clear();
  // Reserved once: add() allocates nothing, whatever the run's length.
  buckets_.reserve(max_points_);
  totals_.reserve(max_points_ * series_.size());
  origin_s_ = 0.0;
  width_s_ = 0.0;
}

std::int64_t TimelineDownsampler::cell_of(double mid_s) const {
  const double cell = std::floor((mid_s - origin_s_) / width_s_);
  if (!(cell > 0.0)) return 0;  // before the origin (or NaN)
  constexpr double kLargest = 4.0e18;
  return cell >= kLargest ? static_cast<std::int64_t>(kLargest) : static_cast<std::int64_t>(cell);
}

void TimelineDownsampler::add(const SampleRow& row) {
  // A row without a positive, finite interval covers no time and carries no energy.
  if (!(row.interval_s > 0.0) || !std::isfinite(row.interval_s) || !std::isfinite(row.t_s)) return;
  const double start_s = row.t_s - row.interval_s;
  const double mid_s = row.t_s - (row.interval_s / 2.0);
  if (width_s_ == 0.0) {
    origin_s_ = start_s;
    width_s_ = row.interval_s;
  }
  const std::size_t n = series_.size();
  // Rows arrive in time order; one that does not (a clock step) joins the last bucket.
  auto cell = [&] {
    return buckets_.empty() ? cell_of(mid_s) : std::max(cell_of(mid_s), buckets_.back().cell);
  };
  std::int64_t target = cell();
  while (buckets_.empty() || target > buckets_.back().cell) {
    if (buckets_.size() < max_points_) {
      buckets_.push_back(Bucket{target, start_s, row.t_s, 0.0, 0.0});
      totals_.resize(totals_.size() + n);
      break;
    }
    merge_pairs();
    width_s_ *= 2.0;
    target = cell();
  }

  Bucket& bucket = buckets_.back();
  bucket.start_s = std::min(bucket.start_s, start_s);
  bucket.end_s = std::max(bucket.end_s, row.t_s);
  if (std::isfinite(row.cpu_cores)) {
    bucket.cpu_core_s += row.cpu_cores * row.interval_s;
    bucket.cpu_covered_s += row.interval_s;
  }
  SeriesTotals* totals = totals_.data() + ((buckets_.size() - 1) * n);
  const std::size_t with_power = std::min(n, row.power_w.size());
  for (std::size_t i = 0; i < with_power; ++i) {
    const std::optional<double>& power_w = row.power_w[i];
    if (!power_w || !std::isfinite(*power_w)) continue;  // no value: left out of the mean
    SeriesTotals& s = totals[i];
    if (s.covered_s == 0.0) {
      s.min_w = *power_w;
      s.max_w = *power_w;
    } else {
      s.min_w = std::min(s.min_w, *power_w);
      s.max_w = std::max(s.max_w, *power_w);
    }
    s.energy_j += *power_w * row.interval_s;
    s.covered_s += row.interval_s;
  }
}

// Buckets whose cells fall into one cell of twice the width become one (adjacent pairs when the run has no
// gaps, so the count halves). In place, in order.
void TimelineDownsampler::merge_pairs() {
  const std::size_t n = series_.size();
  std::size_t out = 0;
  for (std::size_t in = 0; in < buckets_.size(); ++in) {
    const Bucket from = buckets_[in];
    const std::int64_t cell = from.cell / 2;
    if (out > 0 && buckets_[out - 1].cell == cell) {
      Bucket& into = buckets_[out - 1];
      into.start_s = std::min(into.start_s, from.start_s);
      into.end_s = std::max(into.end_s, from.end_s);
      into.cpu_core_s += from.cpu_core_s;
      into.cpu_covered_s += from.cpu_covered_s;
      for (std::size_t i = 0; i < n; ++i) {
        const SeriesTotals source = totals_[(in * n) + i];
        SeriesTotals& target = totals_[((out - 1) * n) + i];
        if (source.covered_s == 0.0) continue;
        if (target.covered_s == 0.0) {
          target = source;
          continue;
        }
        target.energy_j += source.energy_j;
        target.covered_s += source.covered_s;
        target.min_w = std::min(target.min_w, source.min_w);
        target.max_w = std::max(target.max_w, source.max_w);
      }
    } else {
      buckets_[out] = from;
      buckets_[out].cell = cell;
      for (std::size_t i = 0; i < n; ++i) totals_[(out * n) + i] = totals_[(in * n) + i];
      ++out;
    }
  }
  buckets_.resize(out);
  totals_.resize(out * n);
}

void TimelineDownsampler::end() {}

Timeline TimelineDownsampler::timeline() const {
  const std::size_t n = series_.size();
  const std::size_t count = buckets_.size();
  Timeline t;
  t.series = series_;
  t.start_s.reserve(count);
  t.end_s.reserve(count);
  t.cpu_cores.reserve(count);
  t.mean_w.assign(n, {});
  t.min_w.assign(n, {});
  t.max_w.assign(n, {});
  for (std::size_t i = 0; i < n; ++i) {
    t.mean_w[i].reserve(count);
    t.min_w[i].reserve(count);
    t.max_w[i].reserve(count);
  }
  for (std::size_t b = 0; b < count; ++b) {
    const Bucket& bucket = buckets_[b];
    t.start_s.push_back(bucket.start_s);
    t.end_s.push_back(bucket.end_s);
    t.cpu_cores.push_back(bucket.cpu_covered_s > 0.0 ? bucket.cpu_core_s / bucket.cpu_covered_s : 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      const SeriesTotals& s = totals_[(b * n) + i];
      if (s.covered_s > 0.0) {
        t.mean_w[i].emplace_back(s.energy_j / s.covered_s);
        t.min_w[i].emplace_back(s.min_w);
        t.max_w[i].emplace_back(s.max_w);
      } else {
        t.mean_w[i].emplace_back(std::nullopt);
        t.min_w[i].emplace_back(std::nullopt);
        t.max_w[i].emplace_back(std::nullopt);
      }
    }
  }
  return t;
}

}  // namespace wattprint
