// A live fake powercap sysfs tree: zone files, flat class symlinks, energy_uj counters (µJ) updated in place.
#include "fakes/fake_powercap.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace wattprint::testing {
namespace fs = std::filesystem;

struct FakePowercapTree::Zone {
  explicit Zone(FakeZone s) : spec(std::move(s)) {}
  FakeZone spec;
  fs::path path;  // real directory
  int fd = -1;    // energy_uj, kept open; -1 while it has vanished
  std::size_t file_len = 0;
  std::string file_text;

  // Piecewise-constant power model: energy_before_j up to seg_start, then power_w × elapsed while
  // accumulating.
  double power_w = 0.0;
  double energy_before_j = 0.0;
  Clock::time_point seg_start{};
  bool accumulating = false;

  std::uint64_t back_uj = 0;  // total of the backward jumps applied
  std::uint64_t counter = 0;
  std::uint64_t wraps = 0;

  struct Window {
    Clock::time_point from;
    Clock::time_point until;  // time_point::max() = until cleared
    [[nodiscard]] bool active(Clock::time_point now) const { return from <= now && now < until; }
  };
  std::optional<Window> vanish;
  std::optional<Window> garbage;
  std::string garbage_text;
  std::vector<std::pair<Clock::time_point, std::uint64_t>> pending_jumps;
};

namespace {

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void write_file(const fs::path& p, const std::string& text, mode_t mode) {
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) throw_errno("open " + p.string());
  const auto n = ::write(fd, text.data(), text.size());
  const bool ok = n == static_cast<ssize_t>(text.size()) && ::fchmod(fd, mode) == 0;
  ::close(fd);
  if (!ok) throw_errno("write " + p.string());
}

std::string counter_text(std::uint64_t v) {
  std::array<char, 32> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size() - 1, v);
  *end++ = '\n';
  return {buf.data(), end};
}

// "intel-rapl:0:1" -> "intel-rapl"; "intel-rapl-mmio:0" -> "intel-rapl-mmio".
std::string control_type(const std::string& dir) { return dir.substr(0, dir.find(':')); }

// Parent zone directory name, or "" for a top-level zone.
std::string parent_zone(const std::string& dir) {
  const auto first = dir.find(':');
  const auto last = dir.rfind(':');
  return first == last ? std::string() : dir.substr(0, last);
}

bool valid_zone_dir(const std::string& dir) {
  const auto first = dir.find(':');
  if (first == std::string::npos || first == 0) return false;
  std::size_t seg_len = 0;
  for (std::size_t i = first + 1; i < dir.size(); ++i) {
    const char c = dir[i];
    if (c == ':') {
      if (seg_len == 0) return false;
      seg_len = 0;
    } else if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) {
      ++seg_len;
    } else {
      return false;
    }
  }
  return seg_len > 0;
}

fs::path make_temp_root() {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/wattprint-sysfs-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) throw_errno("mkdtemp " + templ);
  // Readable by every user: tests may run the binary as another user.
  if (::chmod(templ.c_str(), 0755) != 0) throw_errno("chmod " + templ);
  return templ;
}

void make_dir(const fs::path& p) {
  fs::create_directories(p);
  fs::permissions(p, fs::perms(0755));
}

}  // namespace

FakePowercapTree::FakePowercapTree(std::vector<FakeZone> zones) {
  for (auto& spec : zones) {
    if (!valid_zone_dir(spec.dir))
      throw std::invalid_argument("fake powercap: bad zone directory " + spec.dir);
    if (by_dir_.count(spec.dir) != 0)
      throw std::invalid_argument("fake powercap: duplicate zone " + spec.dir);
    auto z = std::make_unique<Zone>(std::move(spec));
    z->power_w = z->spec.power_w;
    z->counter = z->spec.initial_energy_uj % (z->spec.max_energy_range_uj + 1);
    by_dir_[z->spec.dir] = z.get();
    zones_.push_back(std::move(z));
  }
  // Resolve real paths (parents first: fewer ':' first).
  std::vector<Zone*> order;
  for (auto& z : zones_) order.push_back(z.get());
  std::stable_sort(order.begin(), order.end(), [](const Zone* a, const Zone* b) {
    return std::count(a->spec.dir.begin(), a->spec.dir.end(), ':') <
           std::count(b->spec.dir.begin(), b->spec.dir.end(), ':');
  });

  root_ = make_temp_root();
  try {
    const fs::path devices = root_ / "devices/virtual/powercap";
    const fs::path cls = class_dir();
    make_dir(devices);
    make_dir(cls);
    for (Zone* z : order) {
      const std::string parent = parent_zone(z->spec.dir);
      const std::string ctype = control_type(z->spec.dir);
      if (parent.empty()) {
        const fs::path ctype_dir = devices / ctype;
        if (!fs::exists(ctype_dir)) {
          make_dir(ctype_dir);
          write_file(ctype_dir / "enabled", "1\n", 0644);
          fs::create_directory_symlink(fs::path("../../devices/virtual/powercap") / ctype, cls / ctype);
        }
        z->path = ctype_dir / z->spec.dir;
      } else {
        const auto it = by_dir_.find(parent);
        if (it == by_dir_.end()) {
          throw std::invalid_argument("fake powercap: zone " + z->spec.dir + " has no parent zone " + parent);
        }
        z->path = it->second->path / z->spec.dir;
      }
      make_dir(z->path);
      write_file(z->path / "name", z->spec.name + "\n", 0444);
      write_file(z->path / "max_energy_range_uj", counter_text(z->spec.max_energy_range_uj), 0444);
      write_file(z->path / "enabled", "1\n", 0644);
      if (z->spec.max_power_w) {
        write_file(z->path / "constraint_0_name", "long_term\n", 0444);
        const auto uw = static_cast<std::uint64_t>(std::llround(*z->spec.max_power_w * 1e6));
        write_file(z->path / "constraint_0_max_power_uw", counter_text(uw), 0444);
      }
      open_energy_file(*z);
      fs::create_directory_symlink(fs::path("../..") / fs::relative(z->path, root_), cls / z->spec.dir);
    }
  } catch (...) {
    for (auto& z : zones_) {
      if (z->fd >= 0) ::close(z->fd);
    }
    std::error_code ec;
    fs::remove_all(root_, ec);
    throw;
  }
}

