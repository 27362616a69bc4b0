// The sampler of a run: owns the cadence, reads every counter and the process tree, accumulates energy.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "attribution/process_tree.hpp"
#include "attribution/procfs.hpp"
#include "core/clock.hpp"
#include "core/units.hpp"
#include "energy/counter_track.hpp"
#include "phases/phase_mark.hpp"
#include "phases/phase_tracker.hpp"
#include "samples/sample_row.hpp"
#include "sampling/server_sampler.hpp"
#include "sources/gpu/gpu_source.hpp"
#include "sources/sensor.hpp"

namespace wattprint {

/// Energy of one sensor over the run.
struct SensorEnergy {
  SensorInfo info;
  Joules energy;
  std::vector<DegradedSpan> degraded;
};

/// Energy of one GPU over the run, and the command's part of it.
struct GpuEnergy {
  GpuDevice device;
  Joules energy;
  Joules attributed;             ///< Σ over intervals of its energy × the tree's share of it
  bool used_by_command = false;  ///< a process of the tree had a context on it
  std::optional<double> mean_utilisation_percent;
  /// What sampling its power every 5 s and multiplying by 5 s (the study's nvidia-smi procedure) gives for
  /// the same run; nullopt for runs too short to hold one power reading.
  std::optional<Joules> sampled_every_5s;
  std::vector<DegradedSpan> degraded;
};

/// The study's manual GPU method, replayed from the readings: the power seen at the start of each 5-s window
/// × the window's length. Power is the energy counter's slope over the last read period.
class FiveSecondPowerSampling {
 public:
  static constexpr double kWindowS = 5.0;
  /// A reading at `at_s` with the power over the period just ended.
  void observe(double at_s, Watts power);
  /// The estimate for a run of `duration_s`; nullopt when no power was seen.
  [[nodiscard]] std::optional<Joules> finish(double duration_s) const;

