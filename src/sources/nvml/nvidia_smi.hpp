// NVIDIA GPUs through the nvidia-smi command, the fallback when NVML cannot be loaded: a long-running
// `nvidia-smi --query-gpu=… -lms <period>` child whose power samples are integrated into mJ counters.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "sources/gpu/gpu_source.hpp"

namespace wattprint {

/// The fields the looping query asks for, in this order.
inline constexpr std::string_view kNvidiaSmiSampleQuery =
    "--query-gpu=timestamp,index,name,uuid,pci.bus_id,power.draw,enforced.power.limit,utilization.gpu";
/// The one-shot device query (power.draw tells whether the GPU reports power at all).
inline constexpr std::string_view kNvidiaSmiDeviceQuery =
    "--query-gpu=index,name,uuid,pci.bus_id,enforced.power.limit,power.draw";

/// One line of the looping query (`--format=csv,noheader,nounits`). A field nvidia-smi reports as
/// `[N/A]`, `[Not Supported]` or `N/A` (or any other bracketed message) is empty.
struct SmiSample {
  /// The printed time ("YYYY/MM/DD HH:MM:SS.mmm", local time) as milliseconds since 1970-01-01 with no
  /// time zone applied: only differences between samples mean anything.
  std::optional<std::int64_t> timestamp_ms;
  unsigned index = 0;
  std::optional<std::string> name;
  std::optional<std::string> uuid;
  std::optional<std::string> pci_bus_id;
  std::optional<double> power_draw_w;
  std::optional<double> power_limit_w;
  std::optional<double> utilisation_percent;
};

/// Parses one line of the looping query. Fields are separated by ", " (a bare comma and extra spaces are
/// tolerated), numbers may carry their unit ("83.92 W", "40 %"). Empty for anything else (a header, an
/// error message, a truncated line). Never throws.
std::optional<SmiSample> parse_nvidia_smi_csv_line(std::string_view line) noexcept;

/// One line of the one-shot device query (kNvidiaSmiDeviceQuery).
struct SmiDeviceLine {
  unsigned index = 0;
  std::string name;
  std::string uuid;
  std::string pci_bus_id;
  std::optional<double> power_limit_w;
  std::optional<double> power_draw_w;
};
std::optional<SmiDeviceLine> parse_nvidia_smi_device_line(std::string_view line) noexcept;

/// "2020/12/02 22:37:14.163" as milliseconds since 1970-01-01 (no time zone applied). Never throws.
std::optional<std::int64_t> parse_nvidia_smi_timestamp(std::string_view text) noexcept;

struct NvidiaSmiOptions {
  std::string executable = "nvidia-smi";               ///< a name searched in PATH, or a path with a '/'
  std::chrono::milliseconds period{100};               ///< -lms of the looping query
  std::chrono::milliseconds apps_period{1000};         ///< --query-compute-apps every so often; 0: never
  std::chrono::milliseconds query_timeout{10'000};     ///< limit for each one-shot query
  std::chrono::milliseconds first_sample_wait{3'000};  ///< how long the constructor waits for samples
};

/// Devices from a one-shot query; energy from power.draw of the looping query integrated with the trapezoid
/// rule on the samples' own timestamps (a 1-s average on Ampere except GA100 and newer, instantaneous on
/// older GPUs); presence of processes from a periodic --query-compute-apps in a thread of its own.
class NvidiaSmiSource final : public GpuSource {
 public:
  explicit NvidiaSmiSource(NvidiaSmiOptions options = {});
  ~NvidiaSmiSource() override;
  NvidiaSmiSource(const NvidiaSmiSource&) = delete;
  NvidiaSmiSource& operator=(const NvidiaSmiSource&) = delete;

  [[nodiscard]] const std::vector<SensorStatus>& statuses() const override { return statuses_; }
  [[nodiscard]] const std::vector<SensorInfo>& sensors() const override { return sensors_; }
  [[nodiscard]] const std::vector<GpuDevice>& devices() const override { return devices_; }
  /// The integrated counters; ENODATA while a device has no recent sample, EPIPE once nvidia-smi has
  /// ended.
  void read(std::vector<std::uint64_t>& raw, std::vector<int>& errors) noexcept override;
  /// Utilisation of the latest sample; processes with a compute context (presence only, sm_percent 0).
  void sample_activity(std::vector<GpuActivity>& out) override;

 private:
  struct Integration {
    bool have_previous = false;
    std::optional<std::int64_t> previous_timestamp_ms;
    std::int64_t previous_arrival_ns = 0;
    double previous_watts = 0.0;
    double energy_mj = 0.0;
  };

  void start_sampling(const std::string& path);
  void reader_loop();
  void handle_line(std::string_view line);
  void apps_loop(const std::string& path);
  [[nodiscard]] std::optional<std::size_t> slot_of_index(unsigned index) const;

  NvidiaSmiOptions options_;
  std::vector<SensorStatus> statuses_;
  std::vector<SensorInfo> sensors_;
  std::vector<GpuDevice> devices_;

  // Written by the reader thread, read by read() without a lock.
  std::vector<std::atomic<std::uint64_t>> counters_mj_;
  std::vector<std::atomic<std::int64_t>> last_sample_ns_;
  std::atomic<bool> child_ended_{false};
  std::vector<Integration> integration_;  // reader thread only

  std::mutex mutex_;  // guards what follows
  std::condition_variable changed_;
  bool stopping_ = false;
  std::vector<std::optional<double>> utilisation_;
  std::vector<std::vector<pid_t>> users_;

  pid_t child_ = -1;
  int pipe_fd_ = -1;
  std::thread reader_;
  std::thread apps_;
};

}  // namespace wattprint
