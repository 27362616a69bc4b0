// Duration parsing for --runtime and --idle style options; result in seconds.
#include "core/duration_text.hpp"

#include <charconv>
#include <cmath>

namespace wattprint {

std::optional<double> parse_duration_seconds(std::string_view text) noexcept {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (text.empty()) return std::nullopt;
  double total = 0.0;
  bool any_unit = false;
  while (!text.empty()) {
    double value = 0.0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || ptr == text.data() || !std::isfinite(value) || value < 0.0) return std::nullopt;
    text.remove_prefix(static_cast<std::size_t>(ptr - text.data()));
    if (text.empty()) {
      if (any_unit) return std::nullopt;  // "1h30" is ambiguous
      return value;
    }
    double factor = 0.0;
    switch (text.front()) {
      case 's':
        factor = 1.0;
        break;
      case 'm':
        factor = 60.0;
        break;
      case 'h':
        factor = 3600.0;
        break;
      case 'd':
        factor = 86400.0;
        break;
      default:
        return std::nullopt;
    }
    text.remove_prefix(1);
    total += value * factor;
    any_unit = true;
  }
  return total;
}

}  // namespace wattprint
