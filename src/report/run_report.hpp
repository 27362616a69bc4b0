// Everything a report says about one run (or one estimate), before rendering.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "attribution/gpu_selection.hpp"
#include "cluster/batch_job.hpp"
#include "footprint/carbon_intensity.hpp"
#include "idle/idle_baseline.hpp"
#include "methods/method_result.hpp"
#include "phases/phase_results.hpp"
#include "platform/host_info.hpp"
#include "samples/timeline.hpp"
#include "sampling/run_sampler.hpp"
#include "sources/sensor.hpp"

namespace wattprint {

inline constexpr int kReportSchemaVersion = 2;

/// Energy of the whole machine per component, each counted once (nullopt: no sensor measured it).
struct MeasuredEnergy {
  std::optional<Joules> cpu;   ///< Σ RAPL packages
  std::optional<Joules> dram;  ///< Σ RAPL DRAM zones
  std::optional<Joules> gpu;
  std::optional<Joules> server;
  std::optional<Joules> psys;  ///< RAPL platform zone: includes the packages, shown apart
};

struct Footprint {
  double pue = 1.0;
  std::string pue_source;  ///< "--pue", "config FILE", "default: IT equipment only"
  CarbonIntensity carbon_intensity;
  [[nodiscard]] double kwh_with_pue(Joules it_energy) const { return to_kilowatt_hours(it_energy) * pue; }
  [[nodiscard]] double co2_grams(Joules it_energy) const {
    return kwh_with_pue(it_energy) * carbon_intensity.g_per_kwh;
  }
};

/// The monitor's own cost, so users can see what measuring cost.
struct MonitorCost {
  double cpu_s = 0.0;
  std::uint64_t peak_rss_bytes = 0;
};

/// One method on one node of a merged report.
struct NodeMethod {
  std::string method;
  bool available = false;
  std::optional<Provenance> provenance;  ///< when available
  std::optional<Joules> it_energy;       ///< when available
  std::string reason;                    ///< why unavailable
};

/// One node's run inside a merged multi-node report (`nodes` in the JSON), as its own report said.
struct NodeRun {
  std::string host;
  std::string run_id;
  std::string source;  ///< the report file it was read from
  std::string started_at;
  double duration_s = 0.0;
  std::optional<int> exit_code;
  std::optional<int> signal;
  std::optional<double> cpu_time_s;
  std::vector<NodeMethod> methods;  ///< method_names() order
};

struct RunReport {
  std::string kind = "run";  ///< "run", "estimate", or "merged" (one report summed over a job's nodes)
  std::string run_id;        ///< UUID of this run, the same on every machine it is imported into
  std::map<std::string, std::string> tags;  ///< --tag KEY=VALUE and the configuration's [tags]
  std::string tool_version;
  std::vector<std::string> command;
  std::optional<int> exit_code;
  std::optional<int> signal;  ///< the signal that ended the command
  std::string error;          ///< why the command could not start, if it could not
  std::string started_at;     ///< ISO 8601 UTC
  double duration_s = 0.0;
  std::optional<double> cpu_time_s;
  std::optional<std::uint64_t> peak_rss_bytes;
  HostInfo host;
  std::optional<BatchJob> job;  ///< the Slurm/OAR job the run was part of (nullopt outside a job)
  Footprint footprint;
  MeasuredEnergy measured;
  std::vector<MethodResult> methods;  ///< all five, in method_names() order
  std::vector<SensorStatus> sensor_statuses;
  std::vector<SensorEnergy> sensor_energies;
  std::vector<GpuEnergy> gpus;  ///< every readable GPU; gpu_selection says which belong to the run
  GpuSelection gpu_selection;
  std::optional<ServerEnergy> server;         ///< the whole server's readings, when a source was used
  std::optional<IdleBaseline> idle_baseline;  ///< the baseline server-minus-idle used
  std::vector<std::string> warnings;          ///< said on stderr and kept in the report
  std::vector<SuspendSpan> suspended;         ///< the machine's suspends during the run (not running time)
  double interval_s = 0.0;
  double counter_period_s = 0.0;
  std::optional<MonitorCost> monitor;
  std::vector<std::string> config_files;
  PhaseResults phases;               ///< per-phase methods, time between phases, statistics
  std::optional<Timeline> timeline;  ///< power over time, downsampled
  std::vector<NodeRun> nodes;        ///< a merged report's nodes (empty otherwise)
};

/// Current time as ISO 8601 UTC with seconds ("2026-11-27T05:44:53Z").
std::string iso8601_utc_now();

}  // namespace wattprint
