// The perf power PMU: events and scales from sysfs, one perf_event_open per package CPU and event.
#include "sources/perf/perf_power_source.hpp"

#include <fmt/format.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <system_error>

#include "platform/text_file.hpp"

namespace wattprint {

namespace fs = std::filesystem;

namespace {

class LinuxPerfEventSyscalls final : public PerfEventSyscalls {
 public:
  int open_counter(std::uint32_t type, std::uint64_t config, int cpu) noexcept override {
    perf_event_attr attr{};
    attr.size = sizeof attr;
    attr.type = type;
    attr.config = config;
    // sample_period, exclude_* and disabled stay 0: the power PMU counts system-wide from the open on.
    const long fd = ::syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
    return fd < 0 ? -errno : static_cast<int>(fd);
  }
  int read_count(int fd, std::uint64_t& count) noexcept override {
    const ssize_t n = ::read(fd, &count, sizeof count);
    if (n < 0) return errno;
    return n == static_cast<ssize_t>(sizeof count) ? 0 : EIO;
  }
  void close_counter(int fd) noexcept override { ::close(fd); }
};

/// A number with an optional 0x prefix (hexadecimal), the whole of `text`.
std::optional<std::uint64_t> parse_u64(std::string_view text) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
    base = 16;
  }
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::string read_trimmed(const fs::path& path) {
  const FileText file = read_text_file(path);
  return file.ok() ? std::string(trim(file.text)) : std::string();
}

/// One event of the power PMU and the sensor it becomes.
struct EventKind {
  const char* file;    ///< events/<file>
  const char* suffix;  ///< sensor name after perf.package-N ("" for the package itself)
  Component component;
  bool first_cpu_only;  ///< psys covers the platform: one counter
};

constexpr EventKind kEvents[] = {
    {"energy-pkg", "", Component::CpuPackage, false},     {"energy-ram", ".dram", Component::Dram, false},
    {"energy-cores", ".core", Component::CpuCore, false}, {"energy-gpu", ".uncore", Component::Uncore, false},
    {"energy-psys", "", Component::Psys, true},
};

std::string sensor_name(const EventKind& kind, std::size_t index) {
  if (kind.first_cpu_only) return "perf.psys";
  return fmt::format("perf.package-{}{}", index, kind.suffix);
}

const char* errno_name(int error) {
  const char* name = ::strerrorname_np(error);
  return name != nullptr ? name : "unknown errno";
}

/// What allows this process to open system-wide counters, for the origin ("CAP_PERFMON").
std::string access_label(const fs::path& proc_root, std::optional<int> paranoid) {
  if (has_effective_capability(proc_root, kCapPerfmon).value_or(false)) return "CAP_PERFMON";
  if (has_effective_capability(proc_root, kCapSysAdmin).value_or(false)) return "CAP_SYS_ADMIN";
  if (paranoid && *paranoid < 1) return fmt::format("perf_event_paranoid {}", *paranoid);
  return "perf_event_open allowed";
}

std::string paranoid_text(std::optional<int> paranoid) {
  if (!paranoid) return "kernel.perf_event_paranoid is unreadable";
  std::string text = fmt::format("kernel.perf_event_paranoid is {} here", *paranoid);
  if (*paranoid >= 3) {
    text +=
        " (level 3 and above come from Debian's and Ubuntu's kernel patch: no perf_event_open at all "
        "for users without capabilities)";
  }
  return text;
}

/// The status of a counter that perf_event_open refused with `error`.
SensorStatus open_failure(const std::string& name, const fs::path& event_path, int error, int cpu,
                          std::optional<int> paranoid) {
  if (error == EACCES || error == EPERM) {
    return {
        name, SensorStatus::State::Unreadable, event_path.string(),
        fmt::format("perf_event_open denied ({}): system-wide counters need CAP_PERFMON (Linux >= 5.8) or "
                    "CAP_SYS_ADMIN, or kernel.perf_event_paranoid below 1; {}",
                    errno_name(error), paranoid_text(paranoid)),
        kPerfPermissionRemedy};
  }
  if (error == ENOENT || error == EINVAL || error == EOPNOTSUPP || error == ENODEV) {
    return {name, SensorStatus::State::Error, event_path.string(),
            fmt::format("perf_event_open ({}: {}): the kernel does not count this event on CPU {}",
                        errno_name(error), std::strerror(error), cpu),
            ""};
  }
  return {
      name, SensorStatus::State::Error, event_path.string(),
      fmt::format("perf_event_open on CPU {} failed: {} ({})", cpu, std::strerror(error), errno_name(error)),
      error == EMFILE || error == ENFILE ? "raise the open-file limit (`ulimit -n`)" : ""};
}

/// Joules per count from <event>.scale and <event>.unit, or the reason the event is refused.
std::optional<double> event_scale(const fs::path& events_dir, const std::string& event, std::string& why) {
  const FileText unit = read_text_file(events_dir / (event + ".unit"));
  if (!unit.ok() || trim(unit.text) != "Joules") {
    why = unit.ok() ? fmt::format("{}.unit is '{}', not Joules", event, trim(unit.text))
                    : fmt::format("{}.unit is missing", event);
    return std::nullopt;
  }
  const FileText scale_file = read_text_file(events_dir / (event + ".scale"));
  const auto scale = scale_file.ok() ? parse_double(scale_file.text) : std::nullopt;
  if (!scale || !(*scale > 0.0) || !std::isfinite(*scale)) {
    why = scale_file.ok()
              ? fmt::format("{}.scale '{}' is not a positive number", event, trim(scale_file.text))
              : fmt::format("{}.scale is missing, so counts cannot be turned into joules", event);
    return std::nullopt;
  }
  return scale;
}

}  // namespace

