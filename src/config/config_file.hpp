// The TOML configuration: /etc/wattprint/config.toml, then the user's, then --config; flags win over all.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wattprint {

/// Settings a configuration file may hold. Each value remembers the file it came from.
struct ConfigValues {
  std::optional<double> pue;
  std::optional<std::string> carbon_intensity;  ///< number or named figure, kept as text
  std::optional<std::string> country;
  std::optional<double> interval_s;
  std::optional<std::string> sysfs_root;
  std::optional<std::string> cpu;
  std::optional<double> cpu_tdp_w;
  std::optional<double> memory_gb;
  // Whole-server power and the idle baseline (the same names as the flags, with '_').
  std::optional<std::string> server_source;
  std::optional<double> server_interval_s;
  std::optional<double> server_timeout_s;
  std::optional<std::string> ipmi_host;
  std::optional<std::string> ipmi_user;
  std::optional<std::string> ipmi_password_file;
  std::optional<double> ipmi_cipher_suite;
  std::optional<std::string> ipmi_privilege;
  std::optional<std::string> ipmi_device;
  std::optional<std::string> redfish_url;
  std::optional<std::string> redfish_user;
  std::optional<std::string> redfish_password_file;
  std::optional<std::string> redfish_ca;
  std::optional<double> idle_watts;
  std::optional<std::string> state_dir;
  // Run history: `store = "PATH"` (a database file) or `store = false` (keep no history); `[tags]` are
  // added to every run (flags win for the same key).
  std::optional<std::string> store_path;
  std::optional<bool> store_enabled;
  // The run journal (docs/recovery.md): `journal = "DIR"` or `journal = false` (keep none).
  std::optional<std::string> journal_dir;
  std::optional<bool> journal_enabled;
  std::map<std::string, std::string> tags;
  std::vector<std::string> files_read;
  std::map<std::string, std::string> origin;  ///< key → file that set it
};

/// Parses the TOML text of one configuration file (`source` names it in errors) into `values`, over what
/// earlier files set. Throws ConfigError as load_config does. load_config reads each file and calls this.
void parse_config_text(std::string_view text, const std::filesystem::path& source, ConfigValues& values);

/// /etc/wattprint/config.toml, then $XDG_CONFIG_HOME/wattprint/config.toml (or ~/.config/…).
std::vector<std::filesystem::path> default_config_files();

/// Reads the files in order (missing ones are skipped unless `required`); later files override earlier
/// ones. Throws ConfigError "FILE:LINE:COLUMN: what is wrong" for a syntax error, an unknown key or a
/// value of the wrong type or range.
ConfigValues load_config(const std::vector<std::filesystem::path>& files,
                         const std::optional<std::filesystem::path>& required = std::nullopt);

}  // namespace wattprint
