// amdgpu hwmon discovery, counter reads and the integration of power-only cards into an mJ counter.
#include "sources/amdgpu/amdgpu_hwmon.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <limits>
#include <string>
#include <system_error>
#include <utility>

namespace wattprint {

namespace fs = std::filesystem;

std::optional<unsigned> parse_drm_card_number(std::string_view entry_name) noexcept {
  constexpr std::string_view kPrefix = "card";
  if (entry_name.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  const std::string_view digits = entry_name.substr(kPrefix.size());
  if (digits.empty() || digits.size() > 6) return std::nullopt;
  unsigned value = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, 10);
  if (ec != std::errc{} || ptr != digits.data() + digits.size()) return std::nullopt;
  return value;
}

namespace {

struct CardDir {
  unsigned number = 0;
  fs::path card;
  fs::path hwmon;
};

std::string read_trimmed(const fs::path& path) {
  const FileText file = read_text_file(path);
  return file.ok() ? std::string(trim(file.text)) : std::string();
}

/// The hwmon directory of `card` named amdgpu (lowest hwmon number first), or empty.
fs::path amdgpu_hwmon_of(const fs::path& card) {
  std::error_code ec;
  std::vector<fs::path> candidates;
  for (const auto& entry : fs::directory_iterator(card / "device" / "hwmon", ec)) {
    if (entry.path().filename().string().rfind("hwmon", 0) == 0) candidates.push_back(entry.path());
  }
  std::sort(candidates.begin(), candidates.end());
  for (const fs::path& hwmon : candidates) {
    if (read_trimmed(hwmon / "name") == "amdgpu") return hwmon;
  }
  return {};
}

/// The PCI address the card's `device` symlink points to ("0000:03:00.0"), or empty.
std::string pci_bus_id_of(const fs::path& card) {
  std::error_code ec;
  fs::path target = fs::read_symlink(card / "device", ec);
  if (ec) target = fs::canonical(card / "device", ec);
  return ec ? std::string() : target.filename().string();
}

std::optional<Watts> power_cap_of(const fs::path& hwmon) {
  const auto microwatts = parse_first_u64(read_text_file(hwmon / "power1_cap").text);
  if (!microwatts || *microwatts == 0) return std::nullopt;
  return Watts{static_cast<double>(*microwatts) * 1e-6};
}

std::int64_t monotonic_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + static_cast<std::int64_t>(ts.tv_nsec);
}

struct Candidate {
  const char* file;
  bool is_counter;
  const char* method;
};

constexpr std::array<Candidate, 3> kCandidates{{
    {"energy1_input", true, "energy counter (hwmon energy1_input, µJ)"},
    {"power1_input", false,
     "instantaneous power (hwmon power1_input, µW), integrated at each read; SoC power on APUs, which "
     "includes the CPU"},
    {"power1_average", false,
     "SoC average power (hwmon power1_average, µW), integrated at each read; includes the CPU on APUs, "
     "lags by the averaging interval"},
}};

}  // namespace