 private:
  bool have_power_ = false;
  double window_power_w_ = 0.0;
  double next_mark_s_ = kWindowS;
  double sampled_j_ = 0.0;
};

/// A suspend of the machine during a run: it slept for `duration_s` seconds after `at_s` seconds of running
/// time (the last counter reading before it). Neither the sleep's time nor its energy belongs to the run.
struct SuspendSpan {
  double at_s = 0.0;
  double duration_s = 0.0;
};

/// The run's cumulative totals at one moment (seconds since the start): a phase's measurements are the
/// difference of the checkpoints at its two ends.
struct RunCheckpoint {
  double at_s = 0.0;
  double tree_cpu_s = 0.0;
  double machine_busy_s = 0.0;
  Joules package;
  Joules dram;
  Joules psys;
  Joules attributed_package;
  Joules attributed_dram;
  std::vector<Joules> gpu_energy;      ///< per GPU, in RunMeasurement::gpus order
  std::vector<Joules> gpu_attributed;  ///< per GPU
  std::optional<Joules> server;        ///< the server's energy over [0, at_s]
};

/// The checkpoint between two others, linear in time (counters are read at the sampler's cadence; a mark
/// falls between two readings).
RunCheckpoint interpolate(const RunCheckpoint& a, const RunCheckpoint& b, double at_s);

/// How phase marks went in one run.
struct PhaseMarkCounts {
  std::uint64_t accepted = 0;
  std::uint64_t dropped = 0;
  std::uint64_t unmatched_ends = 0;
  std::uint64_t ignored_begins = 0;   ///< over PhaseTracker::kMaxPhases
  std::uint64_t repeated_begins = 0;  ///< a begin of the open phase's own index (a redrawn progress line)
};

/// What a group of processes (a batch job's cgroup) has used, read at each attribution interval.
struct GroupUsage {
  std::optional<double> cpu_s;                ///< cumulative CPU time; nullopt: unreadable now
  std::optional<std::uint64_t> memory_bytes;  ///< memory charged to the group now
  std::vector<pid_t> pids;                    ///< its processes, sorted (for the GPUs' process lists)
};

/// The group whose share of the machine a run attributes instead of the command's process tree
/// (RunSampler::attach_group): e.g. every rank of a batch job on this node. read() runs on the sampler's
/// thread.
class GroupUsageSource {
 public:
  virtual ~GroupUsageSource() = default;
  virtual GroupUsage read() = 0;
  /// What the group is, for reports: "job cgroup /system.slice/slurmstepd.scope/job_42".
  [[nodiscard]] virtual std::string description() const = 0;
};

/// How attribution through a group went (RunMeasurement::group).
struct GroupAttribution {
  std::string description;               ///< GroupUsageSource::description()
  std::uint64_t intervals = 0;           ///< intervals whose CPU share came from the group
  std::uint64_t fallback_intervals = 0;  ///< intervals that used the process tree: the group was unreadable
  double cpu_s = 0.0;                    ///< the group's CPU time over the intervals it was read
  std::uint64_t peak_memory_bytes = 0;
};

/// Everything measured during one run. Memory stays constant whatever the run's length.
struct RunMeasurement {
  double duration_s = 0.0;
  double tree_cpu_s = 0.0;
  std::uint64_t peak_tree_rss_bytes = 0;
  std::vector<SensorEnergy> sensors;
  bool have_package = false;  ///< at least one package counter read
  bool have_dram = false;
  Joules package;                      ///< Σ top-level package zones
  Joules dram;                         ///< Σ dram zones
  Joules psys;                         ///< platform energy (includes the packages; never added to them)
  Joules attributed_package;           ///< Σ over intervals of package energy × the tree's CPU-time share
  Joules attributed_dram;              ///< Σ over intervals of DRAM energy × the tree's memory share
  std::vector<GpuEnergy> gpus;         ///< every usable GPU; the run's selection happens afterwards
  std::optional<ServerEnergy> server;  ///< the whole server, when a server source was attached
  double machine_busy_s = 0.0;         ///< busy CPU time of the whole machine (all cores) over the run
  std::uint64_t counter_reads = 0;
  std::uint64_t intervals = 0;
  double counter_period_s = 0.0;  ///< how often counters were read (≤ interval, for wrap safety)
  std::vector<Phase> phases;
  std::vector<RunCheckpoint> boundaries;  ///< per PhaseTracker boundary (Phase::start_boundary, end_boundary)
  RunCheckpoint final_checkpoint;         ///< the whole run (at_s = duration_s)
  PhaseMarkCounts marks;
  std::optional<GroupAttribution> group;  ///< set when a group was attached (attach_group)
  /// Suspends of the machine, in time order (at most RunSampler::kMaxSuspendSpans; later ones are added to
  /// the last). duration_s above is running time only: it excludes them.
  std::vector<SuspendSpan> suspended;
};

/// The measurement of the span between two checkpoints of `run`, for the methods: energies, CPU time and
/// duration are the differences; the GPUs' descriptions, the server's origin, peak memory are the run's.
RunMeasurement span_measurement(const RunMeasurement& run, const RunCheckpoint& from,
                                const RunCheckpoint& to);

/// Reads every counter at least every `counter_period` (wrap safety) and attributes energy to the
/// tree every `interval`. start() takes the first reading in the caller's thread (right before the
/// command starts); finish() takes the last one (right after it ended) and returns the totals.
class RunSampler {
 public:
  RunSampler(std::vector<std::unique_ptr<EnergyCounterSource>> sources, ProcessTreeMonitor& tree,
             const ProcFs& procfs, const Clock& clock, Seconds interval);
  ~RunSampler();
  RunSampler(const RunSampler&) = delete;
  RunSampler& operator=(const RunSampler&) = delete;

  /// Adds whole-server sampling (its own thread and cadence) to the run; call before start().
  void attach_server(std::unique_ptr<ServerSampler> server) { server_ = std::move(server); }
  /// Phase marks pushed into `queue` (by any thread) are taken at each attribution interval.
  void attach_marks(MarkQueue& queue) { marks_ = &queue; }
  /// Gets one row per attribution interval (on the sampler's thread), begin() at start(), end() at finish().
  void attach_sink(SampleSink& sink) { sinks_.push_back(&sink); }
  /// Attributes the machine's CPU, DRAM and GPU energy by `group`'s CPU time, memory and processes instead
  /// of the command's process tree (which still gives the command's own CPU time and memory); an interval
  /// in which the group cannot be read uses the tree. Call before start().
  void attach_group(GroupUsageSource& group) { group_ = &group; }
  /// Called on the sampler's thread with the measurement "as if the run ended now" (snapshot()) at the
  /// first attribution interval after each `period`; it must be quick (hand the measurement to another
  /// thread). Call before start().
  using SnapshotSink = std::function<void(RunMeasurement&&)>;
  void attach_snapshots(SnapshotSink sink, Seconds period) {
    snapshot_sink_ = std::move(sink);
    snapshot_period_s_ = period.count();
  }

