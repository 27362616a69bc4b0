// Phase bookkeeping: a stack of open phases and one boundary per begin or end.
#include "phases/phase_tracker.hpp"

#include <algorithm>

namespace wattprint {

std::size_t PhaseTracker::boundary(double at_s) {
  last_s_ = std::max(last_s_, at_s);
  // Marks at the same moment share a boundary (an end and the next begin, typically).
  if (!boundaries_.empty() && boundaries_.back() == last_s_) return boundaries_.size() - 1;
  boundaries_.push_back(last_s_);
  return boundaries_.size() - 1;
}

void PhaseTracker::close_from(std::size_t from, double at_s, const std::string& reason) {
  const std::size_t b = boundary(at_s);
  while (open_.size() > from) {
    Phase& phase = phases_[open_.back()];
    phase.open = false;
    phase.end_s = boundaries_[b];
    phase.end_boundary = b;
    phase.ended_by = open_.size() - 1 == from ? reason : "parent";
    open_.pop_back();
  }
}

void PhaseTracker::begin(const std::string& name, double at_s, std::optional<std::int64_t> index) {
  for (std::size_t i = open_.size(); i-- > 0;) {
    if (phases_[open_[i]].name == name) {
      if (index && phases_[open_[i]].index == *index) {
        ++repeated_begins_;
        return;
      }
      close_from(i, at_s, "next");
      break;
    }
  }
  if (phases_.size() >= kMaxPhases) {
    ++ignored_begins_;
    return;
  }
  std::int64_t& count = counts_[name];
  count = index ? *index : count + 1;
  Phase phase;
  phase.name = name;
  phase.index = count;
  if (!open_.empty()) phase.parent = open_.back();
  phase.depth = open_.size();
  phase.start_boundary = boundary(at_s);
  phase.start_s = boundaries_[phase.start_boundary];
  open_.push_back(phases_.size());
  phases_.push_back(std::move(phase));
}

void PhaseTracker::end(const std::string& name, double at_s) {
  for (std::size_t i = open_.size(); i-- > 0;) {
    if (phases_[open_[i]].name == name) {
      close_from(i, at_s, "mark");
      return;
    }
  }
  ++unmatched_ends_;
}

void PhaseTracker::finish(double at_s) {
  if (!open_.empty()) close_from(0, at_s, "run-end");
}

std::string PhaseTracker::current_path() const {
  std::string path;
  for (const std::size_t i : open_) path += (path.empty() ? "" : "/") + phases_[i].label();
  return path;
}

}  // namespace wattprint
