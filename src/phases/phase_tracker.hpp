// Turns a time-ordered stream of begin/end marks into phases: named, repeated (epoch 1..N), nested (train
// and eval inside an epoch). Pure bookkeeping: no clock, no threads; times are seconds since the run began.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace wattprint {

struct Phase {
  std::string name;
  std::int64_t index = 0;             ///< 1-based per name, or the number a regex captured
  std::optional<std::size_t> parent;  ///< position of the enclosing phase
  std::size_t depth = 0;              ///< 0 = top level
  double start_s = 0.0;
  double end_s = 0.0;
  bool open = true;
  std::string ended_by;            ///< "mark", "next" (a begin of the same name), "parent", "run-end"
  std::size_t start_boundary = 0;  ///< index of its start in boundaries()
  std::size_t end_boundary = 0;    ///< index of its end in boundaries()
  [[nodiscard]] std::string label() const { return name + " " + std::to_string(index); }
};

/// Semantics (docs/markers.md): begin(name) ends an open phase of the same name (and what is nested in it)
/// then opens a new one inside the innermost open phase; end(name) closes the innermost open phase of that
/// name and everything nested inside it; an end with no open phase of that name is counted and ignored.
/// Every begin and end creates a boundary: a moment whose cumulative measurements the sampler records.
/// A begin whose explicit index is the index of the open phase of that name continues it (a progress bar
/// redrawing "Epoch 3: 40%" over and over with '\r' is one epoch, not one per redraw).
/// Times must not go backwards (earlier times are raised to the last one).
class PhaseTracker {
 public:
  /// Limit of phases kept (each holds a few numbers per method); further begins are counted and ignored.
  static constexpr std::size_t kMaxPhases = 200'000;

  void begin(const std::string& name, double at_s, std::optional<std::int64_t> index = std::nullopt);
  void end(const std::string& name, double at_s);
  /// Closes every open phase at the end of the run.
  void finish(double at_s);

  [[nodiscard]] const std::vector<Phase>& phases() const { return phases_; }
  /// Boundary times, in creation order (non-decreasing).
  [[nodiscard]] const std::vector<double>& boundaries() const { return boundaries_; }
  /// "epoch 3/train 3" for the innermost open phase, "" outside phases.
  [[nodiscard]] std::string current_path() const;
  [[nodiscard]] std::uint64_t unmatched_ends() const { return unmatched_ends_; }
  [[nodiscard]] std::uint64_t ignored_begins() const { return ignored_begins_; }
  [[nodiscard]] std::uint64_t repeated_begins() const { return repeated_begins_; }

 private:
  std::size_t boundary(double at_s);
  /// Closes open_[from..] (innermost last) at `at_s`; the phase at `from` gets `reason`, inner ones "parent".
  void close_from(std::size_t from, double at_s, const std::string& reason);

  std::vector<Phase> phases_;
  std::vector<std::size_t> open_;  ///< stack of open phases (positions in phases_)
  std::vector<double> boundaries_;
  std::map<std::string, std::int64_t> counts_;
  double last_s_ = 0.0;
  std::uint64_t unmatched_ends_ = 0;
  std::uint64_t ignored_begins_ = 0;
  std::uint64_t repeated_begins_ = 0;
};

}  // namespace wattprint
