// Per-phase results: the five methods over each phase's time span and over the time between phases, and the
// statistics of repeated phases (kWh per epoch: mean, standard deviation, min, max).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "methods/all_methods.hpp"
#include "phases/phase_tracker.hpp"
#include "sampling/run_sampler.hpp"

namespace wattprint {

struct PhaseResult {
  Phase phase;
  std::vector<MethodResult> methods;  ///< method_names() order; basis and assumptions left out (the run's)
};

/// Top-level time outside every phase: before the first, between two, after the last.
struct BetweenPhases {
  std::string after;   ///< label of the phase before ("" at the start of the run)
  std::string before;  ///< label of the phase after ("" at the end of the run)
  double start_s = 0.0;
  double end_s = 0.0;
  std::vector<MethodResult> methods;
};

/// One method over all the phases of one name (IT energy in joules; kWh and gCO2 scale linearly).
struct PhaseMethodStats {
  std::string method;
  Provenance provenance = Provenance::Measured;
  std::size_t count = 0;
  double mean_j = 0.0;
  std::optional<double> sd_j;  ///< sample standard deviation; nullopt for a single phase
  double min_j = 0.0;
  double max_j = 0.0;
  double mean_duration_s = 0.0;
};

struct PhaseNameSummary {
  std::string name;
  std::size_t count = 0;
  double mean_duration_s = 0.0;
  std::vector<PhaseMethodStats> methods;  ///< the methods available in every phase of this name
};

struct PhaseResults {
  std::vector<PhaseResult> phases;     ///< the first kMaxListedPhases phases
  std::size_t phase_count = 0;         ///< every phase of the run
  std::vector<BetweenPhases> between;  ///< the first kMaxListedPhases spans; empty when the run has no phase
  std::size_t gap_count = 0;           ///< every span between phases
  double outside_s = 0.0;              ///< their total time
  std::vector<MethodResult> outside_total;  ///< the methods over all of them, added up
  std::vector<PhaseNameSummary> summary;    ///< in order of first appearance
  PhaseMarkCounts marks;
  std::uint64_t malformed_marks = 0;
};

/// The results keep, and the JSON report and the HTML list, at most this many phases (and spans between them)
/// one by one; the statistics (phase_summary) cover every phase.
inline constexpr std::size_t kMaxListedPhases = 10'000;

/// Spans under this are not reported as time between phases.
inline constexpr double kMinGapS = 0.001;

PhaseResults compute_phase_results(const RunMeasurement& m, const MethodInputs& inputs);

/// Statistics per phase name (exposed for tests).
std::vector<PhaseNameSummary> summarise_phases(const std::vector<PhaseResult>& phases);

}  // namespace wattprint
