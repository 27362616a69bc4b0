// The power timeline a report keeps: every series downsampled into at most a fixed number of time buckets,
// whatever the run's length (a week at 1 Hz is 604,800 rows; the report keeps ≤ kMaxPoints), energy-true:
// a bucket holds the mean power over its time span, so Σ mean × span equals the energy of the rows.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "samples/sample_row.hpp"

namespace wattprint {

struct Timeline {
  std::vector<SampleSeries> series;
  std::vector<double> start_s;  ///< each bucket's start (seconds since the command started)
  std::vector<double> end_s;    ///< each bucket's end
  /// power_w[series][bucket]: mean power over the bucket (nullopt: no value in the bucket)
  std::vector<std::vector<std::optional<double>>> mean_w;
  std::vector<std::vector<std::optional<double>>> min_w;  ///< lowest row power in the bucket
  std::vector<std::vector<std::optional<double>>> max_w;  ///< highest row power in the bucket
  std::vector<double> cpu_cores;                          ///< mean cores of the command in the bucket
};

/// Report JSON form (docs/report-schema.md, "timeline") and back; from_json throws std::runtime_error on
/// a malformed timeline.
nlohmann::json timeline_to_json(const Timeline& timeline);
Timeline timeline_from_json(const nlohmann::json& j);

/// A SampleSink that keeps ≤ max_points buckets: when full, adjacent buckets are merged pairwise and the
/// bucket width doubles. O(max_points × series) memory; O(1) amortised per row.
class TimelineDownsampler final : public SampleSink {
 public:
  static constexpr std::size_t kMaxPoints = 1024;
  explicit TimelineDownsampler(std::size_t max_points = kMaxPoints);
  void begin(const std::vector<SampleSeries>& series) override;
  void add(const SampleRow& row) override;
  void end() override;
  [[nodiscard]] Timeline timeline() const;

 private:
  struct Bucket;
  std::size_t max_points_;
  std::vector<SampleSeries> series_;
  // implementation's choice below
};

}  // namespace wattprint
