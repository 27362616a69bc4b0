// The power timeline a report keeps: every series downsampled into at most a fixed number of time buckets,
// whatever the run's length (a week at 1 Hz is 604,800 rows; the report keeps ≤ kMaxPoints), energy-true:
// a bucket holds the mean power over its time span, so Σ mean × span equals the energy of the rows.
#pragma once

#include <cstddef>
#include <cstdint>
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
  // Buckets lie on a grid of nominal width width_s_ from origin_s_ (the first row's start); a row goes to the
  // cell of its midpoint. Merging two buckets halves their cell index and doubles the width.
  struct Bucket {
    std::int64_t cell = 0;       ///< grid index at the current width
    double start_s = 0.0;        ///< earliest row start in the bucket
    double end_s = 0.0;          ///< latest row end in the bucket
    double cpu_core_s = 0.0;     ///< Σ cpu_cores × interval
    double cpu_covered_s = 0.0;  ///< Σ interval
  };
  struct SeriesTotals {      ///< one series in one bucket
    double energy_j = 0.0;   ///< Σ power × interval over the rows with a value
    double covered_s = 0.0;  ///< Σ interval over those rows (0: no value in the bucket)
    double min_w = 0.0;
    double max_w = 0.0;
  };
  void merge_pairs();
  [[nodiscard]] std::int64_t cell_of(double mid_s) const;

  std::size_t max_points_;
  std::vector<SampleSeries> series_;
  std::vector<Bucket> buckets_;       ///< ≤ max_points_, reserved in begin()
  std::vector<SeriesTotals> totals_;  ///< buckets_.size() × series_.size(), bucket-major
  double origin_s_ = 0.0;
  double width_s_ = 0.0;  ///< 0 until the first row
};

}  // namespace wattprint
