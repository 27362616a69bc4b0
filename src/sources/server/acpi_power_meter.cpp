// ACPI power meter discovery under /sys/class/hwmon and its readings, converted to watts and seconds.
#include "sources/server/acpi_power_meter.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <vector>

namespace wattprint {

namespace fs = std::filesystem;

namespace {
constexpr double kWattsPerMicrowatt = 1e-6;
constexpr double kSecondsPerMillisecond = 1e-3;

std::string read_trimmed(const fs::path& path) {
  const FileText file = read_text_file(path);
  return file.ok() ? std::string(trim(file.text)) : std::string();
}
}  // namespace

AcpiPowerMeterSource::AcpiPowerMeterSource(const fs::path& attribute_dir)
    : origin_(fmt::format("ACPI power meter {} (power1_average, µW)",
                          (attribute_dir / "power1_average").string())),
      average_(attribute_dir / "power1_average"),
      interval_(attribute_dir / "power1_average_interval") {}

ServerRead AcpiPowerMeterSource::read() noexcept {
  ServerRead result;
  std::uint64_t microwatts = 0;
  if (const int error = average_.read_u64(microwatts); error != 0) {
    result.error = error == ENODATA ? "power1_average: no data (the meter is not measuring)"
                                    : fmt::format("power1_average: {}", std::strerror(error));
    return result;
  }
  if (microwatts == 0) {
    result.error = "power1_average: 0 W (the meter is not measuring)";
    return result;
  }
  std::uint64_t milliseconds = 0;
  const bool have_interval = interval_.is_open() && interval_.read_u64(milliseconds) == 0;
  result.reading = ServerPowerReading{
      Watts{static_cast<double>(microwatts) * kWattsPerMicrowatt},
      Seconds(have_interval ? static_cast<double>(milliseconds) * kSecondsPerMillisecond : 0.0)};
  return result;
}

OpenedServerSource open_acpi_power_meter(const fs::path& sysfs_root) {
  OpenedServerSource opened;
  opened.status.name = "acpi-power-meter";
  const fs::path hwmon_root = sysfs_root / "class" / "hwmon";
  opened.status.path = hwmon_root.string();
  std::vector<fs::path> meters;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(hwmon_root, ec)) {
    if (read_trimmed(entry.path() / "name") == "power_meter") meters.push_back(entry.path());
  }
  std::sort(meters.begin(), meters.end());
  if (meters.empty()) {
    opened.status.state = SensorStatus::State::Absent;
    opened.status.reason =
        "no hwmon device named power_meter (the firmware has no ACPI power meter, or the "
        "acpi_power_meter module is not loaded)";
    opened.status.remedy = "modprobe acpi_power_meter";
    return opened;
  }
  std::string last_error;
  for (const fs::path& meter : meters) {
    for (const fs::path& dir : {meter, meter / "device"}) {
      if (!fs::exists(dir / "power1_average", ec)) continue;
      auto source = std::make_unique<AcpiPowerMeterSource>(dir);
      const ServerRead first = source->read();
      opened.status.path = (dir / "power1_average").string();
      if (first.reading) {
        opened.status.state = SensorStatus::State::Ok;
        opened.source = std::move(source);
        return opened;
      }
      last_error = first.error;
    }
  }
  opened.status.state = SensorStatus::State::Unreadable;
  opened.status.reason = last_error.empty() ? "the power meter has no power1_average" : last_error;
  if (last_error.find("ermission") != std::string::npos) {
    opened.status.remedy = "run as root, or see docs/permissions.md";
  }
  return opened;
}

}  // namespace wattprint
