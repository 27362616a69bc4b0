// TOML configuration parsing with toml++; every error names the file and line.
#include "config/config_file.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <cstdlib>
#include <system_error>

#include "core/error.hpp"

namespace wattprint {

namespace fs = std::filesystem;

std::vector<fs::path> default_config_files() {
  std::vector<fs::path> files{"/etc/wattprint/config.toml"};
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && *xdg != '\0') {
    files.emplace_back(fs::path(xdg) / "wattprint" / "config.toml");
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    files.emplace_back(fs::path(home) / ".config" / "wattprint" / "config.toml");
  }
  return files;
}

namespace {

[[noreturn]] void fail(const fs::path& file, const toml::source_region& where, const std::string& what) {
  throw ConfigError(fmt::format("{}:{}:{}: {}", file.string(), where.begin.line, where.begin.column, what));
}

double number_of(const fs::path& file, const toml::node& node, std::string_view key) {
  if (const auto value = node.value<double>()) return *value;
  fail(file, node.source(), fmt::format("'{}' must be a number", key));
}

std::string string_of(const fs::path& file, const toml::node& node, std::string_view key) {
  if (const auto value = node.value<std::string>()) return *value;
  fail(file, node.source(), fmt::format("'{}' must be a string", key));
}

void apply(const fs::path& file, const toml::table& table, ConfigValues& out) {
  for (const auto& [key_node, node] : table) {
    const std::string key(key_node.str());
    const auto& where = node.source();
    if (key == "pue") {
      const double v = number_of(file, node, key);
      if (v < 1.0) fail(file, where, fmt::format("'pue' must be 1.0 or more (got {})", v));
      out.pue = v;
    } else if (key == "carbon_intensity") {
      if (node.is_number()) {
        const double v = number_of(file, node, key);
        if (v < 0.0) fail(file, where, "'carbon_intensity' must be 0 or more gCO2e/kWh");
        out.carbon_intensity = fmt::format("{}", v);
      } else {
        out.carbon_intensity = string_of(file, node, key);
      }
    } else if (key == "country") {
      out.country = string_of(file, node, key);
    } else if (key == "interval") {
      const double v = number_of(file, node, key);
      if (!(v >= 0.001 && v <= 86400.0))
        fail(file, where, "'interval' must be between 0.001 and 86400 seconds");
      out.interval_s = v;
    } else if (key == "sysfs_root") {
      out.sysfs_root = string_of(file, node, key);
    } else if (key == "cpu") {
      out.cpu = string_of(file, node, key);
    } else if (key == "cpu_tdp") {
      const double v = number_of(file, node, key);
      if (!(v > 0.0)) fail(file, where, "'cpu_tdp' must be more than 0 W");
      out.cpu_tdp_w = v;
    } else if (key == "memory_gb") {
      const double v = number_of(file, node, key);
      if (v < 0.0) fail(file, where, "'memory_gb' must be 0 or more");
      out.memory_gb = v;
    } else {
      fail(file, key_node.source(),
           fmt::format("unknown key '{}' (known: pue, carbon_intensity, country, interval, sysfs_root, cpu, "
                       "cpu_tdp, memory_gb)",
                       key));
    }
    out.origin[key] = file.string();
  }
}

}  // namespace

ConfigValues load_config(const std::vector<fs::path>& files, const std::optional<fs::path>& required) {
  ConfigValues values;
  std::vector<fs::path> all = files;
  if (required) all.push_back(*required);
  for (const fs::path& file : all) {
    std::error_code ec;
    if (!fs::exists(file, ec)) {
      if (required && file == *required) {
        throw ConfigError(fmt::format("{}: no such configuration file", file.string()));
      }
      continue;
    }
    toml::table table;
    try {
      table = toml::parse_file(file.string());
    } catch (const toml::parse_error& e) {
      fail(file, e.source(), std::string(e.description()));
    }
    apply(file, table, values);
    values.files_read.push_back(file.string());
  }
  return values;
}

}  // namespace wattprint
