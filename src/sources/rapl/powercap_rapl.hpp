// RAPL energy counters through the Linux powercap sysfs tree (<sysfs>/class/powercap/intel-rapl:*), in µJ.
#pragma once

#include <filesystem>
#include <vector>

#include "platform/text_file.hpp"
#include "sources/sensor.hpp"

namespace wattprint {

/// Discovers every RAPL zone under `sysfs_root`/class/powercap (package, dram, core, uncore, psys),
/// skipping intel-rapl-mmio (a mirror of package-0). Zone indices are hexadecimal. Zones are
/// identified by their `name` file and parent/child relation, never by index arithmetic.
class PowercapRaplSource final : public EnergyCounterSource {
 public:
  explicit PowercapRaplSource(const std::filesystem::path& sysfs_root);

  [[nodiscard]] const std::vector<SensorStatus>& statuses() const override { return statuses_; }
  [[nodiscard]] const std::vector<SensorInfo>& sensors() const override { return sensors_; }
  void read(std::vector<std::uint64_t>& raw, std::vector<int>& errors) noexcept override;

 private:
  std::vector<SensorStatus> statuses_;
  std::vector<SensorInfo> sensors_;
  std::vector<CounterFile> files_;
};

/// A zone directory name split into its hexadecimal indices: "intel-rapl:1:a" -> {1, 10}.
/// Empty when the name is not a RAPL zone of control type intel-rapl.
std::vector<unsigned> parse_rapl_zone_indices(std::string_view directory_name);

}  // namespace wattprint