AmdgpuHwmonSource::AmdgpuHwmonSource(const fs::path& sysfs_root) {
  const fs::path drm = sysfs_root / "class" / "drm";
  std::error_code ec;
  if (!fs::is_directory(drm, ec)) {
    statuses_.push_back({"amdgpu", SensorStatus::State::Absent, drm.string(),
                         "no DRM class directory: no GPU driver is loaded here, or /sys is not mounted",
                         "on a machine with an AMD GPU load the driver (`sudo modprobe amdgpu`); in a "
                         "container mount the host's /sys and pass --sysfs-root"});
    return;
  }
  std::vector<CardDir> cards;
  for (const auto& entry : fs::directory_iterator(drm, ec)) {
    const auto number = parse_drm_card_number(entry.path().filename().string());
    if (!number) continue;  // renderD*, card<N>-<connector>, version
    fs::path hwmon = amdgpu_hwmon_of(entry.path());
    if (hwmon.empty()) continue;  // another driver's card (i915, nouveau, nvidia-drm, simpledrm)
    cards.push_back({*number, entry.path(), std::move(hwmon)});
  }
  std::sort(cards.begin(), cards.end(),
            [](const CardDir& a, const CardDir& b) { return a.number < b.number; });
  if (cards.empty()) {
    statuses_.push_back({"amdgpu", SensorStatus::State::Absent, drm.string(),
                         "no DRM card has an hwmon directory named amdgpu (no AMD GPU, or the amdgpu driver "
                         "is not loaded)",
                         "on a machine with an AMD GPU load the driver (`sudo modprobe amdgpu`); in a "
                         "container mount the host's /sys and pass --sysfs-root"});
    return;
  }

  unsigned index = 0;
  for (const CardDir& card : cards) {
    const std::string sensor_name = fmt::format("amdgpu.gpu-{}", index);
    const Candidate* chosen = nullptr;
    CounterFile file;
    fs::path chosen_path;
    fs::path denied_path;
    int other_error = 0;
    fs::path other_path;
    for (const Candidate& candidate : kCandidates) {
      const fs::path path = card.hwmon / candidate.file;
      if (!fs::exists(path, ec)) continue;
      CounterFile attempt(path);
      std::uint64_t value = 0;
      const int error = attempt.is_open() ? attempt.read_u64(value) : attempt.open_error();
      if (error == 0) {
        chosen = &candidate;
        file = std::move(attempt);
        chosen_path = path;
        break;
      }
      if ((error == EACCES || error == EPERM) && denied_path.empty()) denied_path = path;
      if (error != EACCES && error != EPERM && other_error == 0) {
        other_error = error;  // ENODATA: a sensor the GPU has disabled; try the next file
        other_path = path;
      }
    }
    if (chosen == nullptr) {
      if (!denied_path.empty()) {
        statuses_.push_back(
            {sensor_name, SensorStatus::State::Unreadable, denied_path.string(),
             fmt::format("{} is not readable by this user", denied_path.filename().string()),
             fmt::format("run wattprint as root, or let users read it: `sudo chmod a+r {}` (until reboot) or "
                         "a udev rule as in docs/permissions.md",
                         denied_path.string())});
      } else if (other_error != 0) {
        statuses_.push_back(
            {sensor_name, SensorStatus::State::Error, other_path.string(),
             fmt::format("cannot read {}: {}", other_path.filename().string(),
                         other_error == EBADMSG ? "not a number" : std::strerror(other_error)),
             ""});
      } else {
        statuses_.push_back({sensor_name, SensorStatus::State::Absent, card.hwmon.string(),
                             "the amdgpu hwmon has no energy1_input, power1_input or power1_average (GPU or "
                             "kernel without power reporting)",
                             "a newer kernel may add power1_input for this GPU"});
      }
      ++index;
      continue;
    }

    GpuDevice device;
    device.family = "amdgpu";
    device.index = index;
    device.name = read_trimmed(card.card / "device" / "product_name");
    if (device.name.empty()) device.name = fmt::format("AMD GPU (card{})", card.number);
    device.pci_bus_id = pci_bus_id_of(card.card);
    device.power_limit = power_cap_of(card.hwmon);
    device.energy_method = chosen->method;
    device.energy_is_counter = chosen->is_counter;

    SensorInfo info;
    info.name = sensor_name;
    info.family = "amdgpu";
    info.component = Component::Gpu;
    info.origin = chosen_path.string();
    info.counter_max = std::numeric_limits<std::uint64_t>::max();
    info.joules_per_raw_unit = chosen->is_counter ? 1e-6 : 1e-3;
    info.max_power = device.power_limit;

    Card state;
    state.reading = chosen->is_counter ? Reading::EnergyCounter : Reading::Power;
    state.value = std::move(file);
    state.busy = KeptOpenFile(card.card / "device" / "gpu_busy_percent");

    devices_.push_back(std::move(device));
    sensors_.push_back(std::move(info));
    cards_.push_back(std::move(state));
    statuses_.push_back({sensor_name, SensorStatus::State::Ok, chosen_path.string(), "", ""});
    ++index;
  }
}

void AmdgpuHwmonSource::read(std::vector<std::uint64_t>& raw, std::vector<int>& errors) noexcept {
  for (std::size_t i = 0; i < cards_.size(); ++i) {
    Card& card = cards_[i];
    if (card.reading == Reading::EnergyCounter) {
      errors[i] = card.value.read_u64(raw[i]);
      continue;
    }
    std::uint64_t microwatts = 0;
    const int error = card.value.read_u64(microwatts);
    const std::int64_t now = monotonic_ns();
    if (error == 0) {
      if (card.have_previous && now > card.previous_ns) {
        const double seconds = static_cast<double>(now - card.previous_ns) * 1e-9;
        const double mean_watts =
            (static_cast<double>(card.previous_microwatts) + static_cast<double>(microwatts)) * 0.5e-6;
        card.energy_mj += mean_watts * seconds * 1e3;
      }
      card.have_previous = true;
      card.previous_microwatts = microwatts;
      card.previous_ns = now;
    }
    raw[i] = static_cast<std::uint64_t>(card.energy_mj);
    errors[i] = error;
  }
}

void AmdgpuHwmonSource::sample_activity(std::vector<GpuActivity>& out) {
  if (out.size() < cards_.size()) out.resize(cards_.size());
  for (std::size_t i = 0; i < cards_.size(); ++i) {
    GpuActivity& activity = out[i];
    activity.processes.clear();
    activity.per_process_utilisation = false;
    activity.utilisation_percent.reset();
    std::array<char, 16> buffer{};
    std::size_t size = 0;
    if (cards_[i].busy.read_prefix(buffer.data(), buffer.size(), size) != 0) continue;
    const auto percent = parse_first_u64(std::string_view(buffer.data(), size));
    if (percent && *percent <= 100) activity.utilisation_percent = static_cast<double>(*percent);
  }
}

}  // namespace wattprint
