// Server energy (joules, before PUE) and the same above the idle baseline.
#include "methods/server.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace wattprint {

namespace {

std::string describe_readings(const ServerEnergy& s) {
  std::string text =
      fmt::format("{} reading{} every {:.3g} s", s.readings, s.readings == 1 ? "" : "s", s.period.count());
  if (s.mean_window.count() > 0.0) {
    text += fmt::format(", each the mean over {:.3g} s, placed at the middle of its window",
                        s.mean_window.count());
  } else {
    text += ", instantaneous";
  }
  if (s.min_power && s.max_power)
    text += fmt::format("; {:.0f}–{:.0f} W", s.min_power->value, s.max_power->value);
  if (s.failures > 0) text += fmt::format("; {} failed ({})", s.failures, s.last_error);
  return text;
}

/// The measured server energy, or why there is none.
std::optional<Joules> server_energy(const std::optional<ServerEnergy>& server, const std::string& unavailable,
                                    std::string& reason) {
  if (!server) {
    reason = unavailable.empty() ? "no server power source" : unavailable;
    return std::nullopt;
  }
  if (!server->energy) {
    reason = fmt::format("no reading of {} succeeded during the run ({})", server->origin,
                         server->last_error.empty() ? "no reading" : server->last_error);
    return std::nullopt;
  }
  return server->energy;
}

}  // namespace

MethodResult server_method(const std::optional<ServerEnergy>& server, const std::string& unavailable_reason) {
  MethodResult result;
  result.name = "server";
  result.provenance = Provenance::Measured;
  result.basis = "whole-server power from its power meter (BMC or ACPI), integrated over the run";
  const auto energy = server_energy(server, unavailable_reason, result.reason);
  if (!energy) return result;
  result.available = true;
  result.it_energy = *energy;
  result.components.server = *energy;
  result.assumptions.emplace_back("source", server->origin);
  result.assumptions.emplace_back("readings", describe_readings(*server));
  return result;
}

MethodResult server_minus_idle_method(const std::optional<ServerEnergy>& server,
                                      const std::string& unavailable_reason,
                                      const std::optional<IdleBaseline>& baseline,
                                      const std::string& no_baseline_reason, double duration_s,
                                      std::string& warning) {
  MethodResult result;
  result.name = "server-minus-idle";
  result.provenance = Provenance::Measured;
  result.basis = "whole-server energy − idle server power × duration, never below zero";
  const auto energy = server_energy(server, unavailable_reason, result.reason);
  if (!energy) {
    result.reason = "needs the server's energy, unavailable (see the server method)";
    return result;
  }
  if (!baseline) {
    result.reason = no_baseline_reason;
    return result;
  }
  if (!baseline->server_w) {
    result.reason = fmt::format(
        "the idle baseline ({}) has no server power: measure it again with a server source (wattprint idle)",
        baseline->stored_in.empty() ? baseline->how : baseline->stored_in);
    return result;
  }
  const Joules idle{*baseline->server_w * duration_s};
  const Joules above = *energy - idle;
  if (above.value < 0.0) {
    warning = fmt::format(
        "the server used {:.0f} J, less than its idle baseline ({:.1f} W × {:.1f} s = {:.0f} J): "
        "server-minus-idle "
        "is 0; measure the idle power again (wattprint idle) if the machine changed",
        energy->value, *baseline->server_w, duration_s, idle.value);
  }
  result.available = true;
  result.it_energy = Joules{std::max(0.0, above.value)};
  result.components.server = result.it_energy;
  std::string how = baseline->how;
  if (!baseline->measured_at.empty()) how += fmt::format(", measured {}", baseline->measured_at);
  if (baseline->duration_s > 0.0) how += fmt::format(" over {:.0f} s", baseline->duration_s);
  if (!baseline->stored_in.empty()) how += fmt::format(", stored in {}", baseline->stored_in);
  result.assumptions.emplace_back("idle server power",
                                  fmt::format("{:.1f} W ({})", *baseline->server_w, how));
  if (!baseline->server_source.empty() && baseline->server_source != server->origin) {
    result.assumptions.emplace_back("idle baseline source", "measured with " + baseline->server_source +
                                                                ", not the run's source: compare with care");
  }
  result.assumptions.emplace_back("server energy",
                                  fmt::format("{:.1f} J from {}", energy->value, server->origin));
  if (!warning.empty()) result.assumptions.emplace_back("warning", warning);
  return result;
}

}  // namespace wattprint
