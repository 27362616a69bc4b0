// Passes the command's stdout and stderr through to wattprint's own, byte for byte and as soon as read,
// while matching each line against --mark-regex / --mark-end-regex patterns to mark phases.
// Only used when a pattern was given: otherwise the command keeps wattprint's stdout and stderr.
#pragma once

#include <chrono>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "phases/phase_mark.hpp"

namespace wattprint {

/// One --mark-regex / --mark-end-regex value: "[NAME=]REGEX" (ECMAScript). Without NAME the phase is named
/// after the first word of the matched text, lower-cased ("Epoch 3/10" → "epoch"). A first capture group
/// holding an integer gives the phase's index.
struct MarkPattern {
  std::string text;  ///< as given, for the mark's origin
  std::string name;  ///< empty: from the matched text
  std::regex regex;
  PhaseMark::Kind kind = PhaseMark::Kind::Begin;
};
/// Throws UsageError (core/error.hpp) with the option name and the reason for a bad pattern or name.
MarkPattern parse_mark_pattern(const std::string& option, const std::string& value, PhaseMark::Kind kind);

/// The fds the command gets as its stdout and stderr.
struct RelayChildEnds {
  int stdout_fd = -1;
  int stderr_fd = -1;
};

/// A pseudo-terminal for each of wattprint's stdout/stderr that is a terminal (the command still sees a
/// terminal: line buffering, colours, progress bars; raw mode, so bytes pass unchanged; window size
/// copied), a pipe otherwise. Lines end at '\n' or '\r'; a line longer than 64 KiB is matched on its first
/// 64 KiB. A write error on wattprint's side (closed pipe) keeps draining, so the command never blocks.
class OutputRelay {
 public:
  OutputRelay(std::vector<MarkPattern> patterns, MarkQueue& queue, const Clock& clock, int out_fd = 1,
              int err_fd = 2);
  ~OutputRelay();
  OutputRelay(const OutputRelay&) = delete;
  OutputRelay& operator=(const OutputRelay&) = delete;

  /// Creates the pipes or terminals (close-on-exec on wattprint's ends). Throws std::runtime_error.
  RelayChildEnds open();
  /// After the command was spawned: closes the child's ends in wattprint and starts the relay thread.
  void start();
  /// After the command ended: relays what is left until end of file, or for at most `grace` when a
  /// process that outlived the command still holds the output open; then stops the thread.
  void finish(std::chrono::milliseconds grace = std::chrono::milliseconds(500));

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace wattprint
