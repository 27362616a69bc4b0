// Whole-server power from the ACPI 4.0 power meter (hwmon driver acpi_power_meter, name "power_meter"):
// power1_average in µW over power1_average_interval ms, usually measured at the power supplies.
#pragma once

#include <filesystem>

#include "platform/text_file.hpp"
#include "sources/server/server_power_source.hpp"

namespace wattprint {

/// Finds the first hwmon directory under <sysfs_root>/class/hwmon named power_meter whose power1_average
/// (in the directory itself or, for old drivers, in its device/ subdirectory) can be read.
OpenedServerSource open_acpi_power_meter(const std::filesystem::path& sysfs_root);

/// Reads power1_average (µW) and power1_average_interval (ms) of one power meter directory.
class AcpiPowerMeterSource final : public ServerPowerSource {
 public:
  explicit AcpiPowerMeterSource(const std::filesystem::path& attribute_dir);
  [[nodiscard]] const std::string& family() const override { return family_; }
  [[nodiscard]] const std::string& origin() const override { return origin_; }
  ServerRead read() noexcept override;

 private:
  std::string family_ = "acpi-power-meter";
  std::string origin_;
  CounterFile average_;   ///< power1_average, µW
  CounterFile interval_;  ///< power1_average_interval, ms (optional)
};

}  // namespace wattprint
