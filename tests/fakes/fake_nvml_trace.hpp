// The scripted trace that drives the fake libnvidia-ml.so.1 (tests/fakes/fake_nvml.cpp), its parser, and the
// ground truth it implies: the fake's energy counter and the tests both use energy_j() below, so the counter
// is the exact integral of the trace's piecewise-constant power. Header-only: the fake library and the
// tests each compile it. Format: see the top of fake_nvml.cpp.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wattprint::testing::fake_nvml {

/// Power from `at_s` seconds after the trace's origin until the next step.
struct PowerStep {
  double at_s = 0.0;
  double watts = 0.0;
};

/// A process line: every live process whose /proc/<pid>/comm is `comm` uses the GPU at `sm` percent.
struct FakeProcess {
  std::string comm;
  unsigned sm = 0;
};

struct FakeGpu {
  bool declared = false;  ///< a `gpu` line was seen
  std::string name;
  std::string uuid;
  std::string bus;
  std::optional<double> limit_w;
  bool energy_counter_supported = true;  ///< false: nvmlDeviceGetTotalEnergyConsumption says NOT_SUPPORTED
  std::uint64_t energy_start_mj = 0;     ///< counter value at the origin (energy since "driver load")
  bool power_instant_supported = true;   ///< false: field 186 gets a per-entry NOT_SUPPORTED
  bool power_usage_supported = true;     ///< false: nvmlDeviceGetPowerUsage says NOT_SUPPORTED
  bool process_utilisation_supported = true;
  bool no_permission = false;  ///< nvmlDeviceGetHandleByIndex_v2 says NO_PERMISSION
  std::optional<double> lost_at_s;
  std::optional<unsigned> utilisation_percent;  ///< unset: nvmlDeviceGetUtilizationRates says NOT_SUPPORTED
  std::vector<PowerStep> power;                 ///< sorted by at_s; 0 W before the first step
  std::vector<FakeProcess> processes;
};

struct Trace {
  std::optional<std::int64_t> origin_monotonic_ns;  ///< unset: the time of nvmlInit_v2
  int init_error = 0;                               ///< nvmlInit_v2's result
  std::vector<std::string> missing_symbols;         ///< symbols this trace needs absent from the fake build
  std::vector<FakeGpu> gpus;

  /// Power of `gpu` at `t_s` seconds after the origin.
  [[nodiscard]] double power_w(unsigned gpu, double t_s) const {
    double watts = 0.0;
    for (const PowerStep& step : gpus.at(gpu).power) {
      if (step.at_s > t_s) break;
      watts = step.watts;
    }
    return watts;
  }

  /// Exact energy of `gpu` between `from_s` and `to_s` (seconds after the origin), in joules.
  [[nodiscard]] double energy_j(unsigned gpu, double from_s, double to_s) const {
    if (to_s <= from_s) return 0.0;
    const std::vector<PowerStep>& steps = gpus.at(gpu).power;
    double total = 0.0;
    for (std::size_t i = 0; i < steps.size(); ++i) {
      const double begin = std::max(steps[i].at_s, from_s);
      const double end = std::min(i + 1 < steps.size() ? steps[i + 1].at_s : to_s, to_s);
      if (end > begin) total += steps[i].watts * (end - begin);
    }
    return total;
  }

  /// The fake's energy counter at `t_s` seconds after the origin, mJ (floor of the exact integral).
  [[nodiscard]] std::uint64_t counter_mj(unsigned gpu, double t_s) const {
    return gpus.at(gpu).energy_start_mj +
           static_cast<std::uint64_t>(energy_j(gpu, 0.0, std::max(t_s, 0.0)) * 1000.0);
  }
};

inline std::int64_t monotonic_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

namespace detail {

/// Splits a line into tokens on blanks; `key="a b"` keeps its quoted value (quotes removed).
inline std::vector<std::string> tokens_of(std::string_view line) {
  std::vector<std::string> tokens;
  std::string current;
  bool quoted = false;
  bool have = false;
  for (const char c : line) {
    if (c == '"') {
      quoted = !quoted;
      have = true;
    } else if (!quoted && (c == ' ' || c == '\t')) {
      if (have) tokens.push_back(std::move(current));
      current.clear();
      have = false;
    } else {
      current += c;
      have = true;
    }
  }
  if (have) tokens.push_back(std::move(current));
  return tokens;
}

inline bool parse_number(const std::string& text, double& out) {
  if (text.empty()) return false;
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size();
}

}  // namespace detail

