// The nvidia-smi fallback: CSV parsing, the child processes and the integration of their power samples.
#include "sources/nvml/nvidia_smi.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <limits>
#include <utility>

#include "platform/text_file.hpp"

namespace wattprint {

namespace {

constexpr std::size_t kSampleFields = 8;
constexpr std::size_t kDeviceFields = 6;

/// Splits on commas, trimming each field. Gives up (empty) past `max_fields`.
std::vector<std::string_view> split_fields(std::string_view line, std::size_t max_fields) {
  std::vector<std::string_view> fields;
  while (fields.size() <= max_fields) {
    const auto comma = line.find(',');
    fields.push_back(trim(line.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    line.remove_prefix(comma + 1);
  }
  return fields;
}

bool is_unavailable(std::string_view field) {
  return field == "N/A" || field == "Not Supported" ||
         (field.size() >= 2 && field.front() == '[' && field.back() == ']');
}

/// A number with an optional unit. nullopt inside: unavailable; false: garbage.
bool parse_quantity(std::string_view field, std::optional<double>& value) {
  value.reset();
  if (is_unavailable(field)) return true;
  const auto space = field.find(' ');
  if (space != std::string_view::npos) {
    const std::string_view unit = trim(field.substr(space));
    if (unit != "W" && unit != "%" && unit != "MiB" && unit != "MHz") return false;
    field = field.substr(0, space);
  }
  value = parse_double(field);
  return value.has_value();
}

std::optional<std::string> text_field(std::string_view field) {
  if (field.empty() || is_unavailable(field)) return std::nullopt;
  return std::string(field);
}

std::optional<unsigned> parse_index(std::string_view field) {
  unsigned value = 0;
  const auto [ptr, ec] = std::from_chars(field.data(), field.data() + field.size(), value, 10);
  if (field.empty() || ec != std::errc{} || ptr != field.data() + field.size()) return std::nullopt;
  return value;
}

std::int64_t monotonic_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + static_cast<std::int64_t>(ts.tv_nsec);
}

/// `name` itself when it holds a '/', else its first executable match in PATH.
std::optional<std::string> find_executable(const std::string& name) {
  if (name.empty()) return std::nullopt;
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) == 0) return name;
    return std::nullopt;
  }
  const char* path_env = std::getenv("PATH");
  std::string_view path = path_env != nullptr ? path_env : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    const auto colon = path.find(':');
    std::string dir(path.substr(0, colon));
    if (dir.empty()) dir = ".";
    std::string candidate = dir;
    candidate += "/";
    candidate += name;
    std::error_code ec;
    if (::access(candidate.c_str(), X_OK) == 0 && !std::filesystem::is_directory(candidate, ec)) {
      return candidate;
    }
    if (colon == std::string_view::npos) break;
    path.remove_prefix(colon + 1);
  }
  return std::nullopt;
}

struct Spawned {
  pid_t pid = -1;
  int read_fd = -1;
  int error = 0;
};

/// Starts `path args…` with its stdout on a pipe, stdin and stderr on /dev/null, default signal
/// handling, in a process group of its own (a ^C at the terminal is for the measured command, not for it).
Spawned spawn_piped(const std::string& path, const std::vector<std::string>& args) {
  Spawned result;
  std::array<int, 2> fds{-1, -1};
  if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
    result.error = errno;
    return result;
  }
  std::vector<std::string> storage;
  storage.reserve(args.size() + 1);
  storage.push_back(path);
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  argv.reserve(storage.size() + 1);
  for (std::string& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawnattr_init(&attr);
  ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  ::posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  sigset_t signals;
  sigemptyset(&signals);
  ::posix_spawnattr_setsigmask(&attr, &signals);
  for (const int s : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&signals, s);
  ::posix_spawnattr_setsigdefault(&attr, &signals);
  ::posix_spawnattr_setpgroup(&attr, 0);
  ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  const int error = ::posix_spawn(&result.pid, path.c_str(), &actions, &attr, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attr);
  ::close(fds[1]);
  if (error != 0) {
    ::close(fds[0]);
    result.pid = -1;
    result.error = error;
    return result;
  }
  result.read_fd = fds[0];
  return result;
}

