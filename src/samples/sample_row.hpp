// One row per attribution interval of a run: the sampler's view at that moment, for the per-sample CSV
// and the report's downsampled power timeline. Sinks get rows on the sampler's thread and must be quick.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace wattprint {

/// One power series of a run: a RAPL zone, a GPU, the server.
struct SampleSeries {
  std::string name;       ///< "package-0", "dram-0", "gpu0 NVIDIA H100", "server"
  std::string component;  ///< component_name(): "cpu-package", "dram", "gpu", "psys", "server"
  std::string kind;       ///< "measured" (every series so far)
  std::string source;     ///< where the numbers come from: "powercap intel-rapl:0", "NVML", "ipmi-dcmi"
};

struct SampleRow {
  double t_s = 0.0;         ///< seconds since the command started (end of the interval)
  double interval_s = 0.0;  ///< length of the interval the powers average over
  /// Per series (same order as the SampleSeries): mean power over the interval in watts and cumulative
  /// energy since the start in joules; nullopt when the sensor gave nothing (failed read, no reading yet).
  std::vector<std::optional<double>> power_w;
  std::vector<std::optional<double>> energy_j;
  double cpu_share = 0.0;  ///< the command's share of the machine's busy CPU time over the interval (0..1)
  double cpu_cores = 0.0;  ///< CPU cores the command used over the interval (CPU time ÷ interval)
  std::string phase;       ///< the innermost open phase, "epoch 3/train 3" style path; empty outside phases
};

class SampleSink {
 public:
  virtual ~SampleSink() = default;
  /// Called once before the first row.
  virtual void begin(const std::vector<SampleSeries>& series) = 0;
  virtual void add(const SampleRow& row) = 0;
  /// Called once after the last row (flush, close).
  virtual void end() = 0;
};

}  // namespace wattprint
