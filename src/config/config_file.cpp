// TOML configuration parsing with toml++; every error names the file and line.
#include "config/config_file.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string_view>
#include <system_error>
#include <utility>

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

/// Keys whose value is a plain string, and where it goes.
using StringKey = std::pair<const char*, std::optional<std::string> ConfigValues::*>;
constexpr StringKey kStringKeys[] = {
    {"country", &ConfigValues::country},
    {"sysfs_root", &ConfigValues::sysfs_root},
    {"cpu", &ConfigValues::cpu},
    {"server_source", &ConfigValues::server_source},
    {"ipmi_host", &ConfigValues::ipmi_host},
    {"ipmi_user", &ConfigValues::ipmi_user},
    {"ipmi_password_file", &ConfigValues::ipmi_password_file},
    {"ipmi_privilege", &ConfigValues::ipmi_privilege},
    {"ipmi_device", &ConfigValues::ipmi_device},
    {"redfish_url", &ConfigValues::redfish_url},
    {"redfish_user", &ConfigValues::redfish_user},
    {"redfish_password_file", &ConfigValues::redfish_password_file},
    {"redfish_ca", &ConfigValues::redfish_ca},
    {"state_dir", &ConfigValues::state_dir},
};

void apply(const fs::path& file, const toml::table& table, ConfigValues& out) {
  for (const auto& [key_node, node] : table) {
    const std::string key(key_node.str());
    const auto& where = node.source();
    const auto* string_key = std::find_if(std::begin(kStringKeys), std::end(kStringKeys),
                                          [&](const StringKey& k) { return key == k.first; });
    if (string_key != std::end(kStringKeys)) {
      out.*(string_key->second) = string_of(file, node, key);
    } else if (key == "server_interval") {
      const double v = number_of(file, node, key);
      if (!(v >= 0.1 && v <= 3600.0))
        fail(file, where, "'server_interval' must be between 0.1 and 3600 seconds");
      out.server_interval_s = v;
    } else if (key == "server_timeout") {
      const double v = number_of(file, node, key);
      if (!(v >= 0.1 && v <= 600.0))
        fail(file, where, "'server_timeout' must be between 0.1 and 600 seconds");
      out.server_timeout_s = v;
    } else if (key == "ipmi_password" || key == "redfish_password") {
      fail(file, key_node.source(),
           fmt::format(
               "'{}': passwords are not kept in the configuration; put the password in a file readable "
               "by you only and give '{}_file'",
               key, key));
    } else if (key == "ipmi_cipher_suite") {
      const double v = number_of(file, node, key);
      if (!(v >= 0.0 && v <= 17.0) || v != static_cast<double>(static_cast<int>(v))) {
        fail(file, where, "'ipmi_cipher_suite' must be a whole number from 0 to 17");
      }
      out.ipmi_cipher_suite = v;
    } else if (key == "idle_watts") {
      const double v = number_of(file, node, key);
      if (v < 0.0) fail(file, where, "'idle_watts' must be 0 W or more");
      out.idle_watts = v;
    } else if (key == "pue") {
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
    } else if (key == "interval") {
      const double v = number_of(file, node, key);
      if (!(v >= 0.001 && v <= 86400.0))
        fail(file, where, "'interval' must be between 0.001 and 86400 seconds");
      out.interval_s = v;
    } else if (key == "cpu_tdp") {
      const double v = number_of(file, node, key);
      if (!(v > 0.0)) fail(file, where, "'cpu_tdp' must be more than 0 W");
      out.cpu_tdp_w = v;
    } else if (key == "store") {
      if (const auto enabled = node.value<bool>()) {
        if (*enabled) fail(file, where, "'store' is a database path or false (true is the default)");
        out.store_enabled = false;
      } else {
        const std::string path = string_of(file, node, key);
        if (path.empty()) fail(file, where, "'store' must be a database path or false");
        out.store_path = path;
        out.store_enabled = true;
      }
    } else if (key == "journal") {
      const auto enabled = node.value<bool>();
      if (enabled && *enabled) fail(file, where, "'journal' is a directory or false (true is the default)");
      out.journal_enabled = enabled.has_value() ? false : true;
      if (!enabled) out.journal_dir = string_of(file, node, key);
      if (out.journal_dir && out.journal_dir->empty())
        fail(file, where, "'journal' must be a directory or false");
    } else if (key == "tags") {
      const toml::table* tags = node.as_table();
      if (tags == nullptr) fail(file, where, "'tags' must be a table: [tags] then key = \"value\" lines");
      for (const auto& [tag_key, tag_value] : *tags) {
        const std::string name(tag_key.str());
        if (name.empty() || name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                   "0123456789_.:-") != std::string::npos) {
          fail(file, tag_key.source(),
               fmt::format("tag '{}': a tag name is letters, digits and _ . : - only", name));
        }
        out.tags[name] = string_of(file, tag_value, "tags." + name);
      }
    } else if (key == "memory_gb") {
      const double v = number_of(file, node, key);
      if (v < 0.0) fail(file, where, "'memory_gb' must be 0 or more");
      out.memory_gb = v;
    } else {
      fail(file, key_node.source(),
           fmt::format(
               "unknown key '{}' (known: pue, carbon_intensity, country, interval, sysfs_root, cpu, "
               "cpu_tdp, memory_gb, server_source, server_interval, server_timeout, ipmi_host, ipmi_user, "
               "ipmi_password_file, ipmi_cipher_suite, ipmi_privilege, ipmi_device, redfish_url, "
               "redfish_user, redfish_password_file, redfish_ca, idle_watts, state_dir, store, [tags])",
               key));
    }
    out.origin[key] = file.string();
  }
}

}  // namespace

void parse_config_text(std::string_view text, const fs::path& source, ConfigValues& values) {
  toml::table table;
  try {
    table = toml::parse(text, source.string());
  } catch (const toml::parse_error& e) {
    fail(source, e.source(), std::string(e.description()));
  }
  apply(source, table, values);
}

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
    std::ifstream in(file, std::ios::binary);
    std::ostringstream content;
    if (in) content << in.rdbuf();
    if (!in || in.bad()) {
      throw ConfigError(fmt::format("{}: cannot read the configuration file: {} (check its permissions)",
                                    file.string(), std::strerror(errno)));
    }
    parse_config_text(content.str(), file, values);
    values.files_read.push_back(file.string());
  }
  return values;
}

}  // namespace wattprint
