// RAPL zone discovery and counter reads over powercap sysfs: energy_uj (µJ, wraps at max_energy_range_uj).
#include "sources/rapl/powercap_rapl.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace wattprint {

namespace fs = std::filesystem;

std::vector<unsigned> parse_rapl_zone_indices(std::string_view directory_name) {
  constexpr std::string_view kPrefix = "intel-rapl:";
  if (directory_name.substr(0, kPrefix.size()) != kPrefix) return {};
  std::vector<unsigned> indices;
  std::string_view rest = directory_name.substr(kPrefix.size());
  while (true) {
    const auto colon = rest.find(':');
    const std::string_view part = rest.substr(0, colon);
    if (part.empty() || part.size() > 4) return {};
    unsigned value = 0;
    for (const char c : part) {
      unsigned digit = 0;
      if (c >= '0' && c <= '9') {
        digit = static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        digit = static_cast<unsigned>(c - 'a') + 10U;
      } else {
        return {};
      }
      value = value * 16U + digit;
    }
    indices.push_back(value);
    if (colon == std::string_view::npos) break;
    rest = rest.substr(colon + 1);
  }
  if (indices.size() > 2) return {};
  return indices;
}

namespace {

struct ZoneDir {
  std::vector<unsigned> indices;
  fs::path path;
  std::string directory_name;
};

std::string read_trimmed(const fs::path& path) {
  const FileText file = read_text_file(path);
  return file.ok() ? std::string(trim(file.text)) : std::string();
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

std::optional<Component> classify(std::string_view zone_name, bool top_level) {
  if (top_level) {
    if (starts_with(zone_name, "package-")) return Component::CpuPackage;
    if (starts_with(zone_name, "psys")) return Component::Psys;
    if (zone_name == "dram") return Component::Dram;
    return std::nullopt;
  }
  if (zone_name == "dram") return Component::Dram;
  if (zone_name == "core") return Component::CpuCore;
  if (zone_name == "uncore") return Component::Uncore;
  return std::nullopt;
}

std::optional<Watts> max_power_of(const fs::path& zone) {
  std::optional<Watts> best;
  for (int i = 0; i < 8; ++i) {
    const FileText file = read_text_file(zone / fmt::format("constraint_{}_max_power_uw", i));
    if (!file.ok()) continue;
    const auto microwatts = parse_first_u64(file.text);
    if (!microwatts || *microwatts == 0) continue;
    const Watts w{static_cast<double>(*microwatts) * 1e-6};
    if (!best || w.value > best->value) best = w;
  }
  return best;
}

constexpr const char* kPermissionRemedy =
    "run wattprint as root, or let users read the counters: `sudo chmod a+r "
    "/sys/class/powercap/intel-rapl:*/energy_uj /sys/class/powercap/intel-rapl:*:*/energy_uj` (until "
    "reboot) or the udev rule in docs/permissions.md";

}  // namespace

PowercapRaplSource::PowercapRaplSource(const fs::path& sysfs_root) {
  const fs::path class_dir = sysfs_root / "class" / "powercap";
  std::error_code ec;
  if (!fs::is_directory(class_dir, ec)) {
    statuses_.push_back(
        {"rapl", SensorStatus::State::Absent, class_dir.string(),
         "no powercap directory: this kernel exposes no RAPL counters here (virtual machine, "
         "non-x86 CPU, or /sys not mounted)",
         "on bare metal load the driver (`sudo modprobe intel_rapl_msr`); in a container mount "
         "the host's /sys and pass --sysfs-root"});
    return;
  }

  std::vector<ZoneDir> zones;
  for (const auto& entry : fs::directory_iterator(class_dir, ec)) {
    const std::string dir_name = entry.path().filename().string();
    auto indices = parse_rapl_zone_indices(dir_name);
    if (indices.empty()) continue;  // control types, intel-rapl-mmio (a mirror of package-0), others
    zones.push_back({std::move(indices), entry.path(), dir_name});
  }
  std::sort(zones.begin(), zones.end(),
            [](const ZoneDir& a, const ZoneDir& b) { return a.indices < b.indices; });

  if (zones.empty()) {
    statuses_.push_back({"rapl", SensorStatus::State::Absent, class_dir.string(),
                         "powercap has no intel-rapl zones (RAPL driver not loaded, or CPU not supported)",
                         "`sudo modprobe intel_rapl_msr` (Intel; AMD needs Linux 5.11 or later)"});
    return;
  }

  for (const ZoneDir& zone : zones) {
    const bool top_level = zone.indices.size() == 1;
    const std::string zone_name = read_trimmed(zone.path / "name");
    std::string sensor_name;
    if (top_level) {
      sensor_name = "rapl." + zone_name;
    } else {
      // A subzone is named after its parent package: rapl.package-0.dram
      const fs::path parent = class_dir / fmt::format("intel-rapl:{:x}", zone.indices[0]);
      sensor_name = "rapl." + read_trimmed(parent / "name") + "." + zone_name;
    }
    const fs::path energy_path = zone.path / "energy_uj";
    const auto component = classify(zone_name, top_level);
    if (!component) {
      statuses_.push_back({sensor_name, SensorStatus::State::Error, zone.path.string(),
                           fmt::format("unknown zone name '{}' in {}", zone_name, zone.directory_name), ""});
      continue;
    }
    const auto range = parse_first_u64(read_text_file(zone.path / "max_energy_range_uj").text);
    if (!range || *range == 0) {
      statuses_.push_back(
          {sensor_name, SensorStatus::State::Error, zone.path.string(),
           "max_energy_range_uj is missing or not a number, so counter wraps cannot be handled", ""});
      continue;
    }
    CounterFile file(energy_path);
    std::uint64_t first = 0;
    const int error = file.is_open() ? file.read_u64(first) : file.open_error();
    if (error == EACCES || error == EPERM) {
      statuses_.push_back({sensor_name, SensorStatus::State::Unreadable, energy_path.string(),
                           "energy_uj is readable by root only (since Linux 5.10, CVE-2020-8694)",
                           kPermissionRemedy});
      continue;
    }
    if (error != 0) {
      statuses_.push_back(
          {sensor_name, SensorStatus::State::Error, energy_path.string(),
           fmt::format("cannot read energy_uj: {}", error == EBADMSG ? "not a number" : std::strerror(error)),
           ""});
      continue;
    }
    SensorInfo info;
    info.name = sensor_name;
    info.family = "rapl";
    info.component = *component;
    info.origin = energy_path.string();
    info.counter_max = *range;
    info.joules_per_raw_unit = 1e-6;
    info.max_power = max_power_of(zone.path);
    sensors_.push_back(std::move(info));
    files_.push_back(std::move(file));
    statuses_.push_back({sensor_name, SensorStatus::State::Ok, energy_path.string(), "", ""});
  }
}

void PowercapRaplSource::read(std::vector<std::uint64_t>& raw, std::vector<int>& errors) noexcept {
  for (std::size_t i = 0; i < files_.size(); ++i) errors[i] = files_[i].read_u64(raw[i]);
}

}  // namespace wattprint
