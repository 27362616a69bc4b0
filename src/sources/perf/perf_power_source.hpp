// RAPL energy through the perf_event "power" PMU (<sysfs>/bus/event_source/devices/power): one system-wide
// counter per package CPU and event, opened with perf_event_open. Works without root given CAP_PERFMON
// (Linux >= 5.8) or kernel.perf_event_paranoid < 1, where powercap's energy_uj is root-only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sources/sensor.hpp"

namespace wattprint {

/// The syscall boundary: perf_event_open of one system-wide counter (pid -1), read of its count, close.
/// The real one is system_perf_event_syscalls(); tests give a fake that returns counts and errnos.
class PerfEventSyscalls {
 public:
  virtual ~PerfEventSyscalls() = default;
  /// Opens counter `config` of PMU `type` on `cpu` (pid -1, no group, counting at once).
  /// Returns a descriptor (>= 0) or -errno.
  virtual int open_counter(std::uint32_t type, std::uint64_t config, int cpu) noexcept = 0;
  /// Reads the 64-bit count of `fd`. Returns 0 or an errno value. Must not allocate.
  virtual int read_count(int fd, std::uint64_t& count) noexcept = 0;
  virtual void close_counter(int fd) noexcept = 0;
};

/// perf_event_open(2), read(2) and close(2).
PerfEventSyscalls& system_perf_event_syscalls();

/// Where the perf power source looks: sysfs for the PMU and CPU list, /proc for the paranoid level and the
/// process's capabilities.
struct PerfPowerOptions {
  std::filesystem::path sysfs_root = "/sys";
  std::filesystem::path proc_root = "/proc";
};

/// How the report names the path that measured: "perf power PMU (CAP_PERFMON)".
inline constexpr std::string_view kPerfOriginPrefix = "perf power PMU";

/// Capability bits of /proc/<pid>/status CapEff (linux/capability.h).
inline constexpr unsigned kCapSysAdmin = 21;
inline constexpr unsigned kCapPerfmon = 38;

/// kernel.perf_event_paranoid from <proc_root>/sys/kernel/perf_event_paranoid (may be negative; Debian
/// and Ubuntu add levels 3 and 4). nullopt when unreadable.
std::optional<int> read_perf_event_paranoid(const std::filesystem::path& proc_root) noexcept;

/// Whether capability `bit` is in this process's effective set (<proc_root>/self/status, CapEff, hex).
/// nullopt when the file or the line cannot be read.
std::optional<bool> has_effective_capability(const std::filesystem::path& proc_root, unsigned bit) noexcept;

/// A cpulist as sysfs writes it ("0,36", "0-3,8"); empty when malformed.
std::vector<int> parse_cpu_list(std::string_view text);

/// The config of a perf event description ("event=0x02"); nullopt when it has no event term, another
/// term, or a value outside 0-0xff (the power PMU's config:0-7).
std::optional<std::uint64_t> parse_perf_event_config(std::string_view text);

/// Remedy shown when perf_event_open is denied.
inline constexpr const char* kPerfPermissionRemedy =
    "`sudo setcap cap_perfmon=ep $(command -v wattprint)` (Linux >= 5.8; this binary only), or for every "
    "user `sudo sysctl kernel.perf_event_paranoid=0` (re-opens the RAPL power side channel, CVE-2020-8694: "
    "only on machines whose users you trust)";

/// The perf power PMU as a sensor family "perf": perf.package-N (energy-pkg), perf.package-N.dram
/// (energy-ram), perf.package-N.core (energy-cores), perf.package-N.uncore (energy-gpu) for the N-th CPU of
/// the PMU's cpumask, and perf.psys (energy-psys, first CPU only). Joules per count from each event's
/// .scale (its .unit must be Joules); the kernel keeps a 64-bit count, so counter_max is UINT64_MAX.
class PerfPowerSource final : public EnergyCounterSource {
 public:
  PerfPowerSource(const PerfPowerOptions& options, PerfEventSyscalls& syscalls);
  PerfPowerSource(const PerfPowerSource&) = delete;
  PerfPowerSource& operator=(const PerfPowerSource&) = delete;
  ~PerfPowerSource() override;

  [[nodiscard]] const std::vector<SensorStatus>& statuses() const override { return statuses_; }
  [[nodiscard]] const std::vector<SensorInfo>& sensors() const override { return sensors_; }
  void read(std::vector<std::uint64_t>& raw, std::vector<int>& errors) noexcept override;

  /// Whether <sysfs>/bus/event_source/devices/power exists (the PMU is registered).
  [[nodiscard]] bool pmu_present() const { return pmu_present_; }

 private:
  PerfEventSyscalls* syscalls_;
  bool pmu_present_ = false;
  std::vector<SensorStatus> statuses_;
  std::vector<SensorInfo> sensors_;
  std::vector<int> fds_;
};

/// Whether a source has a readable CPU package counter.
bool has_package_counter(const EnergyCounterSource& source);

/// The fallback rule for CPU energy: `powercap` when it has a readable package counter, else the perf power
/// PMU when it opens one, else `powercap` still (its statuses say why). The perf source's statuses are
/// appended to `statuses` whenever it was tried and the PMU exists.
std::unique_ptr<EnergyCounterSource> fall_back_to_perf_power(std::unique_ptr<EnergyCounterSource> powercap,
                                                             const PerfPowerOptions& options,
                                                             PerfEventSyscalls& syscalls,
                                                             std::vector<SensorStatus>& statuses);

}  // namespace wattprint