/// Ends a child and its process group (spawn_piped made it the group's leader): SIGTERM, then SIGKILL if
/// it is still there after a second; always reaped.
void stop_child(pid_t pid) {
  if (pid <= 0) return;
  ::kill(-pid, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(pid, nullptr, WNOHANG) == pid) return;
    ::usleep(10'000);
  }
  ::kill(-pid, SIGKILL);
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

struct Captured {
  int error = 0;         ///< spawn errno, or ETIMEDOUT
  int exit_status = -1;  ///< the exit code when it exited normally
  std::string output;
};

/// Runs a one-shot query and collects its stdout, within `timeout`.
Captured run_capture(const std::string& path, const std::vector<std::string>& args,
                     std::chrono::milliseconds timeout) {
  Captured result;
  const Spawned child = spawn_piped(path, args);
  if (child.pid < 0) {
    result.error = child.error;
    return result;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::array<char, 4096> buffer{};
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.error = ETIMEDOUT;
      break;
    }
    pollfd pfd{child.read_fd, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    const ssize_t n = ::read(child.read_fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.output.append(buffer.data(), static_cast<std::size_t>(n));
    if (result.output.size() > (1U << 20U)) break;
  }
  ::close(child.read_fd);
  if (result.error == ETIMEDOUT) {
    stop_child(child.pid);
    return result;
  }
  int status = 0;
  pid_t waited = 0;
  do {
    waited = ::waitpid(child.pid, &status, 0);
  } while (waited < 0 && errno == EINTR);
  if (waited == child.pid && WIFEXITED(status)) result.exit_status = WEXITSTATUS(status);
  return result;
}

std::string first_line(std::string_view text) {
  text = trim(text);
  return std::string(trim(text.substr(0, text.find('\n'))));
}

constexpr const char* kSmiRemedy =
    "install the NVIDIA driver's utilities, or put the directory holding nvidia-smi on PATH (the NVML "
    "library libnvidia-ml.so.1 is preferred when it can be loaded)";

}  // namespace

std::optional<std::int64_t> parse_nvidia_smi_timestamp(std::string_view text) noexcept {
  text = trim(text);
  // YYYY/MM/DD HH:MM:SS[.mmm]
  if (text.size() < 19 || text[4] != '/' || text[7] != '/' || text[10] != ' ' || text[13] != ':' ||
      text[16] != ':') {
    return std::nullopt;
  }
  auto number = [&](std::size_t at, std::size_t length) -> std::optional<int> {
    int value = 0;
    const char* begin = text.data() + at;
    const auto [ptr, ec] = std::from_chars(begin, begin + length, value, 10);
    if (ec != std::errc{} || ptr != begin + length || value < 0) return std::nullopt;
    return value;
  };
  const auto year = number(0, 4);
  const auto month = number(5, 2);
  const auto day = number(8, 2);
  const auto hour = number(11, 2);
  const auto minute = number(14, 2);
  const auto second = number(17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  if (*hour > 23 || *minute > 59 || *second > 60) return std::nullopt;
  int millis = 0;
  if (text.size() > 19) {
    if (text[19] != '.' || text.size() == 20 || text.size() > 23) return std::nullopt;
    const std::size_t digits = text.size() - 20;
    const auto fraction = number(20, digits);
    if (!fraction) return std::nullopt;
    millis = *fraction * (digits == 1 ? 100 : digits == 2 ? 10 : 1);
  }
  const std::chrono::year_month_day date{std::chrono::year{*year},
                                         std::chrono::month{static_cast<unsigned>(*month)},
                                         std::chrono::day{static_cast<unsigned>(*day)}};
  if (!date.ok()) return std::nullopt;
  const std::int64_t days = std::chrono::sys_days{date}.time_since_epoch().count();
  return ((days * 24 + *hour) * 60 + *minute) * 60'000 + static_cast<std::int64_t>(*second) * 1000 + millis;
}

std::optional<SmiSample> parse_nvidia_smi_csv_line(std::string_view line) noexcept {
  try {
    const auto fields = split_fields(line, kSampleFields);
    if (fields.size() != kSampleFields) return std::nullopt;
    SmiSample sample;
    if (!is_unavailable(fields[0])) {
      sample.timestamp_ms = parse_nvidia_smi_timestamp(fields[0]);
      if (!sample.timestamp_ms) return std::nullopt;
    }
    const auto index = parse_index(fields[1]);
    if (!index) return std::nullopt;
    sample.index = *index;
    sample.name = text_field(fields[2]);
    sample.uuid = text_field(fields[3]);
    sample.pci_bus_id = text_field(fields[4]);
    if (!parse_quantity(fields[5], sample.power_draw_w) || !parse_quantity(fields[6], sample.power_limit_w) ||
        !parse_quantity(fields[7], sample.utilisation_percent)) {
      return std::nullopt;
    }
    return sample;
  } catch (...) {
    return std::nullopt;
  }
}

std::optional<SmiDeviceLine> parse_nvidia_smi_device_line(std::string_view line) noexcept {
  try {
    const auto fields = split_fields(line, kDeviceFields);
    if (fields.size() != kDeviceFields) return std::nullopt;
    const auto index = parse_index(fields[0]);
    if (!index) return std::nullopt;
    SmiDeviceLine device;
    device.index = *index;
    device.name = text_field(fields[1]).value_or("");
    device.uuid = text_field(fields[2]).value_or("");
    device.pci_bus_id = text_field(fields[3]).value_or("");
    if (!parse_quantity(fields[4], device.power_limit_w) || !parse_quantity(fields[5], device.power_draw_w)) {
      return std::nullopt;
    }
    return device;
  } catch (...) {
    return std::nullopt;
  }
}

NvidiaSmiSource::NvidiaSmiSource(NvidiaSmiOptions options) : options_(std::move(options)) {
  const auto path = find_executable(options_.executable);
  if (!path) {
    statuses_.push_back(
        {"nvidia-smi", SensorStatus::State::Absent, options_.executable,
         fmt::format("{} was not found (not on PATH, or not executable)", options_.executable), kSmiRemedy});
    return;
  }
  const std::string shown = fmt::format("{} {} --format=csv,noheader,nounits", *path, kNvidiaSmiDeviceQuery);
  const Captured listing = run_capture(
      *path, {std::string(kNvidiaSmiDeviceQuery), "--format=csv,noheader,nounits"}, options_.query_timeout);
  if (listing.error != 0 || listing.exit_status != 0) {
    std::string why = listing.error == ETIMEDOUT ? std::string("timed out")
                      : listing.error != 0       ? std::string(std::strerror(listing.error))
                                                 : fmt::format("exit status {}", listing.exit_status);
    const std::string said = first_line(listing.output);
    if (!said.empty()) why += ": " + said;
    statuses_.push_back({"nvidia-smi", SensorStatus::State::Error, shown,
                         "the device query failed (" + why + ")",
                         "check that `nvidia-smi` works for this user (driver loaded, /dev/nvidia* "
                         "accessible in a container)"});
    return;
  }

  std::vector<SmiDeviceLine> found;
  std::string_view rest = listing.output;
  while (!rest.empty()) {
    const auto newline = rest.find('\n');
    if (auto device = parse_nvidia_smi_device_line(rest.substr(0, newline)))
      found.push_back(std::move(*device));
    if (newline == std::string_view::npos) break;
    rest.remove_prefix(newline + 1);
  }
  if (found.empty()) {
    const std::string said = first_line(listing.output);
    statuses_.push_back(
        {"nvidia-smi", SensorStatus::State::Absent, shown,
         said.empty() ? std::string("nvidia-smi lists no GPU") : "nvidia-smi lists no GPU: " + said, ""});
    return;
  }

  const std::string origin = fmt::format("{} {} --format=csv,noheader,nounits -lms {}", *path,
                                         kNvidiaSmiSampleQuery, options_.period.count());
  for (const SmiDeviceLine& line : found) {
    const std::string sensor_name = fmt::format("nvidia-smi.gpu-{}", line.index);
    if (!line.power_draw_w) {
      statuses_.push_back({sensor_name, SensorStatus::State::Absent, shown,
                           fmt::format("power.draw is not available for GPU {} ({})", line.index, line.name),
                           "this GPU or driver reports no power; no energy can be measured for it"});
      continue;
    }
    GpuDevice device;
    device.family = "nvidia-smi";
    device.index = line.index;
    device.name = line.name;
    device.uuid = line.uuid;
    device.pci_bus_id = line.pci_bus_id;
    if (line.power_limit_w && *line.power_limit_w > 0.0) device.power_limit = Watts{*line.power_limit_w};
    device.energy_method = fmt::format(
        "power.draw of `nvidia-smi -lms {}` (W) integrated over the samples' timestamps; a 1-s average on "
        "Ampere (except GA100) and newer GPUs, instantaneous on older ones",
        options_.period.count());
    device.energy_is_counter = false;
    SensorInfo info;
    info.name = sensor_name;
    info.family = "nvidia-smi";
    info.component = Component::Gpu;
    info.origin = origin;
    info.counter_max = std::numeric_limits<std::uint64_t>::max();
    info.joules_per_raw_unit = 1e-3;
    info.max_power = device.power_limit;
    devices_.push_back(std::move(device));
    sensors_.push_back(std::move(info));
    statuses_.push_back({sensor_name, SensorStatus::State::Ok, origin, "", ""});
  }
  if (devices_.empty()) return;

  counters_mj_ = std::vector<std::atomic<std::uint64_t>>(devices_.size());
  last_sample_ns_ = std::vector<std::atomic<std::int64_t>>(devices_.size());
  integration_.resize(devices_.size());
  utilisation_.resize(devices_.size());
  users_.resize(devices_.size());
  start_sampling(*path);
}

void NvidiaSmiSource::start_sampling(const std::string& path) {
  const Spawned child =
      spawn_piped(path, {std::string(kNvidiaSmiSampleQuery), "--format=csv,noheader,nounits", "-lms",
                         std::to_string(options_.period.count())});
  if (child.pid < 0) {
    for (SensorStatus& status : statuses_) {
      if (status.state != SensorStatus::State::Ok) continue;
      status.state = SensorStatus::State::Error;
      status.reason = fmt::format("cannot start nvidia-smi: {}", std::strerror(child.error));
    }
    child_ended_ = true;
    return;
  }
  child_ = child.pid;
  pipe_fd_ = child.read_fd;
  reader_ = std::thread([this] { reader_loop(); });
  if (options_.apps_period.count() > 0) apps_ = std::thread([this, path] { apps_loop(path); });

  // Wait for a first sample of every device, so that the run starts with live counters.
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, options_.first_sample_wait, [this] {
    if (child_ended_) return true;
    for (const auto& at : last_sample_ns_) {
      if (at.load() == 0) return false;
    }
    return true;
  });
}

NvidiaSmiSource::~NvidiaSmiSource() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  stop_child(child_);  // the reader then sees the end of the pipe
  if (reader_.joinable()) reader_.join();
  if (apps_.joinable()) apps_.join();
  if (pipe_fd_ >= 0) ::close(pipe_fd_);
}

