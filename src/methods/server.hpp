// The study's methods 4 and 5: the whole server from its power meter, and the same minus the idle server.
#pragma once

#include <optional>
#include <string>

#include "idle/idle_baseline.hpp"
#include "methods/method_result.hpp"
#include "sampling/server_sampler.hpp"

namespace wattprint {

/// `server`: the server's measured energy over the run (power readings integrated over time).
/// `unavailable_reason` says why when no source was usable.
MethodResult server_method(const std::optional<ServerEnergy>& server, const std::string& unavailable_reason);

/// `server-minus-idle`: max(0, server energy − idle server power × duration). `warning` receives a line when
/// the measurement fell under the baseline (the result is then 0). `no_baseline_reason` says why there is
/// no baseline when `baseline` is nullopt.
MethodResult server_minus_idle_method(const std::optional<ServerEnergy>& server,
                                      const std::string& unavailable_reason,
                                      const std::optional<IdleBaseline>& baseline,
                                      const std::string& no_baseline_reason, double duration_s,
                                      std::string& warning);

}  // namespace wattprint
