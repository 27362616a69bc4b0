// Idle baselines: mean power per source from a measurement, JSON storage per host, lookup.
#include "idle/idle_baseline.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace wattprint {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
constexpr int kIdleSchemaVersion = 1;

std::optional<double> mean_watts(Joules energy, double duration_s) {
  if (duration_s <= 0.0) return std::nullopt;
  return energy.value / duration_s;
}

json number_or_null(const std::optional<double>& value) { return value ? json(*value) : json(nullptr); }

std::optional<double> optional_number(const json& j, const char* key) {
  if (!j.contains(key) || j.at(key).is_null()) return std::nullopt;
  if (!j.at(key).is_number()) throw std::runtime_error(fmt::format("'{}' is not a number", key));
  return j.at(key).get<double>();
}

std::string optional_string(const json& j, const char* key) {
  if (!j.contains(key) || j.at(key).is_null()) return {};
  if (!j.at(key).is_string()) throw std::runtime_error(fmt::format("'{}' is not a string", key));
  return j.at(key).get<std::string>();
}

/// Host names become file names: anything but letters, digits, '.', '-' and '_' is replaced.
std::string file_name_for(const std::string& host) {
  std::string name = host.empty() ? "unknown-host" : host;
  for (char& c : name) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '-' || c == '_';
    if (!keep) c = '_';
  }
  if (name.front() == '.') name.front() = '_';
  return name;
}
}  // namespace

IdleBaseline idle_baseline_from(const RunMeasurement& m, const std::string& host,
                                const std::string& measured_at, const std::string& how) {
  IdleBaseline b;
  b.host = host;
  b.measured_at = measured_at;
  b.duration_s = m.duration_s;
  b.how = how;
  if (m.duration_s > 0.0 && m.intervals > 0) b.busy_cores = m.machine_busy_s / m.duration_s;
  if (m.server && m.server->energy) {
    b.server_w = mean_watts(*m.server->energy, m.duration_s);
    b.server_source = m.server->origin;
  }
  if (m.have_package) b.cpu_package_w = mean_watts(m.package, m.duration_s);
  if (m.have_dram) b.dram_w = mean_watts(m.dram, m.duration_s);
  for (const GpuEnergy& gpu : m.gpus) {
    if (auto watts = mean_watts(gpu.energy, m.duration_s))
      b.gpus.push_back({gpu.device.name, gpu.device.uuid, *watts});
  }
  return b;
}

json to_json(const IdleBaseline& b) {
  json gpus = json::array();
  for (const auto& gpu : b.gpus)
    gpus.push_back({{"name", gpu.name}, {"uuid", gpu.uuid}, {"watts", gpu.watts}});
  return {{"schema_version", kIdleSchemaVersion},
          {"host", b.host},
          {"measured_at", b.measured_at.empty() ? json(nullptr) : json(b.measured_at)},
          {"duration_s", b.duration_s},
          {"how", b.how},
          {"busy_cores", number_or_null(b.busy_cores)},
          {"server_w", number_or_null(b.server_w)},
          {"server_source", b.server_source.empty() ? json(nullptr) : json(b.server_source)},
          {"cpu_package_w", number_or_null(b.cpu_package_w)},
          {"dram_w", number_or_null(b.dram_w)},
          {"gpus", gpus}};
}

IdleBaseline idle_baseline_from_json(const json& j) {
  if (!j.is_object()) throw std::runtime_error("not a JSON object");
  if (!j.contains("schema_version") || j.at("schema_version") != kIdleSchemaVersion) {
    throw std::runtime_error(
        fmt::format("unsupported schema_version (this wattprint reads {})", kIdleSchemaVersion));
  }
  IdleBaseline b;
  b.host = optional_string(j, "host");
  b.measured_at = optional_string(j, "measured_at");
  b.duration_s = optional_number(j, "duration_s").value_or(0.0);
  b.how = optional_string(j, "how");
  b.busy_cores = optional_number(j, "busy_cores");
  b.server_w = optional_number(j, "server_w");
  b.server_source = optional_string(j, "server_source");
  b.cpu_package_w = optional_number(j, "cpu_package_w");
  b.dram_w = optional_number(j, "dram_w");
  if (j.contains("gpus") && j.at("gpus").is_array()) {
    for (const json& gpu : j.at("gpus")) {
      if (!gpu.is_object()) throw std::runtime_error("'gpus' holds something that is not an object");
      b.gpus.push_back({optional_string(gpu, "name"), optional_string(gpu, "uuid"),
                        optional_number(gpu, "watts").value_or(0.0)});
    }
  }
  for (const auto& w : {b.server_w, b.cpu_package_w, b.dram_w}) {
    if (w && *w < 0.0) throw std::runtime_error("a negative power");
  }
  return b;
}

fs::path default_state_dir() {
  if (const char* dir = std::getenv("WATTPRINT_STATE_DIR"); dir != nullptr && *dir != '\0') return dir;
  if (::geteuid() == 0) return "/var/lib/wattprint";
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg != nullptr && *xdg == '/')
    return fs::path(xdg) / "wattprint";
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return fs::path(home) / ".local" / "state" / "wattprint";
  }
  return "/var/lib/wattprint";
}

std::vector<fs::path> idle_search_dirs(const std::optional<fs::path>& state_dir) {
  if (state_dir) return {*state_dir};
  std::vector<fs::path> dirs{default_state_dir()};
  if (dirs.front() != "/var/lib/wattprint") dirs.emplace_back("/var/lib/wattprint");
  return dirs;
}

fs::path idle_baseline_path(const fs::path& state_dir, const std::string& host) {
  return state_dir / "idle" / (file_name_for(host) + ".json");
}

void store_idle_baseline(const IdleBaseline& baseline, const fs::path& file) {
  std::error_code ec;
  if (!file.parent_path().empty()) fs::create_directories(file.parent_path(), ec);
  if (ec)
    throw std::runtime_error(fmt::format("cannot create {}: {}", file.parent_path().string(), ec.message()));
  const fs::path temporary = file.string() + fmt::format(".tmp.{}", ::getpid());
  {
    std::ofstream out(temporary);
    out << to_json(baseline).dump(2) << '\n';
    out.flush();
    if (!out) {
      fs::remove(temporary, ec);
      throw std::runtime_error(fmt::format("cannot write {}", temporary.string()));
    }
  }
  fs::rename(temporary, file, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw std::runtime_error(fmt::format("cannot write {}: {}", file.string(), ec.message()));
  }
}

std::optional<IdleBaseline> load_idle_baseline(const std::vector<fs::path>& dirs, const std::string& host) {
  for (const fs::path& dir : dirs) {
    const fs::path file = idle_baseline_path(dir, host);
    std::error_code ec;
    if (!fs::exists(file, ec)) continue;
    std::ifstream in(file);
    if (!in) throw std::runtime_error(fmt::format("{}: cannot read", file.string()));
    std::stringstream text;
    text << in.rdbuf();
    try {
      IdleBaseline baseline = idle_baseline_from_json(json::parse(text.str()));
      baseline.stored_in = file.string();
      return baseline;
    } catch (const std::exception& e) {
      throw std::runtime_error(
          fmt::format("{}: not a wattprint idle baseline ({}); measure it again with "
                      "`wattprint idle`",
                      file.string(), e.what()));
    }
  }
  return std::nullopt;
}

}  // namespace wattprint
