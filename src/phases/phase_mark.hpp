// A phase boundary as it reaches the run: "epoch begins" / "epoch ends", with the moment it happened.
// Marks come from the command's output (regex), from `wattprint mark`, the C API and the Python module
// (control socket); every producer pushes them into one MarkQueue that the sampler drains.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.hpp"

namespace wattprint {

struct PhaseMark {
  enum class Kind { Begin, End };
  Kind kind = Kind::Begin;
  std::string name;    ///< valid_phase_name()
  SteadyTime at{};     ///< when it happened (CLOCK_MONOTONIC, the same clock in every process of the machine)
  std::string origin;  ///< "output regex 'Epoch (\d+)'", "control socket (pid 1234)"
  std::optional<std::int64_t> index;  ///< explicit index (a regex's number capture); else counted per name
};

/// Phase names: 1 to 64 characters from [A-Za-z0-9_.:/-] (no spaces: they end a word of the protocol).
inline bool valid_phase_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '.' || c == ':' || c == '/' || c == '-';
    if (!ok) return false;
  }
  return true;
}

/// Many producers (socket thread, output relay thread), one consumer (the sampler). push() never blocks on
/// the consumer: it takes a mutex for a vector push_back only.
class MarkQueue {
 public:
  /// More marks than this in one run are counted and dropped (a runaway marker loop must not eat memory).
  static constexpr std::size_t kMaxMarks = 1'000'000;

  /// False when the run already holds kMaxMarks marks (the mark is counted in dropped()).
  bool push(PhaseMark mark) {
    const std::lock_guard lock(mutex_);
    if (accepted_ >= kMaxMarks) {
      ++dropped_;
      return false;
    }
    ++accepted_;
    pending_.push_back(std::move(mark));
    return true;
  }
  /// Everything pushed since the last drain, in arrival order.
  std::vector<PhaseMark> drain() {
    const std::lock_guard lock(mutex_);
    std::vector<PhaseMark> out;
    out.swap(pending_);
    return out;
  }
  [[nodiscard]] std::uint64_t dropped() const {
    const std::lock_guard lock(mutex_);
    return dropped_;
  }
  [[nodiscard]] std::uint64_t accepted() const {
    const std::lock_guard lock(mutex_);
    return accepted_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<PhaseMark> pending_;
  std::uint64_t accepted_ = 0;
  std::uint64_t dropped_ = 0;
};

}  // namespace wattprint