FakePowercapTree::~FakePowercapTree() {
  stop();
  for (auto& z : zones_) {
    if (z->fd >= 0) ::close(z->fd);
  }
  std::error_code ec;
  fs::remove_all(root_, ec);
}

fs::path FakePowercapTree::class_dir() const { return root_ / "class/powercap"; }

fs::path FakePowercapTree::zone_path(const std::string& dir) const { return find(dir).path; }

FakePowercapTree::Duration FakePowercapTree::tick() const {
  std::lock_guard lk(mu_);
  return tick_;
}

FakePowercapTree::Zone& FakePowercapTree::find(const std::string& dir) {
  const auto it = by_dir_.find(dir);
  if (it == by_dir_.end()) throw std::out_of_range("fake powercap: no zone " + dir);
  return *it->second;
}

const FakePowercapTree::Zone& FakePowercapTree::find(const std::string& dir) const {
  const auto it = by_dir_.find(dir);
  if (it == by_dir_.end()) throw std::out_of_range("fake powercap: no zone " + dir);
  return *it->second;
}

void FakePowercapTree::open_energy_file(Zone& z) {
  const fs::path p = z.path / "energy_uj";
  z.fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, z.spec.energy_mode);
  if (z.fd < 0) throw_errno("open " + p.string());
  if (::fchmod(z.fd, z.spec.energy_mode) != 0) throw_errno("chmod " + p.string());
  z.file_len = 0;
  z.file_text.clear();
  write_counter(z, counter_text(z.counter));
}

void FakePowercapTree::remove_energy_file(Zone& z) {
  if (z.fd < 0) return;
  ::unlink((z.path / "energy_uj").c_str());
  ::close(z.fd);
  z.fd = -1;
}