PerfEventSyscalls& system_perf_event_syscalls() {
  static LinuxPerfEventSyscalls syscalls;
  return syscalls;
}

std::optional<int> read_perf_event_paranoid(const fs::path& proc_root) noexcept {
  try {
    const FileText file = read_text_file(proc_root / "sys/kernel/perf_event_paranoid");
    if (!file.ok()) return std::nullopt;
    const std::string_view text = trim(file.text);
    int value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
  } catch (...) {
    return std::nullopt;
  }
}

std::optional<bool> has_effective_capability(const fs::path& proc_root, unsigned bit) noexcept {
  try {
    const FileText file = read_text_file(proc_root / "self/status");
    if (!file.ok() || bit >= 64) return std::nullopt;
    constexpr std::string_view kKey = "\nCapEff:";
    const std::string text = "\n" + file.text;
    const auto at = text.find(kKey);
    if (at == std::string::npos) return std::nullopt;
    std::string_view rest = std::string_view(text).substr(at + kKey.size());
    rest = trim(rest.substr(0, rest.find('\n')));
    std::uint64_t mask = 0;
    const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), mask, 16);
    if (ec != std::errc() || end != rest.data() + rest.size()) return std::nullopt;
    return ((mask >> bit) & 1U) != 0;
  } catch (...) {
    return std::nullopt;
  }
}

