// The journal of a running run (see run_journal.hpp).
#include "journal/run_journal.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "platform/signal_free_thread.hpp"
#include "platform/text_file.hpp"

namespace wattprint {

namespace fs = std::filesystem;
using nlohmann::json;

int JournalFileSystem::open(const fs::path& path, int flags, mode_t mode, int& fd) {
  fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  return fd < 0 ? errno : 0;
}

int JournalFileSystem::write(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

int JournalFileSystem::fsync(int fd) { return ::fsync(fd) != 0 ? errno : 0; }
int JournalFileSystem::fdatasync(int fd) { return ::fdatasync(fd) != 0 ? errno : 0; }
int JournalFileSystem::close(int fd) { return ::close(fd) != 0 ? errno : 0; }
int JournalFileSystem::rename(const fs::path& from, const fs::path& to) {
  return ::rename(from.c_str(), to.c_str()) != 0 ? errno : 0;
}
int JournalFileSystem::unlink(const fs::path& path) { return ::unlink(path.c_str()) != 0 ? errno : 0; }

int replace_file_durably(JournalFileSystem& fs, const fs::path& path, std::string_view text) {
  const fs::path temporary = path.string() + ".tmp";
  int fd = -1;
  int error = fs.open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0600, fd);
  if (error != 0) return error;
  error = fs.write(fd, text);
  if (error == 0) error = fs.fsync(fd);
  const int close_error = fs.close(fd);
  if (error == 0) error = close_error;
  if (error == 0) error = fs.rename(temporary, path);
  if (error != 0) {
    fs.unlink(temporary);
    return error;
  }
  // The rename itself is durable once the directory is.
  int dir = -1;
  error = fs.open(path.parent_path().empty() ? fs::path(".") : path.parent_path(), O_RDONLY | O_DIRECTORY, 0,
                  dir);
  if (error != 0) return error;
  error = fs.fsync(dir);
  fs.close(dir);
  return error;
}

std::optional<fs::path> default_journal_root(const EnvironmentLookup& environment) {
  if (auto dir = environment("WATTPRINT_JOURNAL_DIR"); dir && !dir->empty()) return fs::path(*dir);
  if (auto state = environment("XDG_STATE_HOME"); state && !state->empty())
    return fs::path(*state) / "wattprint" / "journal";
  if (auto home = environment("HOME"); home && !home->empty())
    return fs::path(*home) / ".local" / "state" / "wattprint" / "journal";
  return std::nullopt;
}

std::string current_boot_id(const EnvironmentLookup& environment) {
  const fs::path path = environment("WATTPRINT_BOOT_ID_FILE").value_or("/proc/sys/kernel/random/boot_id");
  const FileText text = read_text_file(path);
  return text.ok() ? std::string(trim(text.text)) : std::string();
}

double journal_flush_period_s(const EnvironmentLookup& environment) {
  if (auto value = environment("WATTPRINT_JOURNAL_INTERVAL")) {
    if (auto seconds = parse_double(*value); seconds && *seconds > 0.0) return *seconds;
  }
  return RunJournal::kFlushPeriodS;
}

namespace {

json owner_json(const JournalOwner& owner) {
  return json{{"run_id", owner.run_id},
              {"pid", owner.pid},
              {"host", owner.host},
              {"boot_id", owner.boot_id},
              {"started_at", owner.started_at},
              {"command", owner.command}};
}

JournalOwner owner_from_json(const json& j) {
  JournalOwner owner;
  owner.run_id = j.value("run_id", std::string());
  owner.pid = j.value("pid", static_cast<pid_t>(0));
  owner.host = j.value("host", std::string());
  owner.boot_id = j.value("boot_id", std::string());
  owner.started_at = j.value("started_at", std::string());
  if (j.contains("command") && j["command"].is_array())
    owner.command = j["command"].get<std::vector<std::string>>();
  return owner;
}

json optional_number(const std::optional<double>& value) { return value ? json(*value) : json(nullptr); }

/// The modification time of `path`, ISO 8601 UTC; empty when it cannot be read.
std::string modified_at(const fs::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return {};
  std::tm utc{};
  gmtime_r(&info.st_mtime, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

}  // namespace

RunJournal::RunJournal(const fs::path& root, const JournalOwner& owner, JournalFileSystem& fs)
    : directory_(root / owner.run_id), fs_(fs) {
  std::error_code ec;
  fs::create_directories(root, ec);
  if (!ec) fs::permissions(root, fs::perms::owner_all, ec);
  if (!ec) fs::create_directory(directory_, ec);
  if (!ec) fs::permissions(directory_, fs::perms::owner_all, ec);
  if (ec)
    throw std::runtime_error(fmt::format("journal: cannot create {}: {}", directory_.string(), ec.message()));
  int error = replace_file_durably(fs_, directory_ / "owner.json", owner_json(owner).dump(2) + "\n");
  if (error == 0)
    error = fs_.open(directory_ / "samples.jsonl", O_WRONLY | O_CREAT | O_APPEND, 0600, samples_fd_);
  if (error != 0) {
    fs::remove_all(directory_, ec);
    throw std::runtime_error(
        fmt::format("journal: cannot write in {}: {}", directory_.string(), std::strerror(error)));
  }
  // The writer must not receive the signals meant for the command.
  thread_ = start_thread_without_signals([this] { loop(); });
}

RunJournal::~RunJournal() {
  {
    // Not stopped first (an exception unwinding the run): what a snapshot would render may be gone.
    const std::lock_guard lock(mutex_);
    pending_ = nullptr;
  }
  stop();
  if (samples_fd_ >= 0) fs_.close(samples_fd_);
}

void RunJournal::begin(const std::vector<SampleSeries>& series) {
  json header = json::array();
  for (const SampleSeries& s : series) {
    header.push_back({{"name", s.name}, {"component", s.component}, {"kind", s.kind}, {"source", s.source}});
  }
  const std::string line = json{{"series", header}}.dump() + "\n";
  const std::lock_guard lock(mutex_);
  rows_ += line;
}

void RunJournal::add(const SampleRow& row) {
  if (failed_.load(std::memory_order_relaxed)) return;
  json power = json::array();
  json energy = json::array();
  for (const auto& p : row.power_w) power.push_back(optional_number(p));
  for (const auto& e : row.energy_j) energy.push_back(optional_number(e));
  const std::string line =
      json{{"t", row.t_s},       {"dt", row.interval_s},       {"power_w", power},
           {"energy_j", energy}, {"cpu_share", row.cpu_share}, {"cpu_cores", row.cpu_cores},
           {"phase", row.phase}}
          .dump() +
      "\n";
  const std::lock_guard lock(mutex_);
  rows_ += line;
}

void RunJournal::submit(double at_s, std::function<std::string()> render) {
  if (failed_.load(std::memory_order_relaxed)) return;
  {
    const std::lock_guard lock(mutex_);
    pending_ = std::move(render);
    pending_at_s_ = at_s;
  }
  wake_.notify_all();
}

void RunJournal::wait_idle() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return !pending_ && !busy_; });
}