  /// A growth of Clock::suspended_total() between two readings above this is a suspend of the machine;
  /// smaller ones are the jitter of reading two clocks.
  static constexpr double kSuspendThresholdS = 0.5;
  static constexpr std::size_t kMaxSuspendSpans = 100;

  void start();
  RunMeasurement finish();
  [[nodiscard]] Seconds counter_period() const { return counter_period_; }

 private:
  struct Channel {
    EnergyCounterSource* source;
    std::size_t index;  // in the source's read order
    CounterTrack track;
    Component component;
    std::size_t gpu = 0;  // index in gpus_ when component is Gpu
  };
  struct GpuTrack {
    GpuSource* source;
    std::size_t source_slot;  // index in gpu_sources_
    std::size_t device;       // index in the source's devices()
    Joules pending;
    GpuEnergy result;
    FiveSecondPowerSampling five_second;
    double last_read_s = 0.0;
    double utilisation_sum = 0.0;
    std::size_t utilisation_samples = 0;
  };
  void loop();
  void read_counters(double at_s);
  bool resume_check(double at_s, double asleep_before_s);
  void attribute(double at_s);
  RunCheckpoint checkpoint(double at_s) const;
  /// The checkpoint at `t` interpolated between the recent attribution checkpoints around it.
  RunCheckpoint boundary_checkpoint(double t) const;
  void take_marks(double now_s);
  void add_boundaries_from(std::size_t first);
  /// The run's totals at `at_s` (the last reading) with the phases of `tracker` (finished at at_s) and
  /// their boundaries: what finish() returns, and what a snapshot is. `reaped_rss` is the peak memory of
  /// the reaped processes (read only once the command has ended: it is written by the waiting thread).
  RunMeasurement assemble(double at_s, const PhaseTracker& tracker, std::vector<RunCheckpoint> boundaries,
                          std::optional<ServerEnergy> server, std::uint64_t reaped_rss) const;
  /// The measurement "as if the run ended at the last attribution interval" (at_s), without stopping.
  RunMeasurement snapshot(double at_s) const;
  void emit_row(double at_s, double cpu_share, double tree_cpu_delta_s);
  double since_start(SteadyTime t) const { return std::chrono::duration<double>(t - start_).count(); }

  std::vector<std::unique_ptr<EnergyCounterSource>> sources_;
  std::vector<std::vector<std::uint64_t>> raw_;
  std::vector<std::vector<int>> errors_;
  std::vector<Channel> channels_;
  std::vector<GpuSource*> gpu_sources_;
  std::vector<std::vector<GpuActivity>> gpu_activity_;
  std::vector<GpuTrack> gpus_;
  ProcessTreeMonitor& tree_;
  MachineUsageReader machine_;
  const Clock& clock_;
  Seconds interval_;
  Seconds counter_period_;

  SteadyTime start_{};
  Joules pending_package_;
  Joules pending_dram_;
  double last_tree_cpu_s_ = 0.0;
  double last_machine_busy_s_ = 0.0;
  std::uint64_t last_tree_rss_ = 0;
  bool have_machine_ticks_ = false;
  double ticks_per_second_;
  RunMeasurement result_;
  std::unique_ptr<ServerSampler> server_;
  MarkQueue* marks_ = nullptr;
  GroupUsageSource* group_ = nullptr;
  std::optional<double> last_group_cpu_s_;
  std::uint64_t last_group_memory_ = 0;
  PhaseTracker tracker_;
  double last_mark_s_ = 0.0;
  static constexpr std::size_t kRecentCheckpoints = 64;
  std::vector<RunCheckpoint> recent_;  ///< ring of the last attribution checkpoints, for late marks
  std::size_t recent_next_ = 0;
  std::vector<RunCheckpoint> boundaries_;
  std::vector<SampleSink*> sinks_;
  std::vector<SampleSeries> series_;
  std::vector<double> last_series_energy_j_;
  double last_row_s_ = 0.0;
  bool sinks_started_ = false;
  SnapshotSink snapshot_sink_;
  double snapshot_period_s_ = 0.0;
  double next_snapshot_s_ = 0.0;

  double last_asleep_s_ = 0.0;  ///< Clock::suspended_total() after the last counter reading
  double last_read_s_ = 0.0;    ///< running time of the last counter reading
  bool resync_next_ = false;    ///< the machine slept during the last reading: resynchronise again

  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace wattprint