std::optional<std::size_t> NvidiaSmiSource::slot_of_index(unsigned index) const {
  for (std::size_t i = 0; i < devices_.size(); ++i) {
    if (devices_[i].index == index) return i;
  }
  return std::nullopt;
}

void NvidiaSmiSource::reader_loop() {
  std::string pending;
  std::array<char, 4096> buffer{};
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
    }
    pollfd pfd{pipe_fd_, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, 200);
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    const ssize_t n = ::read(pipe_fd_, buffer.data(), buffer.size());
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;
    pending.append(buffer.data(), static_cast<std::size_t>(n));
    std::size_t start = 0;
    while (true) {
      const auto newline = pending.find('\n', start);
      if (newline == std::string::npos) break;
      handle_line(std::string_view(pending).substr(start, newline - start));
      start = newline + 1;
    }
    pending.erase(0, start);
    if (pending.size() > 65536) pending.clear();  // no line is that long: garbage
  }
  {
    std::lock_guard lock(mutex_);
    child_ended_ = true;
  }
  changed_.notify_all();
}

void NvidiaSmiSource::handle_line(std::string_view line) {
  const auto sample = parse_nvidia_smi_csv_line(line);
  if (!sample) return;
  const auto slot = slot_of_index(sample->index);
  if (!slot) return;
  const std::int64_t arrival = monotonic_ns();
  if (sample->power_draw_w) {
    Integration& state = integration_[*slot];
    const double watts = *sample->power_draw_w;
    if (state.have_previous) {
      // The samples' own times; the arrival times when a timestamp is missing or jumps (clock change, DST).
      double seconds = static_cast<double>(arrival - state.previous_arrival_ns) * 1e-9;
      if (sample->timestamp_ms && state.previous_timestamp_ms) {
        const double stamped =
            static_cast<double>(*sample->timestamp_ms - *state.previous_timestamp_ms) * 1e-3;
        const double longest = std::max(5.0, 20.0 * static_cast<double>(options_.period.count()) * 1e-3);
        if (stamped >= 0.0 && stamped <= longest) seconds = stamped;
      }
      state.energy_mj += (state.previous_watts + watts) * 0.5 * seconds * 1e3;
    }
    state.have_previous = true;
    state.previous_watts = watts;
    state.previous_timestamp_ms = sample->timestamp_ms;
    state.previous_arrival_ns = arrival;
    counters_mj_[*slot].store(static_cast<std::uint64_t>(state.energy_mj));
  }
  bool first = false;
  {
    std::lock_guard lock(mutex_);
    utilisation_[*slot] = sample->utilisation_percent;
    if (sample->power_draw_w) first = last_sample_ns_[*slot].exchange(arrival) == 0;
  }
  if (first) changed_.notify_all();
}