void RunJournal::stop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string RunJournal::failure() const {
  const std::lock_guard lock(mutex_);
  return failure_;
}

void RunJournal::fail(int error, std::string_view what, double at_s) {
  const std::string warning = fmt::format(
      "journal: cannot write {}: {} at t={:.1f}s; measuring continued in memory; the run could not have been "
      "recovered after a crash from then on",
      (directory_ / what).string(), std::strerror(error), at_s);
  std::fprintf(stderr, "wattprint: warning: %s\n", warning.c_str());
  const std::lock_guard lock(mutex_);
  failure_ = warning;
  rows_.clear();
  failed_.store(true);
}

void RunJournal::loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || pending_; });
    if (!pending_) break;  // stopping with nothing left to write
    std::function<std::string()> render = std::move(pending_);
    pending_ = nullptr;
    const double at_s = pending_at_s_;
    std::string rows;
    rows.swap(rows_);
    busy_ = true;
    lock.unlock();
    if (!failed_.load()) {
      // Samples first: a report.json at t never has fewer samples on disk than up to t.
      int error = fs_.write(samples_fd_, rows);
      if (error == 0) error = fs_.fdatasync(samples_fd_);
      if (error != 0) {
        fail(error, "samples.jsonl", at_s);
      } else if (const int report_error = replace_file_durably(fs_, directory_ / "report.json", render());
                 report_error != 0) {
        fail(report_error, "report.json", at_s);
      }
    }
    lock.lock();
    busy_ = false;
    idle_.notify_all();
  }
  idle_.notify_all();
}

