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
    // The run's basis, assumptions and reasons hold for every phase; a phase keeps only its numbers (with
    // 200,000 phases, five long reasons each would take hundreds of megabytes).
    method.basis.clear();
    method.assumptions.clear();
    method.assumptions.shrink_to_fit();
    if (!method.available) method.reason = "unavailable for the whole run (see methods." + method.name + ")";
  }
  return methods;
}

RunCheckpoint run_start(const RunMeasurement& m) {
  RunCheckpoint zero;
  if (m.server && m.server->energy) zero.server = Joules{0.0};
  return zero;
}

}  // namespace

namespace {

/// Running statistics of one method over the phases of one name (Welford's algorithm).
struct MethodAccumulator {
  bool in_every_phase = true;
  Provenance provenance = Provenance::Measured;
  std::size_t count = 0;
  double mean = 0.0;
  double m2 = 0.0;
  double min = 0.0;
  double max = 0.0;
  double duration = 0.0;
};

struct NameAccumulator {
  std::string name;
  std::size_t count = 0;
  double duration = 0.0;
  std::vector<MethodAccumulator> methods;
};

/// Phase statistics without keeping the phases: constant memory per name.
class PhaseStatistics {
 public:
  void add(const Phase& phase, const std::vector<MethodResult>& methods) {
    auto [it, inserted] = position_.try_emplace(phase.name, names_.size());
    if (inserted)
      names_.push_back({phase.name, 0, 0.0, std::vector<MethodAccumulator>(method_names().size())});
    NameAccumulator& n = names_[it->second];
    const double duration = phase.end_s - phase.start_s;
    ++n.count;
    n.duration += duration;
    for (std::size_t k = 0; k < n.methods.size(); ++k) {
      MethodAccumulator& a = n.methods[k];
      if (!a.in_every_phase) continue;
      if (k >= methods.size() || !methods[k].available) {
        a.in_every_phase = false;
        continue;
      }
      const double j = methods[k].it_energy.value;
      a.provenance = methods[k].provenance;
      a.min = a.count == 0 ? j : std::min(a.min, j);
      a.max = a.count == 0 ? j : std::max(a.max, j);
      ++a.count;
      const double delta = j - a.mean;
      a.mean += delta / static_cast<double>(a.count);
      a.m2 += delta * (j - a.mean);
      a.duration += duration;
    }
  }

  [[nodiscard]] std::vector<PhaseNameSummary> summary() const {
    std::vector<PhaseNameSummary> out;
    for (const NameAccumulator& n : names_) {
      PhaseNameSummary s{n.name, n.count, n.duration / static_cast<double>(n.count), {}};
      for (std::size_t k = 0; k < n.methods.size(); ++k) {
        const MethodAccumulator& a = n.methods[k];
        if (!a.in_every_phase || a.count == 0) continue;
        PhaseMethodStats stats;
        stats.method = method_names()[k];
        stats.provenance = a.provenance;
        stats.count = a.count;
        stats.mean_j = a.mean;
        if (a.count > 1) stats.sd_j = std::sqrt(std::max(0.0, a.m2 / static_cast<double>(a.count - 1)));
        stats.min_j = a.min;
        stats.max_j = a.max;
        stats.mean_duration_s = a.duration / static_cast<double>(a.count);
        s.methods.push_back(stats);
      }
      out.push_back(std::move(s));
    }
    return out;
  }

 private:
  std::vector<NameAccumulator> names_;
  std::map<std::string, std::size_t> position_;
};

/// Adds `span` into `total` method by method (a method stays available only if it is in every span).
void add_into(std::vector<MethodResult>& total, const std::vector<MethodResult>& span, bool first) {
  if (first) {
    total = span;
    return;
  }
  for (std::size_t k = 0; k < total.size() && k < span.size(); ++k) {
    total[k].available = total[k].available && span[k].available;
    total[k].it_energy += span[k].it_energy;
  }
}

}  // namespace

std::vector<PhaseNameSummary> summarise_phases(const std::vector<PhaseResult>& phases) {
  PhaseStatistics statistics;
  for (const PhaseResult& p : phases) statistics.add(p.phase, p.methods);
  return statistics.summary();
}

PhaseResults compute_phase_results(const RunMeasurement& m, const MethodInputs& inputs) {
  PhaseResults results;
  results.marks = m.marks;
  if (m.phases.empty()) return results;
  PhaseStatistics statistics;
  // Every phase counts in the statistics; the first kMaxListedPhases are kept one by one (memory stays
  // bounded whatever the number of marks).
  for (const Phase& phase : m.phases) {
    if (phase.start_boundary >= m.boundaries.size() || phase.end_boundary >= m.boundaries.size()) continue;
    std::vector<MethodResult> methods =
        span_methods(m, inputs, m.boundaries[phase.start_boundary], m.boundaries[phase.end_boundary]);
    statistics.add(phase, methods);
    if (results.phases.size() < kMaxListedPhases) results.phases.push_back({phase, std::move(methods)});
  }
  results.phase_count = m.phases.size();
  // Top-level gaps: phases are in order of start and top-level ones never overlap.
  const RunCheckpoint start = run_start(m);
  const RunCheckpoint* gap_from = &start;
  std::string after;
  const auto gap = [&](const RunCheckpoint& to, const std::string& before) {
    if (to.at_s - gap_from->at_s < kMinGapS) return;
    std::vector<MethodResult> methods = span_methods(m, inputs, *gap_from, to);
    add_into(results.outside_total, methods, results.gap_count == 0);
    ++results.gap_count;
    results.outside_s += to.at_s - gap_from->at_s;
    if (results.between.size() < kMaxListedPhases) {
      results.between.push_back({after, before, gap_from->at_s, to.at_s, std::move(methods)});
    }
  };
  for (const Phase& phase : m.phases) {
    if (phase.depth != 0) continue;
    gap(m.boundaries.at(phase.start_boundary), phase.label());
    gap_from = &m.boundaries.at(phase.end_boundary);
    after = phase.label();
  }
  gap(m.final_checkpoint, "");
  results.summary = statistics.summary();
  return results;
}

}  // namespace wattprint
