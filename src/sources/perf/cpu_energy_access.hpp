// The ways an unprivileged user can read CPU energy, and their state here, for `wattprint sensors`.
#pragma once

#include <filesystem>
#include <string>

#include "sources/perf/perf_power_source.hpp"
#include "sources/sensor.hpp"

namespace wattprint {

/// One way of reading CPU energy without root, as `wattprint sensors` shows it.
struct AccessWay {
  std::string name;    ///< "powercap", "perf", "rules"
  std::string state;   ///< "ok", "denied", "absent", "error", "installed", "not installed"
  std::string detail;  ///< what was found here
  std::string remedy;  ///< the exact command(s), empty when nothing is to be done
};

/// Every path looked at, injectable for tests.
struct AccessProbeOptions {
  std::filesystem::path sysfs_root = "/sys";
  std::filesystem::path proc_root = "/proc";
  std::filesystem::path udev_rules_dir = "/etc/udev/rules.d";
  std::filesystem::path tmpfiles_dir = "/etc/tmpfiles.d";
};

/// The packaged rules (packaging/ in the source tree).
inline constexpr const char* kUdevRuleFile = "70-wattprint-powercap.rules";
inline constexpr const char* kTmpfilesFile = "wattprint-powercap.conf";
inline constexpr const char* kAccessGroup = "wattprint";

/// (a) Reading powercap's energy_uj directly: ok or denied, and for a denied file whether its group may
/// read it and whether this process is in that group (<proc_root>/self/status Gid and Groups).
AccessWay powercap_access(const EnergyCounterSource& powercap, const std::filesystem::path& proc_root);

/// (b) The perf power PMU: present, kernel.perf_event_paranoid, CAP_PERFMON in the effective set, and
/// whether opening the counters worked.
AccessWay perf_access(const PerfPowerSource& perf, const std::filesystem::path& proc_root);

/// (d) The udev and tmpfiles.d rules that give group wattprint read access to energy_uj: installed or not.
AccessWay rules_access(const AccessProbeOptions& options);

}  // namespace wattprint
