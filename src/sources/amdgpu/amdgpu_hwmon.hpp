// AMD GPUs through the amdgpu driver's hwmon attributes in sysfs (no ROCm library): power1_input,
// power1_average or energy1_input under <sysfs>/class/drm/card<N>/device/hwmon/hwmon<M>/.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

#include "platform/text_file.hpp"
#include "sources/gpu/gpu_source.hpp"

namespace wattprint {

/// One GPU per `card<N>` whose device has an hwmon directory named `amdgpu`, in card order, indexed from 0.
/// Energy comes from `energy1_input` (µJ counter) when the driver has it; otherwise from `power1_input`
/// (instantaneous) or `power1_average` (SoC average, includes the CPU on APUs), in µW, integrated with the
/// trapezoid rule on CLOCK_MONOTONIC timestamps at each read() into a counter in mJ.
class AmdgpuHwmonSource final : public GpuSource {
 public:
  explicit AmdgpuHwmonSource(const std::filesystem::path& sysfs_root);

  [[nodiscard]] const std::vector<SensorStatus>& statuses() const override { return statuses_; }
  [[nodiscard]] const std::vector<SensorInfo>& sensors() const override { return sensors_; }
  [[nodiscard]] const std::vector<GpuDevice>& devices() const override { return devices_; }
  void read(std::vector<std::uint64_t>& raw, std::vector<int>& errors) noexcept override;
  /// Utilisation from `device/gpu_busy_percent`; no per-process information (processes left empty).
  void sample_activity(std::vector<GpuActivity>& out) override;

 private:
  enum class Reading { EnergyCounter, Power };
  struct Card {
    Reading reading = Reading::Power;
    CounterFile value;  ///< energy1_input (µJ) or the power file (µW)
    KeptOpenFile busy;  ///< device/gpu_busy_percent
    bool have_previous = false;
    std::uint64_t previous_microwatts = 0;
    std::int64_t previous_ns = 0;
    double energy_mj = 0.0;  ///< integrated energy of a power-only card
  };

  std::vector<SensorStatus> statuses_;
  std::vector<SensorInfo> sensors_;
  std::vector<GpuDevice> devices_;
  std::vector<Card> cards_;
};

/// The card number of a DRM directory entry named exactly `card<N>` (not `card0-DP-1`, not `renderD128`).
std::optional<unsigned> parse_drm_card_number(std::string_view entry_name) noexcept;

}  // namespace wattprint
