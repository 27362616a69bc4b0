// The scripted trace that drives the fake librocm_smi64.so.1 (tests/fakes/fake_rocm_smi.cpp), its parser,
// and the ground truth it implies: the fake's energy accumulator and the tests both use energy_j() below, so
// the counter is the exact integral of the trace's piecewise-constant power. Header-only: the fake library
// and the tests each compile it. Format: see the top of fake_rocm_smi.cpp.
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

namespace wattprint::testing::fake_rocm_smi {

/// Power from `at_s` seconds after the trace's origin until the next step.
struct PowerStep {
  double at_s = 0.0;
  double watts = 0.0;
};

struct FakeGpu {
  std::string name;
  std::uint64_t unique_id = 0;
  std::optional<double> power_cap_w;
  bool energy_counter_supported = true;  ///< false: rsmi_dev_energy_count_get says NOT_SUPPORTED
  float resolution_uj = 15.3F;           ///< µJ per count
  bool power_ave_supported = true;       ///< false: rsmi_dev_power_ave_get says NOT_SUPPORTED
  std::optional<unsigned> busy_percent;  ///< unset: rsmi_dev_busy_percent_get says NOT_SUPPORTED
  std::vector<PowerStep> power;          ///< sorted by at_s; 0 W before the first step
  std::vector<std::string> process_comms;
};

struct Trace {
  std::optional<std::int64_t> origin_monotonic_ns;  ///< unset: the time of rsmi_init
  unsigned init_error = 0;                          ///< rsmi_init's result
  std::vector<FakeGpu> gpus;

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

  /// The fake's accumulator at `t_s` seconds after the origin: floor(exact µJ / resolution).
  [[nodiscard]] std::uint64_t counter(unsigned gpu, double t_s) const {
    const double microjoules = energy_j(gpu, 0.0, std::max(t_s, 0.0)) * 1e6;
    return static_cast<std::uint64_t>(microjoules / static_cast<double>(gpus.at(gpu).resolution_uj));
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
      const std::string* ns = key("monotonic_ns");
      if (ns == nullptr) return fail("origin needs monotonic_ns=<integer>");
      trace.origin_monotonic_ns = static_cast<std::int64_t>(std::strtoll(ns->c_str(), nullptr, 10));
      continue;
    }
    if (directive == "init_error") {
      double code = 0;
      if (words.size() != 1 || !detail::parse_number(words[0], code)) return fail("init_error <code>");
      trace.init_error = static_cast<unsigned>(code);
      continue;
    }

    double index_value = 0;
    if (words.empty() || !detail::parse_number(words[0], index_value) || index_value < 0 ||
        index_value > 63) {
      return fail(directive + " needs a GPU index 0..63 after it");
    }
    const auto index = static_cast<std::size_t>(index_value);
    if (directive == "gpu") {
      if (index != trace.gpus.size()) return fail("gpu lines must number the GPUs 0, 1, 2 … in order");
      FakeGpu gpu;
      if (const std::string* v = key("name")) gpu.name = *v;
      if (const std::string* v = key("unique_id")) gpu.unique_id = std::strtoull(v->c_str(), nullptr, 0);
      double cap = 0;
      if (number("power_cap_w", cap)) gpu.power_cap_w = cap;
      trace.gpus.push_back(std::move(gpu));
      continue;
    }
    if (index >= trace.gpus.size()) return fail("GPU " + std::to_string(index) + " has no gpu line before");
    FakeGpu& gpu = trace.gpus[index];
    const bool unsupported = words.size() > 1 && words[1] == "unsupported";
    if (directive == "energy_counter") {
      double resolution = 0;
      if (unsupported) {
        gpu.energy_counter_supported = false;
      } else if (number("resolution_uj", resolution) && resolution > 0) {
        gpu.resolution_uj = static_cast<float>(resolution);
      } else {
        return fail("energy_counter <gpu> unsupported | resolution_uj=<µJ>");
      }
    } else if (directive == "power_ave" && unsupported) {
      gpu.power_ave_supported = false;
    } else if (directive == "power") {
      PowerStep step;
      if (!number("at", step.at_s) || !number("watts", step.watts) || step.at_s < 0 || step.watts < 0) {
        return fail("power <gpu> at=<s >= 0> watts=<W >= 0>");
      }
      gpu.power.push_back(step);
      std::stable_sort(gpu.power.begin(), gpu.power.end(),
                       [](const PowerStep& a, const PowerStep& b) { return a.at_s < b.at_s; });
    } else if (directive == "busy") {
      double percent = 0;
      if (!number("percent", percent) || percent < 0 || percent > 100) return fail("busy <gpu> percent=<%>");
      gpu.busy_percent = static_cast<unsigned>(percent);
    } else if (directive == "process") {
      const std::string* comm = key("comm");
      if (comm == nullptr) return fail("process <gpu> comm=<name>");
      gpu.process_comms.push_back(*comm);
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

}  // namespace wattprint::testing::fake_rocm_smi