void RunJournal::remove() {
  stop();
  if (samples_fd_ >= 0) {
    fs_.close(samples_fd_);
    samples_fd_ = -1;
  }
  std::error_code ec;
  fs::remove_all(directory_, ec);
}

int RunJournal::compact(std::string_view final_report) {
  stop();
  int error = replace_file_durably(fs_, directory_ / "report.json", final_report);
  if (error == 0) error = replace_file_durably(fs_, directory_ / "finished", "finished\n");
  if (error == 0) {
    if (samples_fd_ >= 0) {
      fs_.close(samples_fd_);
      samples_fd_ = -1;
    }
    fs_.unlink(directory_ / "samples.jsonl");
  }
  return error;
}

std::string state_text(const JournalEntry& entry) {
  switch (entry.state) {
    case JournalEntry::State::Running:
      return "running";
    case JournalEntry::State::Interrupted:
      return "interrupted";
    case JournalEntry::State::Rebooted:
      return "interrupted by a reboot";
    case JournalEntry::State::Finished:
      return "finished, not stored";
    case JournalEntry::State::OtherHost:
      break;
  }
  return "on host " + entry.owner.host;
}

bool process_alive(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

std::vector<JournalEntry> list_journals(const fs::path& root, const std::string& host,
                                        const std::string& boot_id, const PidAlive& alive) {
  std::vector<JournalEntry> entries;
  std::error_code ec;
  for (const fs::directory_entry& item : fs::directory_iterator(root, ec)) {
    if (!item.is_directory(ec)) continue;
    const FileText owner_text = read_text_file(item.path() / "owner.json");
    if (!owner_text.ok()) continue;
    JournalEntry entry;
    entry.directory = item.path();
    try {
      entry.owner = owner_from_json(json::parse(owner_text.text));
    } catch (const std::exception&) {
      continue;
    }
    const fs::path report = item.path() / "report.json";
    entry.has_report = fs::exists(report, ec);
    if (entry.has_report) {
      entry.last_flush_at = modified_at(report);
      try {
        std::FILE* file = std::fopen(report.c_str(), "rb");
        if (file != nullptr) {
          const json j = json::parse(file, nullptr, false);
          std::fclose(file);
          if (j.is_object() && j.contains("duration_s") && j["duration_s"].is_number())
            entry.covered_s = j["duration_s"].get<double>();
        }
      } catch (const std::exception&) {
        entry.covered_s.reset();
      }
    }
    if (fs::exists(item.path() / "finished", ec)) {
      entry.state = JournalEntry::State::Finished;
    } else if (!entry.owner.host.empty() && entry.owner.host != host) {
      entry.state = JournalEntry::State::OtherHost;
    } else if (!boot_id.empty() && entry.owner.boot_id != boot_id) {
      entry.state = JournalEntry::State::Rebooted;
    } else if (alive(entry.owner.pid)) {
      entry.state = JournalEntry::State::Running;
    } else {
      entry.state = JournalEntry::State::Interrupted;
    }
    entries.push_back(std::move(entry));
  }
  std::sort(entries.begin(), entries.end(), [](const JournalEntry& a, const JournalEntry& b) {
    return a.owner.started_at != b.owner.started_at ? a.owner.started_at < b.owner.started_at
                                                    : a.directory < b.directory;
  });
  return entries;
}

}  // namespace wattprint
