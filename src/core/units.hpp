// Physical quantities in SI units (joules, watts, seconds) and the conversions to kWh used in reports.
#pragma once

#include <chrono>

namespace wattprint {

/// Energy in joules.
struct Joules {
  double value = 0.0;
  constexpr Joules& operator+=(Joules other) {
    value += other.value;
    return *this;
  }
  friend constexpr Joules operator+(Joules a, Joules b) { return Joules{a.value + b.value}; }
  friend constexpr Joules operator-(Joules a, Joules b) { return Joules{a.value - b.value}; }
  friend constexpr Joules operator*(Joules a, double factor) { return Joules{a.value * factor}; }
  friend constexpr auto operator<=>(Joules, Joules) = default;
};

/// Power in watts.
struct Watts {
  double value = 0.0;
  friend constexpr auto operator<=>(Watts, Watts) = default;
};

/// A duration in seconds, as a floating-point count.
using Seconds = std::chrono::duration<double>;

inline constexpr double kJoulesPerKilowattHour = 3.6e6;

constexpr Joules operator*(Watts power, Seconds duration) { return Joules{power.value * duration.count()}; }
constexpr double to_kilowatt_hours(Joules energy) { return energy.value / kJoulesPerKilowattHour; }

}  // namespace wattprint
