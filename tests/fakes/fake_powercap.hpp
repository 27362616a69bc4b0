// A live fake Linux powercap (RAPL) sysfs tree for tests: energy_uj counters in µJ that advance at a set
// power (W) while a background thread runs, wrap at max_energy_range_uj + 1, and can be made to fail.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace wattprint::testing {

/// One powercap zone of the fake tree: FakeZone("intel-rapl:0", "package-0", 20.0).with_max_power(125.0).
struct FakeZone {
  FakeZone(std::string dir_name, std::string zone_name, double watts = 0.0)
      : dir(std::move(dir_name)), name(std::move(zone_name)), power_w(watts) {}
  [[nodiscard]] FakeZone with_range(std::uint64_t uj) const {
    FakeZone z = *this;
    z.max_energy_range_uj = uj;
    return z;
  }
  [[nodiscard]] FakeZone with_initial(std::uint64_t uj) const {
    FakeZone z = *this;
    z.initial_energy_uj = uj;
    return z;
  }
  [[nodiscard]] FakeZone with_max_power(double watts) const {
    FakeZone z = *this;
    z.max_power_w = watts;
    return z;
  }
  [[nodiscard]] FakeZone with_mode(mode_t mode) const {
    FakeZone z = *this;
    z.energy_mode = mode;
    return z;
  }

  /// Directory name as the kernel builds it (hex index): "intel-rapl:0", "intel-rapl:0:0", "intel-rapl:a",
  /// "intel-rapl-mmio:0". A sub-zone's parent ("intel-rapl:0" for "intel-rapl:0:1") must also be listed.
  std::string dir;
  /// Content of the `name` file: "package-0", "dram", "core", "uncore", "psys".
  std::string name;
  /// Power drawn in watts; change it while running with FakePowercapTree::set_power().
  double power_w = 0.0;
  /// Content of `max_energy_range_uj`; the counter wraps modulo this value + 1.
  std::uint64_t max_energy_range_uj = 262143328850ULL;
  /// Counter value (µJ) before start().
  std::uint64_t initial_energy_uj = 0;
  /// When set, `constraint_0_name` ("long_term") and `constraint_0_max_power_uw` are written.
  std::optional<double> max_power_w;
  /// Mode of `energy_uj` (0444 before Linux 5.10, 0400 since).
  mode_t energy_mode = 0444;
};

/// Builds, under a fresh temporary directory acting as the sysfs root R, the tree
///   R/devices/virtual/powercap/<control type>/<zone>/<sub-zone>/...   (real directories)
///   R/class/powercap/<control type or zone> -> ../../devices/virtual/powercap/...   (flat symlinks)
/// and, between start() and stop(), updates every zone's energy_uj every tick, in place (pwrite at offset 0
/// on a descriptor kept open, then ftruncate only when the text got shorter), never by rename.
/// Thread-safe: every member may be called while the update thread runs.
class FakePowercapTree {
 public:
  using Duration = std::chrono::steady_clock::duration;

  /// Creates the tree; throws std::invalid_argument for a malformed zone list, std::system_error on I/O
  /// errors.
  explicit FakePowercapTree(std::vector<FakeZone> zones);
  FakePowercapTree(const FakePowercapTree&) = delete;
  FakePowercapTree& operator=(const FakePowercapTree&) = delete;
  /// Stops the thread and removes the whole tree.
  ~FakePowercapTree();

  /// The sysfs root R (pass it as `--sysfs-root`); powercap is R/class/powercap.
  [[nodiscard]] const std::filesystem::path& sysfs_root() const { return root_; }
  /// R/class/powercap.
  [[nodiscard]] std::filesystem::path class_dir() const;
  /// The real directory of a zone (under R/devices/virtual/powercap).
  [[nodiscard]] std::filesystem::path zone_path(const std::string& dir) const;
  /// The update period given to start() (5 ms unless told otherwise).
  [[nodiscard]] Duration tick() const;

  /// Starts the update thread; energy accumulates from now on. Throws std::logic_error if already running.
  void start(Duration tick = std::chrono::milliseconds(5));
  /// Stops and joins the update thread after a last update; counters and ground truth freeze.
  void stop();
  [[nodiscard]] bool running() const;

  /// Changes a zone's power (W) from now on; the energy so far is kept (piecewise integration).
  void set_power(const std::string& dir, double watts);

  /// Ground truth: energy (J) the model says the zone consumed since the first start(), up to now (or to
  /// stop()).
  [[nodiscard]] double true_energy_j(const std::string& dir) const;
  /// Number of times the counter went past max_energy_range_uj back to 0 so far (per the last update
  /// written).
  [[nodiscard]] std::uint64_t wraps(const std::string& dir) const;
  /// The counter value (µJ) written by the last update.
  [[nodiscard]] std::uint64_t counter_uj(const std::string& dir) const;

  // Fault injection. `after` is counted from the call; a zero `length` means "until cleared".
  /// Unlinks energy_uj after `after`; it comes back (a new file, current counter) after `length`.
  void vanish(const std::string& dir, Duration after = Duration::zero(), Duration length = Duration::zero());
  /// Writes `text` in place of the number after `after`, for `length`; the counter keeps advancing
  /// underneath.
  void write_garbage(const std::string& dir, Duration after = Duration::zero(),
                     Duration length = Duration::zero(), std::string text = "abc\n");
  /// Ends any vanish / garbage fault on the zone now (energy_uj reappears / shows the counter again).
  void clear_faults(const std::string& dir);
  /// After `after`, makes the counter drop by `amount_uj` (a decrease that is not a wrap; the model's true
  /// energy is unchanged). The drop must not cross 0 at that moment, or the update thread ignores it.
  void jump_backwards(const std::string& dir, std::uint64_t amount_uj, Duration after = Duration::zero());
  /// chmod of the zone's energy_uj (e.g. 0400: root only, as since Linux 5.10).
  void set_energy_mode(const std::string& dir, mode_t mode);

 private:
  struct Zone;
  using Clock = std::chrono::steady_clock;

  Zone& find(const std::string& dir);
  const Zone& find(const std::string& dir) const;
  void fold(Zone& z, Clock::time_point now) const;
  double energy_at(const Zone& z, Clock::time_point now) const;
  void update_locked(Clock::time_point now);
  void write_counter(Zone& z, const std::string& text);
  void open_energy_file(Zone& z);
  void remove_energy_file(Zone& z);
  void run_thread();

  std::filesystem::path root_;
  std::vector<std::unique_ptr<Zone>> zones_;
  std::map<std::string, Zone*> by_dir_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool running_ = false;
  bool stop_requested_ = false;
  Duration tick_ = std::chrono::milliseconds(5);
  std::thread thread_;
};

}  // namespace wattprint::testing