void NvidiaSmiSource::apps_loop(const std::string& path) {
  const std::vector<std::string> args{"--query-compute-apps=pid,gpu_uuid", "--format=csv,noheader"};
  while (true) {
    const Captured apps = run_capture(path, args, options_.query_timeout);
    std::vector<std::vector<pid_t>> users(devices_.size());
    std::string_view rest = apps.output;
    while (apps.error == 0 && !rest.empty()) {
      const auto newline = rest.find('\n');
      const auto fields = split_fields(rest.substr(0, newline), 2);
      if (fields.size() == 2) {
        const auto pid = parse_index(fields[0]);
        for (std::size_t i = 0; pid && i < devices_.size(); ++i) {
          if (!devices_[i].uuid.empty() && devices_[i].uuid == fields[1]) {
            users[i].push_back(static_cast<pid_t>(*pid));
          }
        }
      }
      if (newline == std::string_view::npos) break;
      rest.remove_prefix(newline + 1);
    }
    std::unique_lock lock(mutex_);
    if (apps.error == 0 && apps.exit_status == 0) users_ = std::move(users);
    if (changed_.wait_for(lock, options_.apps_period, [this] { return stopping_; })) break;
  }
}

void NvidiaSmiSource::read(std::vector<std::uint64_t>& raw, std::vector<int>& errors) noexcept {
  const std::int64_t now = monotonic_ns();
  const std::int64_t stale_ns = std::max<std::int64_t>(
      3'000'000'000, 20 * static_cast<std::int64_t>(options_.period.count()) * 1'000'000);
  const bool ended = child_ended_.load();
  for (std::size_t i = 0; i < counters_mj_.size(); ++i) {
    raw[i] = counters_mj_[i].load();
    const std::int64_t at = last_sample_ns_[i].load();
    if (ended) {
      errors[i] = EPIPE;
    } else if (at == 0 || now - at > stale_ns) {
      errors[i] = ENODATA;
    } else {
      errors[i] = 0;
    }
  }
}

void NvidiaSmiSource::sample_activity(std::vector<GpuActivity>& out) {
  if (out.size() < devices_.size()) out.resize(devices_.size());
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < devices_.size(); ++i) {
    GpuActivity& activity = out[i];
    activity.utilisation_percent = utilisation_[i];
    activity.per_process_utilisation = false;
    activity.processes.clear();
    for (const pid_t pid : users_[i]) activity.processes.push_back({pid, 0.0});
  }
}

}  // namespace wattprint
