// The idle power of this host: what each source (the server, CPU packages, DRAM, GPUs) reads while nothing
// runs. Measured by `wattprint idle` or `run --idle-before`, stored per host in the state directory, or given
// with --idle-watts; the server-minus-idle method subtracts it.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sampling/run_sampler.hpp"

namespace wattprint {

struct IdleBaseline {
  std::string host;
  std::string measured_at;  ///< ISO 8601 UTC; empty for a baseline given as a number
  double duration_s = 0.0;
  std::string how;  ///< "wattprint idle --duration 60", "--idle-before 30", "--idle-watts 156"
  /// Busy CPU time of the machine during the measurement ÷ its length (cores busy; nullopt when unknown).
  std::optional<double> busy_cores;
  std::optional<double> server_w;
  std::string server_source;  ///< origin of the server readings
  std::optional<double> cpu_package_w;
  std::optional<double> dram_w;
  struct Gpu {
    std::string name;
    std::string uuid;
    double watts = 0.0;
  };
  std::vector<Gpu> gpus;
  std::string stored_in;  ///< the file it was read from or written to (empty otherwise)
};

/// The mean power of each source over an idle measurement.
IdleBaseline idle_baseline_from(const RunMeasurement& measurement, const std::string& host,
                                const std::string& measured_at, const std::string& how);

nlohmann::json to_json(const IdleBaseline& baseline);
/// Throws std::runtime_error naming what is wrong.
IdleBaseline idle_baseline_from_json(const nlohmann::json& j);

/// Where `wattprint idle` stores baselines: $WATTPRINT_STATE_DIR, else /var/lib/wattprint for root, else
/// $XDG_STATE_HOME/wattprint, else ~/.local/state/wattprint.
std::filesystem::path default_state_dir();
/// The directories searched for a baseline, in order: the user's state directory, then the system one
/// (/var/lib/wattprint, where an administrator's `wattprint idle` run as root stores it).
std::vector<std::filesystem::path> idle_search_dirs(const std::optional<std::filesystem::path>& state_dir);

/// <dir>/idle/<host>.json
std::filesystem::path idle_baseline_path(const std::filesystem::path& state_dir, const std::string& host);

/// Writes atomically (temporary file, then rename), creating directories. Throws std::runtime_error.
void store_idle_baseline(const IdleBaseline& baseline, const std::filesystem::path& file);
/// The first baseline of `host` in `dirs`; nullopt when none. Throws std::runtime_error for a file that
/// exists but cannot be read or parsed.
std::optional<IdleBaseline> load_idle_baseline(const std::vector<std::filesystem::path>& dirs,
                                               const std::string& host);

}  // namespace wattprint
