// Phase spans → checkpoint differences → the five methods, and the statistics of repeated phases.
#include "phases/phase_results.hpp"

#include <cmath>
#include <map>

namespace wattprint {

namespace {

std::vector<MethodResult> span_methods(const RunMeasurement& m, const MethodInputs& inputs,
                                       const RunCheckpoint& from, const RunCheckpoint& to) {
  std::vector<MethodResult> methods = compute_methods(span_measurement(m, from, to), inputs);
  for (MethodResult& method : methods) {
    // The run's basis and assumptions hold for every phase; a phase keeps only its numbers.
    method.basis.clear();
    method.assumptions.clear();
    method.assumptions.shrink_to_fit();
  }
  return methods;
}

RunCheckpoint run_start(const RunMeasurement& m) {
  RunCheckpoint zero;
  if (m.server && m.server->energy) zero.server = Joules{0.0};
  return zero;
}

}  // namespace

std::vector<PhaseNameSummary> summarise_phases(const std::vector<PhaseResult>& phases) {
  std::vector<PhaseNameSummary> summary;
  std::map<std::string, std::size_t> position;
  for (const PhaseResult& p : phases) {
    auto [it, inserted] = position.try_emplace(p.phase.name, summary.size());
    if (inserted) summary.push_back({p.phase.name, 0, 0.0, {}});
    PhaseNameSummary& s = summary[it->second];
    ++s.count;
    s.mean_duration_s += p.phase.end_s - p.phase.start_s;
  }
  for (PhaseNameSummary& s : summary) {
    s.mean_duration_s /= static_cast<double>(s.count);
    for (std::size_t k = 0; k < method_names().size(); ++k) {
      PhaseMethodStats stats;
      stats.method = method_names()[k];
      bool in_every_phase = true;
      double sum = 0.0;
      double duration = 0.0;
      for (const PhaseResult& p : phases) {
        if (p.phase.name != s.name) continue;
        if (k >= p.methods.size() || !p.methods[k].available) {
          in_every_phase = false;
          break;
        }
        const double j = p.methods[k].it_energy.value;
        stats.provenance = p.methods[k].provenance;
        stats.min_j = stats.count == 0 ? j : std::min(stats.min_j, j);
        stats.max_j = stats.count == 0 ? j : std::max(stats.max_j, j);
        sum += j;
        duration += p.phase.end_s - p.phase.start_s;
        ++stats.count;
      }
      if (!in_every_phase || stats.count == 0) continue;
      const auto n = static_cast<double>(stats.count);
      stats.mean_j = sum / n;
      stats.mean_duration_s = duration / n;
      if (stats.count > 1) {
        double squares = 0.0;
        for (const PhaseResult& p : phases) {
          if (p.phase.name != s.name) continue;
          const double d = p.methods[k].it_energy.value - stats.mean_j;
          squares += d * d;
        }
        stats.sd_j = std::sqrt(squares / (n - 1.0));
      }
      s.methods.push_back(stats);
    }
  }
  return summary;
}

PhaseResults compute_phase_results(const RunMeasurement& m, const MethodInputs& inputs) {
  PhaseResults results;
  results.marks = m.marks;
  if (m.phases.empty()) return results;
  results.phases.reserve(m.phases.size());
  for (const Phase& phase : m.phases) {
    PhaseResult r;
    r.phase = phase;
    if (phase.start_boundary < m.boundaries.size() && phase.end_boundary < m.boundaries.size()) {
      r.methods =
          span_methods(m, inputs, m.boundaries[phase.start_boundary], m.boundaries[phase.end_boundary]);
    }
    results.phases.push_back(std::move(r));
  }
  // Top-level gaps: phases are in order of start and top-level ones never overlap.
  const RunCheckpoint start = run_start(m);
  const RunCheckpoint* gap_from = &start;
  std::string after;
  for (const Phase& phase : m.phases) {
    if (phase.depth != 0) continue;
    const RunCheckpoint& to = m.boundaries.at(phase.start_boundary);
    if (to.at_s - gap_from->at_s >= kMinGapS) {
      results.between.push_back(
          {after, phase.label(), gap_from->at_s, to.at_s, span_methods(m, inputs, *gap_from, to)});
    }
    gap_from = &m.boundaries.at(phase.end_boundary);
    after = phase.label();
  }
  if (m.final_checkpoint.at_s - gap_from->at_s >= kMinGapS) {
    results.between.push_back({after, "", gap_from->at_s, m.final_checkpoint.at_s,
                               span_methods(m, inputs, *gap_from, m.final_checkpoint)});
  }
  results.summary = summarise_phases(results.phases);
  return results;
}

}  // namespace wattprint