/// Parses a trace; on a malformed line returns false with "line N: …" in `error`.
inline bool parse_trace(std::string_view text, Trace& trace, std::string& error) {
  trace = Trace{};
  std::istringstream in{std::string(text)};
  std::string line;
  int line_number = 0;
  const auto fail = [&](const std::string& why) {
    error = "line " + std::to_string(line_number) + ": " + why;
    return false;
  };
  while (std::getline(in, line)) {
    ++line_number;
    const auto hash = line.find('#');
    if (hash != std::string::npos && line.find('"') > hash) line.erase(hash);
    const std::vector<std::string> tokens = detail::tokens_of(line);
    if (tokens.empty()) continue;
    const std::string& directive = tokens[0];
    // Keys after the directive (and its gpu index, for per-GPU lines).
    std::vector<std::pair<std::string, std::string>> keys;
    std::vector<std::string> words;
    for (std::size_t i = 1; i < tokens.size(); ++i) {
      const auto eq = tokens[i].find('=');
      if (eq == std::string::npos) {
        words.push_back(tokens[i]);
      } else {
        keys.emplace_back(tokens[i].substr(0, eq), tokens[i].substr(eq + 1));
      }
    }
    const auto key = [&](const char* name) -> const std::string* {
      for (const auto& [k, v] : keys) {
        if (k == name) return &v;
      }
      return nullptr;
    };
    const auto number = [&](const char* name, double& out) {
      const std::string* value = key(name);
      return value != nullptr && detail::parse_number(*value, out);
    };

    if (directive == "origin") {
      double ns = 0;
      if (!number("monotonic_ns", ns)) return fail("origin needs monotonic_ns=<integer>");
      trace.origin_monotonic_ns =
          static_cast<std::int64_t>(std::strtoll(key("monotonic_ns")->c_str(), nullptr, 10));
      continue;
    }
    if (directive == "init_error") {
      double code = 0;
      if (words.size() != 1 || !detail::parse_number(words[0], code))
        return fail("init_error <nvmlReturn_t code>");
      trace.init_error = static_cast<int>(code);
      continue;
    }
    if (directive == "missing_symbol") {
      if (words.size() != 1) return fail("missing_symbol <name>");
      trace.missing_symbols.push_back(words[0]);
      continue;
    }

    // Per-GPU directives: `<directive> <gpu index> ...`.
    double index_value = 0;
    if (words.empty() || !detail::parse_number(words[0], index_value) || index_value < 0 ||
        index_value > 63) {
      return fail(directive + " needs a GPU index 0..63 after it");
    }
    const auto index = static_cast<std::size_t>(index_value);
    if (directive == "gpu") {
      if (index != trace.gpus.size()) return fail("gpu lines must number the GPUs 0, 1, 2 … in order");
      FakeGpu gpu;
      gpu.declared = true;
      if (const std::string* v = key("name")) gpu.name = *v;
      if (const std::string* v = key("uuid")) gpu.uuid = *v;
      if (const std::string* v = key("bus")) gpu.bus = *v;
      double limit = 0;
      if (number("limit_w", limit)) gpu.limit_w = limit;
      trace.gpus.push_back(std::move(gpu));
      continue;
    }
    if (index >= trace.gpus.size()) return fail("GPU " + std::to_string(index) + " has no gpu line before");
    FakeGpu& gpu = trace.gpus[index];
    const bool unsupported = words.size() > 1 && words[1] == "unsupported";
    if (directive == "energy_counter") {
      double start = 0;
      if (unsupported) {
        gpu.energy_counter_supported = false;
      } else if (number("start_mj", start)) {
        gpu.energy_start_mj = static_cast<std::uint64_t>(start);
      } else {
        return fail("energy_counter <gpu> unsupported | start_mj=<mJ>");
      }
    } else if (directive == "power_instant" && unsupported) {
      gpu.power_instant_supported = false;
    } else if (directive == "power_usage" && unsupported) {
      gpu.power_usage_supported = false;
    } else if (directive == "process_utilisation" && unsupported) {
      gpu.process_utilisation_supported = false;
    } else if (directive == "power") {
      PowerStep step;
      if (!number("at", step.at_s) || !number("watts", step.watts) || step.at_s < 0 || step.watts < 0) {
        return fail("power <gpu> at=<s >= 0> watts=<W >= 0>");
      }
      gpu.power.push_back(step);
      std::stable_sort(gpu.power.begin(), gpu.power.end(),
                       [](const PowerStep& a, const PowerStep& b) { return a.at_s < b.at_s; });
    } else if (directive == "process") {
      double sm = 0;
      const std::string* comm = key("comm");
      if (comm == nullptr || !number("sm", sm) || sm < 0 || sm > 100)
        return fail("process <gpu> comm=<name> sm=<%>");
      gpu.processes.push_back({*comm, static_cast<unsigned>(sm)});
    } else if (directive == "utilisation") {
      double percent = 0;
      if (!number("percent", percent) || percent < 0 || percent > 100)
        return fail("utilisation <gpu> percent=<%>");
      gpu.utilisation_percent = static_cast<unsigned>(percent);
    } else if (directive == "lost") {
      double at = 0;
      if (!number("at", at)) return fail("lost <gpu> at=<s>");
      gpu.lost_at_s = at;
    } else if (directive == "no_permission") {
      gpu.no_permission = true;
    } else {
      return fail("unknown directive '" + directive + "'");
    }
  }
  return true;
}

inline bool load_trace(const std::string& path, Trace& trace, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = "cannot open " + path;
    return false;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_trace(text.str(), trace, error);
}

}  // namespace wattprint::testing::fake_nvml
