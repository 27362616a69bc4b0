// The exporter's arithmetic, free of threads and files: each sample's energy deltas, machine CPU time and
// the jobs' usage in; cumulative joules per node component, per method, per job, and their gCO2 out.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cluster/cgroup.hpp"
#include "core/units.hpp"
#include "exporter/exposition.hpp"
#include "methods/estimate.hpp"
#include "report/run_report.hpp"
#include "sources/gpu/gpu_source.hpp"

namespace wattprint::exporter {

/// One energy counter of the node, as labelled in the metrics.
struct NodeSensor {
  std::string name;       ///< "rapl.package-0"
  std::string component;  ///< "package", "dram", "psys", "core", "uncore", "gpu"
  std::string origin;     ///< the file or device read
};

/// A job group found at one sample and what it used.
struct JobObservation {
  JobCgroup job;
  CgroupUsage usage;
  std::vector<pid_t> pids;  ///< its processes, sorted (GPU attribution)
};

/// What one sample read. Energies are the deltas since the previous sample; CPU time is cumulative.
struct NodeSample {
  double at_s = 0.0;                         ///< steady seconds since the exporter started
  double wall_unix_s = 0.0;                  ///< when the sample was taken (Unix time)
  std::vector<Joules> sensor_energy;         ///< per NodeSensor, in the accounting's order
  std::vector<GpuActivity> gpu_activity;     ///< per GPU sensor, in the order they appear among the sensors
  std::optional<Joules> server_energy;       ///< the server's energy since the previous sample
  std::optional<Watts> server_power;         ///< its last reading
  std::optional<double> machine_busy_cpu_s;  ///< cumulative busy CPU time of the machine (/proc/stat)
  std::optional<std::uint64_t> machine_memory_used_bytes;  ///< MemTotal − MemAvailable
  std::vector<JobObservation> jobs;
};

struct AccountingSettings {
  Footprint footprint;
  CpuPowerModel cpu;  ///< the estimate method's CPU model (W per core)
  GpuPowerModel gpu;  ///< the estimate method's GPU model (W per GPU)
  bool server_attached = false;
  std::string server_sensor;               ///< label of the server's series ("ipmi-dcmi", "redfish", …)
  std::optional<Watts> idle_server_power;  ///< server-minus-idle's baseline; the method is absent without it
  std::string idle_source;                 ///< "--idle-watts 156", "stored baseline (…)"
  Seconds keep_ended{600.0};               ///< how long an ended job keeps its series
  std::string version;
};

/// Cumulative totals of one job since the exporter first saw it.
struct JobTotals {
  JobCgroup job;
  Joules package;                  ///< process method, measured package energy × the job's CPU-time share
  Joules dram;                     ///< process method, measured DRAM energy × the job's memory share
  Joules gpu;                      ///< process method, measured GPU energy × the job's share of each GPU
  Joules estimate_cpu;             ///< estimate method (modelled): job cores × W per core × time
  Joules estimate_memory;          ///< estimate method (modelled): job memory GB × 0.3725 W/GB × time
  double cpu_s = 0.0;              ///< CPU time of its group since first seen
  std::uint64_t memory_bytes = 0;  ///< at the last sample
  std::optional<double> last_group_cpu_s;
  std::optional<double> ended_at_s;  ///< when its group was last missing (nullopt while it runs)
  [[nodiscard]] Joules process_energy() const { return package + dram + gpu; }
  [[nodiscard]] Joules estimate_energy() const { return estimate_cpu + estimate_memory; }
};

class NodeAccounting {
 public:
  NodeAccounting(std::vector<NodeSensor> sensors, AccountingSettings settings);

  /// Adds one sample. The first one only sets the baselines (CPU time, each job's CPU time).
  void add(const NodeSample& sample);

  [[nodiscard]] std::uint64_t samples() const { return samples_; }
  [[nodiscard]] Joules sensor_energy(std::size_t sensor) const { return sensor_total_.at(sensor); }
  /// A method's cumulative IT energy; nullopt when the method is unavailable here.
  [[nodiscard]] std::optional<Joules> method_energy(const std::string& method) const;
  /// The job `scheduler`/`job_id`, running or recently ended; nullptr when unknown or expired.
  [[nodiscard]] const JobTotals* job(const std::string& scheduler, const std::string& job_id) const;
  [[nodiscard]] std::size_t job_count() const { return jobs_.size(); }

  /// Every metric family, in a fixed order (series sorted), from the totals after the last sample.
  [[nodiscard]] std::vector<MetricFamily> metrics() const;

 private:
  void add_jobs(const NodeSample& sample, double dt_s, double busy_delta_s, Joules package, Joules dram,
                const std::vector<Joules>& gpu_energy);
  void add_estimate(double dt_s, double busy_delta_s, const NodeSample& sample);

  std::vector<NodeSensor> sensors_;
  std::vector<std::size_t> gpu_sensor_;  ///< GPU ordinal → sensor index
  AccountingSettings settings_;
  std::uint64_t samples_ = 0;
  double last_at_s_ = 0.0;
  double last_wall_s_ = 0.0;
  std::optional<double> last_busy_s_;
  double busy_cpu_s_ = 0.0;
  std::optional<std::uint64_t> memory_used_bytes_;
  std::vector<Joules> sensor_total_;
  std::vector<std::optional<Watts>> sensor_power_;
  Joules estimate_;
  Joules server_;
  Joules server_minus_idle_;
  std::optional<Watts> server_power_;
  bool server_read_ = false;
  std::map<std::string, JobTotals> jobs_;  ///< by "scheduler/job_id"
};

}  // namespace wattprint::exporter
