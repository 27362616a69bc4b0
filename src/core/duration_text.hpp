// Parsing durations typed by users: "3600", "90m", "2h", "1h30m", "1.5h", "45s", "2d".
#pragma once

#include <optional>
#include <string_view>

namespace wattprint {

/// Seconds for a duration given as a bare number of seconds or as numbers with units s, m, h, d
/// (several may follow each other: "1h30m"). nullopt if malformed, negative or not finite.
std::optional<double> parse_duration_seconds(std::string_view text) noexcept;

}  // namespace wattprint
