// What each way of reading CPU energy without root finds here, and the command that enables it.
#include "sources/perf/cpu_energy_access.hpp"

#include <fmt/format.h>
#include <grp.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <optional>
#include <sstream>
#include <system_error>
#include <vector>

#include "platform/text_file.hpp"

namespace wattprint {

namespace fs = std::filesystem;

namespace {

constexpr const char* kChmodUntilReboot =
    "`sudo chmod a+r /sys/class/powercap/intel-rapl:*/energy_uj "
    "/sys/class/powercap/intel-rapl:*:*/energy_uj`";

/// The effective gid and the supplementary groups of this process, from <proc_root>/self/status.
std::vector<unsigned long> process_groups(const fs::path& proc_root) {
  std::vector<unsigned long> groups;
  const FileText status = read_text_file(proc_root / "self/status");
  if (!status.ok()) return groups;
  std::istringstream lines(status.text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string key;
    fields >> key;
    unsigned long id = 0;
    if (key == "Gid:") {
      unsigned long real = 0;
      if (fields >> real >> id) groups.push_back(id);
    } else if (key == "Groups:") {
      while (fields >> id) groups.push_back(id);
    }
  }
  return groups;
}

std::string group_name(gid_t gid) {
  group entry{};
  group* found = nullptr;
  std::array<char, 4096> buffer{};
  if (::getgrgid_r(gid, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr)
    return found->gr_name;
  return std::to_string(gid);
}

std::string yes_no(std::optional<bool> value) {
  if (!value) return "unknown (status unreadable)";
  return *value ? "yes" : "no";
}

const SensorStatus* first_with_state(const EnergyCounterSource& source, SensorStatus::State state) {
  const auto& statuses = source.statuses();
  const auto it = std::find_if(statuses.begin(), statuses.end(),
                               [state](const SensorStatus& status) { return status.state == state; });
  return it == statuses.end() ? nullptr : &*it;
}

}  // namespace

AccessWay powercap_access(const EnergyCounterSource& powercap, const fs::path& proc_root) {
  AccessWay way{"powercap", "ok", "", ""};
  if (has_package_counter(powercap)) {
    way.detail = fmt::format("energy_uj is readable ({} counters)", powercap.sensors().size());
    return way;
  }
  const SensorStatus* denied = first_with_state(powercap, SensorStatus::State::Unreadable);
  if (denied == nullptr && powercap.statuses().empty()) {
    way.state = "absent";
    way.detail = "no RAPL zone found";
    return way;
  }
  if (denied == nullptr) {
    const SensorStatus& first = powercap.statuses().front();
    way.state = first.state == SensorStatus::State::Absent ? "absent" : "error";
    way.detail = first.reason;
    way.remedy = first.remedy;
    return way;
  }
  way.state = "denied";
  struct stat st {};
  if (::stat(denied->path.c_str(), &st) != 0) {
    way.detail = fmt::format("{} cannot be read", denied->path);
    way.remedy = kChmodUntilReboot;
    return way;
  }
  const std::string group = group_name(st.st_gid);
  const bool group_readable = (st.st_mode & S_IRGRP) != 0;
  const auto groups = process_groups(proc_root);
  const bool member = std::find(groups.begin(), groups.end(), st.st_gid) != groups.end();
  way.detail = fmt::format("{} is mode {:04o}, group {}: {}", denied->path, st.st_mode & 07777U, group,
                           !group_readable ? "its group cannot read it either"
                           : member        ? "its group may read it and you are in that group"
                                           : "its group may read it, and you are not in that group");
  way.remedy =
      group_readable && !member
          ? fmt::format("`sudo usermod -aG {} $USER`, then log in again", group)
          : fmt::format("install the rules (row `rules`), or for every user until the next reboot {}",
                        kChmodUntilReboot);
  return way;
}

AccessWay perf_access(const PerfPowerSource& perf, const fs::path& proc_root) {
  AccessWay way{"perf", "ok", "", ""};
  if (!perf.pmu_present() || perf.statuses().empty()) {
    way.state = "absent";
    way.detail = perf.statuses().empty() ? "no perf power PMU" : perf.statuses().front().reason;
    return way;
  }
  const auto paranoid = read_perf_event_paranoid(proc_root);
  std::string opening;
  if (has_package_counter(perf)) {
    opening = fmt::format("works ({} counters)", perf.sensors().size());
  } else if (first_with_state(perf, SensorStatus::State::Unreadable) != nullptr) {
    way.state = "denied";
    opening = "denied";
    way.remedy = kPerfPermissionRemedy;
    if (paranoid && *paranoid >= 3) {
      way.detail = "level 3 and above (Debian's and Ubuntu's kernel patch) refuse unprivileged users; ";
    }
  } else {
    way.state = "error";
    const SensorStatus* failed = first_with_state(perf, SensorStatus::State::Error);
    if (failed == nullptr) failed = &perf.statuses().front();
    opening = fmt::format("failed ({}: {})", failed->name, failed->reason);
  }
  way.detail = fmt::format(
      "PMU present; kernel.perf_event_paranoid {}; CAP_PERFMON in the effective set: {}; {}"
      "opening: {}",
      paranoid ? std::to_string(*paranoid) : "unreadable",
      yes_no(has_effective_capability(proc_root, kCapPerfmon)), way.detail, opening);
  return way;
}

AccessWay rules_access(const AccessProbeOptions& options) {
  AccessWay way{"rules", "not installed", "", ""};
  const fs::path udev = options.udev_rules_dir / kUdevRuleFile;
  const fs::path tmpfiles = options.tmpfiles_dir / kTmpfilesFile;
  std::error_code ec;
  const bool has_udev = fs::exists(udev, ec);
  const bool has_tmpfiles = fs::exists(tmpfiles, ec);
  if (has_udev || has_tmpfiles) {
    way.state = "installed";
    way.detail = fmt::format("{}{}{} (group {} may read energy_uj)", has_udev ? udev.string() : "",
                             has_udev && has_tmpfiles ? " and " : "", has_tmpfiles ? tmpfiles.string() : "",
                             kAccessGroup);
    way.remedy = fmt::format("to be covered: `sudo usermod -aG {} $USER`, then log in again", kAccessGroup);
    return way;
  }
  way.detail = fmt::format("neither {} nor {} exists", udev.string(), tmpfiles.string());
  way.remedy = fmt::format(
      "from the source tree: `sudo groupadd -f {0} && sudo install -m 0644 packaging/{1} {2}/ && sudo "
      "udevadm "
      "trigger --subsystem-match=powercap --action=add && sudo usermod -aG {0} $USER` (or the tmpfiles.d "
      "rule: "
      "`sudo install -m 0644 packaging/{3} {4}/ && sudo systemd-tmpfiles --create {4}/{3}`); see "
      "docs/permissions.md",
      kAccessGroup, kUdevRuleFile, options.udev_rules_dir.string(), kTmpfilesFile,
      options.tmpfiles_dir.string());
  return way;
}

}  // namespace wattprint
