// The exporter's sampler: its own thread and schedule, reading every counter (more often when a counter
// could wrap), /proc/stat and the jobs' cgroups, and publishing an immutable snapshot after each sample.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "attribution/procfs.hpp"
#include "cluster/cgroup.hpp"
#include "core/clock.hpp"
#include "energy/counter_track.hpp"
#include "exporter/node_accounting.hpp"
#include "sampling/server_sampler.hpp"
#include "sources/gpu/gpu_source.hpp"
#include "sources/sensor.hpp"

namespace wattprint::exporter {

/// Where the jobs come from (CgroupFs in production, a table in tests).
class JobSource {
 public:
  virtual ~JobSource() = default;
  /// Every job group with its usage and processes, now.
  virtual std::vector<JobObservation> observe() = 0;
};

/// Jobs found through cgroups: CgroupFs::find_jobs, then usage() and processes() of each.
class CgroupJobSource final : public JobSource {
 public:
  CgroupJobSource(CgroupFs cgroups, UserNameLookup users)
      : cgroups_(std::move(cgroups)), users_(std::move(users)) {}
  std::vector<JobObservation> observe() override;

 private:
  CgroupFs cgroups_;
  UserNameLookup users_;
};

/// What scrapes read: the exposition of one sample in both formats, rendered once.
struct Snapshot {
  std::uint64_t samples = 0;
  std::string prometheus;   ///< text format 0.0.4
  std::string openmetrics;  ///< OpenMetrics 1.0
};

class NodeSampler {
 public:
  /// `interval`: time between samples; counters are read at most every interval and at most half a wrap
  /// period apart (as RunSampler does).
  NodeSampler(std::vector<std::unique_ptr<EnergyCounterSource>> sources,
              std::unique_ptr<ServerSampler> server, const std::string& server_sensor, JobSource& jobs,
              const ProcFs& procfs, const Clock& clock, Seconds interval, AccountingSettings settings);
  ~NodeSampler();
  NodeSampler(const NodeSampler&) = delete;
  NodeSampler& operator=(const NodeSampler&) = delete;

  /// Takes the first sample (in the caller's thread, so the first snapshot exists on return), then starts
  /// the thread, which blocks every signal.
  void start();
  /// Asks the thread for a sample now (thread-safe; the schedule goes on from there).
  void sample_now();
  /// Stops the thread (idempotent).
  void stop();

  /// The latest snapshot; never null after start(). Thread-safe, never samples.
  [[nodiscard]] std::shared_ptr<const Snapshot> latest() const;
  [[nodiscard]] Seconds counter_period() const { return counter_period_; }
  [[nodiscard]] const std::vector<NodeSensor>& sensors() const { return sensors_; }

 private:
  struct Channel {
    EnergyCounterSource* source;
    std::size_t source_index;
    std::size_t index;
    CounterTrack track;
    Joules pending;
  };
  void loop();
  void read_counters(double at_s);
  void sample(double at_s);
  double since_start(SteadyTime t) const { return std::chrono::duration<double>(t - start_).count(); }

  std::vector<std::unique_ptr<EnergyCounterSource>> sources_;
  std::vector<std::vector<std::uint64_t>> raw_;
  std::vector<std::vector<int>> errors_;
  std::vector<Channel> channels_;
  std::vector<NodeSensor> sensors_;
  std::vector<GpuSource*> gpu_sources_;
  std::vector<std::vector<GpuActivity>> gpu_activity_;
  std::unique_ptr<ServerSampler> server_;
  std::optional<double> last_server_j_;
  JobSource& jobs_;
  MachineUsageReader machine_;
  const Clock& clock_;
  Seconds interval_;
  Seconds counter_period_;
  double ticks_per_second_;
  NodeAccounting accounting_;
  SteadyTime start_{};

  std::thread thread_;
  mutable std::mutex mutex_;  ///< guards stopping_, sample_requested_, latest_
  std::condition_variable wake_;
  bool stopping_ = false;
  bool sample_requested_ = false;
  std::shared_ptr<const Snapshot> latest_;
};

}  // namespace wattprint::exporter