std::vector<int> parse_cpu_list(std::string_view text) {
  constexpr int kMaxCpus = 65536;
  std::vector<int> cpus;
  text = trim(text);
  if (text.empty()) return {};
  while (true) {
    const auto comma = text.find(',');
    const std::string_view part = text.substr(0, comma);
    const auto dash = part.find('-');
    const auto first = parse_u64(part.substr(0, dash));
    const auto last = dash == std::string_view::npos ? first : parse_u64(part.substr(dash + 1));
    if (!first || !last || *last < *first || *last >= static_cast<std::uint64_t>(kMaxCpus)) return {};
    for (auto cpu = *first; cpu <= *last; ++cpu) cpus.push_back(static_cast<int>(cpu));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return cpus;
}

std::optional<std::uint64_t> parse_perf_event_config(std::string_view text) {
  constexpr std::string_view kTerm = "event=";
  text = trim(text);
  if (text.substr(0, kTerm.size()) != kTerm) return std::nullopt;
  const auto value = parse_u64(text.substr(kTerm.size()));
  if (!value || *value > 0xffU) return std::nullopt;
  return value;
}

PerfPowerSource::PerfPowerSource(const PerfPowerOptions& options, PerfEventSyscalls& syscalls)
    : syscalls_(&syscalls) {
  const fs::path pmu = options.sysfs_root / "bus/event_source/devices/power";
  std::error_code ec;
  if (!fs::is_directory(pmu, ec)) {
    statuses_.push_back(
        {"perf", SensorStatus::State::Absent, pmu.string(),
         "no perf power PMU (a virtual machine, a non-x86 CPU, or a CPU model the kernel's RAPL "
         "PMU does not know)",
         ""});
    return;
  }
  pmu_present_ = true;
  const auto type = parse_u64(read_trimmed(pmu / "type"));
  const std::vector<int> cpus = parse_cpu_list(read_trimmed(pmu / "cpumask"));
  if (!type || *type > std::numeric_limits<std::uint32_t>::max() || cpus.empty()) {
    statuses_.push_back({"perf", SensorStatus::State::Error, pmu.string(),
                         !type ? "the power PMU's type file is missing or not a number"
                               : "the power PMU's cpumask is missing or malformed",
                         ""});
    return;
  }
  const std::optional<int> paranoid = read_perf_event_paranoid(options.proc_root);
  const std::string origin_prefix =
      fmt::format("{} ({})", kPerfOriginPrefix, access_label(options.proc_root, paranoid));
  const fs::path events_dir = pmu / "events";
  for (const EventKind& kind : kEvents) {
    const fs::path event_path = events_dir / kind.file;
    const FileText description = read_text_file(event_path);
    if (!description.ok()) continue;  // the kernel lists only the events this CPU has
    std::string refused;
    const auto config = parse_perf_event_config(description.text);
    if (!config) refused = fmt::format("{} is '{}', not event=0x00..0xff", kind.file, trim(description.text));
    const auto scale = config ? event_scale(events_dir, kind.file, refused) : std::nullopt;
    const std::size_t count = kind.first_cpu_only ? 1 : cpus.size();
    for (std::size_t i = 0; i < count; ++i) {
      const std::string name = sensor_name(kind, i);
      if (!scale) {
        statuses_.push_back({name, SensorStatus::State::Error, event_path.string(), refused, ""});
        continue;
      }
      const int fd = syscalls_->open_counter(static_cast<std::uint32_t>(*type), *config, cpus[i]);
      if (fd < 0) {
        statuses_.push_back(open_failure(name, event_path, -fd, cpus[i], paranoid));
        continue;
      }
      std::uint64_t first = 0;
      if (const int error = syscalls_->read_count(fd, first); error != 0) {
        syscalls_->close_counter(fd);
        statuses_.push_back({name, SensorStatus::State::Error, event_path.string(),
                             fmt::format("reading the count failed: {}", std::strerror(error)), ""});
        continue;
      }
      SensorInfo info;
      info.name = name;
      info.family = "perf";
      info.component = kind.component;
      info.origin = fmt::format("{}: power/{} on CPU {}", origin_prefix, kind.file, cpus[i]);
      info.counter_max = std::numeric_limits<std::uint64_t>::max();
      info.joules_per_raw_unit = *scale;
      statuses_.push_back({name, SensorStatus::State::Ok, info.origin, "", ""});
      sensors_.push_back(std::move(info));
      fds_.push_back(fd);
    }
  }
  if (statuses_.empty()) {
    statuses_.push_back({"perf", SensorStatus::State::Absent, events_dir.string(),
                         "the power PMU lists no energy events", ""});
  }
}

PerfPowerSource::~PerfPowerSource() {
  for (const int fd : fds_) syscalls_->close_counter(fd);
}

void PerfPowerSource::read(std::vector<std::uint64_t>& raw, std::vector<int>& errors) noexcept {
  for (std::size_t i = 0; i < fds_.size(); ++i) errors[i] = syscalls_->read_count(fds_[i], raw[i]);
}

bool has_package_counter(const EnergyCounterSource& source) {
  for (const SensorInfo& info : source.sensors()) {
    if (info.component == Component::CpuPackage) return true;
  }
  return false;
}

std::unique_ptr<EnergyCounterSource> fall_back_to_perf_power(std::unique_ptr<EnergyCounterSource> powercap,
                                                             const PerfPowerOptions& options,
                                                             PerfEventSyscalls& syscalls,
                                                             std::vector<SensorStatus>& statuses) {
  if (powercap && has_package_counter(*powercap)) return powercap;
  auto perf = std::make_unique<PerfPowerSource>(options, syscalls);
  if (perf->pmu_present()) statuses.insert(statuses.end(), perf->statuses().begin(), perf->statuses().end());
  if (has_package_counter(*perf)) return perf;
  return powercap;
}

}  // namespace wattprint