// In place, as the kernel's attribute changes: the first token read at offset 0 is always a whole value.
// A concurrent read may see newly copied bytes with the old file size, so a longer text is preceded by
// padding the file with '\n' up to the new size: a reader then sees the old value (followed by blank lines)
// or the new one, never the first digits of the new value alone.
void FakePowercapTree::write_counter(Zone& z, const std::string& text) {
  if (z.fd < 0 || text == z.file_text) return;
  if (text.size() > z.file_len) {
    const std::string pad(text.size() - z.file_len, '\n');
    if (::pwrite(z.fd, pad.data(), pad.size(), static_cast<off_t>(z.file_len)) !=
        static_cast<ssize_t>(pad.size())) {
      return;
    }
  }
  if (::pwrite(z.fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) return;
  if (text.size() < z.file_len) {
    if (::ftruncate(z.fd, static_cast<off_t>(text.size())) != 0) return;
  }
  z.file_len = text.size();
  z.file_text = text;
}

double FakePowercapTree::energy_at(const Zone& z, Clock::time_point now) const {
  if (!z.accumulating) return z.energy_before_j;
  return z.energy_before_j + z.power_w * std::chrono::duration<double>(now - z.seg_start).count();
}

void FakePowercapTree::fold(Zone& z, Clock::time_point now) const {
  z.energy_before_j = energy_at(z, now);
  z.seg_start = now;
}

void FakePowercapTree::update_locked(Clock::time_point now) {
  for (auto& zp : zones_) {
    Zone& z = *zp;
    const std::uint64_t modulus = z.spec.max_energy_range_uj + 1;
    const auto energy_uj = static_cast<std::uint64_t>(std::llround(energy_at(z, now) * 1e6));
    const std::uint64_t total = z.spec.initial_energy_uj + energy_uj;

    // Apply due backward jumps when they do not cross 0 (so that they are not wraps).
    for (auto it = z.pending_jumps.begin(); it != z.pending_jumps.end();) {
      if (it->first <= now) {
        const std::uint64_t current = (total - z.back_uj) % modulus;
        if (it->second <= current) z.back_uj += it->second;
        it = z.pending_jumps.erase(it);
      } else {
        ++it;
      }
    }
    const std::uint64_t unwrapped = total - z.back_uj;
    z.counter = unwrapped % modulus;
    z.wraps = unwrapped / modulus;

    const bool vanished = z.vanish && z.vanish->active(now);
    if (z.vanish && now >= z.vanish->until) z.vanish.reset();
    if (vanished) {
      remove_energy_file(z);
      continue;
    }
    if (z.fd < 0) {
      try {
        open_energy_file(z);
      } catch (const std::exception&) {
        continue;  // retried next tick
      }
    }
    const bool garbage = z.garbage && z.garbage->active(now);
    if (z.garbage && now >= z.garbage->until) z.garbage.reset();
    write_counter(z, garbage ? z.garbage_text : counter_text(z.counter));
  }
}

void FakePowercapTree::run_thread() {
  std::unique_lock lk(mu_);
  while (!stop_requested_) {
    update_locked(Clock::now());
    cv_.wait_for(lk, tick_, [this] { return stop_requested_; });
  }
}

void FakePowercapTree::start(Duration tick) {
  std::lock_guard lk(mu_);
  if (running_) throw std::logic_error("fake powercap: already running");
  if (tick <= Duration::zero()) throw std::invalid_argument("fake powercap: tick must be positive");
  tick_ = tick;
  const auto now = Clock::now();
  for (auto& z : zones_) {
    z->seg_start = now;
    z->accumulating = true;
  }
  stop_requested_ = false;
  running_ = true;
  thread_ = std::thread([this] { run_thread(); });
}

void FakePowercapTree::stop() {
  {
    std::lock_guard lk(mu_);
    if (!running_) return;
    stop_requested_ = true;
  }
  cv_.notify_all();
  thread_.join();
  std::lock_guard lk(mu_);
  const auto now = Clock::now();
  for (auto& z : zones_) {
    fold(*z, now);
    z->accumulating = false;
  }
  update_locked(now);
  running_ = false;
}

bool FakePowercapTree::running() const {
  std::lock_guard lk(mu_);
  return running_;
}

void FakePowercapTree::set_power(const std::string& dir, double watts) {
  std::lock_guard lk(mu_);
  Zone& z = find(dir);
  const auto now = Clock::now();
  fold(z, now);
  z.power_w = watts;
  update_locked(now);
}

double FakePowercapTree::true_energy_j(const std::string& dir) const {
  std::lock_guard lk(mu_);
  return energy_at(find(dir), Clock::now());
}

std::uint64_t FakePowercapTree::wraps(const std::string& dir) const {
  std::lock_guard lk(mu_);
  return find(dir).wraps;
}

std::uint64_t FakePowercapTree::counter_uj(const std::string& dir) const {
  std::lock_guard lk(mu_);
  return find(dir).counter;
}

namespace {
template <typename Window, typename TimePoint, typename Duration>
Window make_window(TimePoint now, Duration after, Duration length) {
  const TimePoint from = now + after;
  return Window{from, length == Duration::zero() ? TimePoint::max() : from + length};
}
}  // namespace

void FakePowercapTree::vanish(const std::string& dir, Duration after, Duration length) {
  std::lock_guard lk(mu_);
  Zone& z = find(dir);
  const auto now = Clock::now();
  z.vanish = make_window<Zone::Window>(now, after, length);
  update_locked(now);
}

void FakePowercapTree::write_garbage(const std::string& dir, Duration after, Duration length,
                                     std::string text) {
  std::lock_guard lk(mu_);
  Zone& z = find(dir);
  const auto now = Clock::now();
  z.garbage = make_window<Zone::Window>(now, after, length);
  z.garbage_text = std::move(text);
  update_locked(now);
}

void FakePowercapTree::clear_faults(const std::string& dir) {
  std::lock_guard lk(mu_);
  Zone& z = find(dir);
  z.vanish.reset();
  z.garbage.reset();
  update_locked(Clock::now());
}

void FakePowercapTree::jump_backwards(const std::string& dir, std::uint64_t amount_uj, Duration after) {
  std::lock_guard lk(mu_);
  Zone& z = find(dir);
  const auto now = Clock::now();
  z.pending_jumps.emplace_back(now + after, amount_uj);
  update_locked(now);
}

void FakePowercapTree::set_energy_mode(const std::string& dir, mode_t mode) {
  std::lock_guard lk(mu_);
  Zone& z = find(dir);
  z.spec.energy_mode = mode;
  if (z.fd >= 0 && ::fchmod(z.fd, mode) != 0) throw_errno("chmod " + (z.path / "energy_uj").string());
}

}  // namespace wattprint::testing
