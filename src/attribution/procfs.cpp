// /proc parsing: per-process stat fields (ticks, pages), machine CPU ticks and memory bytes.
#include "attribution/procfs.hpp"

#include <array>
#include <charconv>
#include <string>
#include <system_error>

#include "platform/text_file.hpp"

namespace wattprint {

namespace {

bool parse_u64_token(std::string_view token, std::uint64_t& out) {
  if (token.empty()) return false;
  const auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), out);
  return ec == std::errc{} && ptr == token.data() + token.size();
}

bool parse_i64_token(std::string_view token, std::int64_t& out) {
  if (token.empty()) return false;
  const auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), out);
  return ec == std::errc{} && ptr == token.data() + token.size();
}

/// Splits on spaces without allocating; calls f(index, token) until f returns false.
template <typename F>
void for_each_token(std::string_view text, F&& f) {
  std::size_t index = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\n' || text[pos] == '\t')) ++pos;
    if (pos >= text.size()) break;
    std::size_t end = pos;
    while (end < text.size() && text[end] != ' ' && text[end] != '\n' && text[end] != '\t') ++end;
    if (!f(index++, text.substr(pos, end - pos))) return;
    pos = end;
  }
}

}  // namespace

std::optional<ProcessStat> parse_process_stat(std::string_view text) noexcept {
  const auto open = text.find('(');
  const auto close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) return std::nullopt;
  ProcessStat stat;
  std::int64_t pid = 0;
  if (!parse_i64_token(trim(text.substr(0, open)), pid) || pid <= 0) return std::nullopt;
  stat.pid = static_cast<pid_t>(pid);
  // Field 3 (state) is token 0 after the last ')'.
  bool ok = true;
  std::size_t seen = 0;
  for_each_token(text.substr(close + 1), [&](std::size_t i, std::string_view token) {
    const std::size_t field = i + 3;
    std::int64_t signed_value = 0;
    switch (field) {
      case 3:
        stat.state = token.empty() ? '?' : token[0];
        break;
      case 4:
        ok = ok && parse_i64_token(token, signed_value);
        stat.ppid = static_cast<pid_t>(signed_value);
        break;
      case 14:
        ok = ok && parse_u64_token(token, stat.utime);
        break;
      case 15:
        ok = ok && parse_u64_token(token, stat.stime);
        break;
      case 16:
        ok = ok && parse_i64_token(token, signed_value);
        stat.cutime = signed_value > 0 ? static_cast<std::uint64_t>(signed_value) : 0;
        break;
      case 17:
        ok = ok && parse_i64_token(token, signed_value);
        stat.cstime = signed_value > 0 ? static_cast<std::uint64_t>(signed_value) : 0;
        break;
      case 20:
        ok = ok && parse_u64_token(token, stat.num_threads);
        break;
      case 22:
        ok = ok && parse_u64_token(token, stat.starttime);
        break;
      case 24:
        ok = ok && parse_i64_token(token, signed_value);
        stat.rss_pages = signed_value > 0 ? static_cast<std::uint64_t>(signed_value) : 0;
        break;
      default:
        break;
    }
    seen = field;
    return ok && field < 24;
  });
  if (!ok || seen < 24) return std::nullopt;
  return stat;
}

std::optional<MachineCpuTicks> parse_machine_cpu_ticks(std::string_view proc_stat) noexcept {
  if (proc_stat.substr(0, 4) != "cpu ") return std::nullopt;
  const std::string_view line = proc_stat.substr(0, proc_stat.find('\n'));
  std::uint64_t values[8] = {};  // user nice system idle iowait irq softirq steal (guest, guest_nice ignored)
  std::size_t count = 0;
  bool ok = true;
  for_each_token(line.substr(4), [&](std::size_t i, std::string_view token) {
    if (i >= 8) return false;
    ok = ok && parse_u64_token(token, values[i]);
    count = i + 1;
    return ok;
  });
  if (!ok || count < 4) return std::nullopt;
  MachineCpuTicks ticks;
  ticks.busy = values[0] + values[1] + values[2] + values[5] + values[6] + values[7];
  ticks.total = ticks.busy + values[3] + values[4];
  return ticks;
}

std::optional<MachineMemory> parse_meminfo(std::string_view text) noexcept {
  MachineMemory memory;
  bool have_total = false;
  bool have_available = false;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view key = line.substr(0, colon);
    if (key != "MemTotal" && key != "MemAvailable") continue;
    std::string_view value = trim(line.substr(colon + 1));
    const bool kilobytes = value.size() > 3 && value.substr(value.size() - 3) == " kB";
    if (kilobytes) value = trim(value.substr(0, value.size() - 3));
    std::uint64_t number = 0;
    if (!parse_u64_token(value, number)) return std::nullopt;
    if (kilobytes) number *= 1024U;
    if (key == "MemTotal") {
      memory.total_bytes = number;
      have_total = true;
    } else {
      memory.available_bytes = number;
      have_available = true;
    }
  }
  if (!have_total || !have_available) return std::nullopt;
  return memory;
}

void parse_children(std::string_view text, std::vector<pid_t>& out) {
  for_each_token(text, [&](std::size_t, std::string_view token) {
    std::int64_t pid = 0;
    if (parse_i64_token(token, pid) && pid > 0) out.push_back(static_cast<pid_t>(pid));
    return true;
  });
}

std::optional<ProcessStat> ProcFs::process_stat(pid_t pid) const {
  const FileText file = read_text_file(root_ / std::to_string(pid) / "stat");
  if (!file.ok()) return std::nullopt;
  return parse_process_stat(file.text);
}

std::optional<MachineCpuTicks> ProcFs::machine_cpu_ticks() const {
  const FileText file = read_text_file(root_ / "stat");
  if (!file.ok()) return std::nullopt;
  return parse_machine_cpu_ticks(file.text);
}

std::optional<MachineMemory> ProcFs::machine_memory() const {
  const FileText file = read_text_file(root_ / "meminfo");
  if (!file.ok()) return std::nullopt;
  return parse_meminfo(file.text);
}

std::optional<std::vector<pid_t>> ProcFs::children(pid_t pid, std::uint64_t num_threads) const {
  std::vector<pid_t> result;
  const std::filesystem::path task_dir = root_ / std::to_string(pid) / "task";
  if (num_threads <= 1) {
    const FileText file = read_text_file(task_dir / std::to_string(pid) / "children");
    if (file.error_number == ENOENT) {
      // Either the process is gone or the kernel lacks CONFIG_PROC_CHILDREN: tell them apart.
      std::error_code ec;
      if (std::filesystem::exists(task_dir, ec)) return std::nullopt;
      return result;
    }
    if (file.ok()) parse_children(file.text, result);
    return result;
  }
  std::error_code ec;
  bool any = false;
  for (const auto& entry : std::filesystem::directory_iterator(task_dir, ec)) {
    const FileText file = read_text_file(entry.path() / "children");
    if (file.error_number == ENOENT) continue;
    any = true;
    if (file.ok()) parse_children(file.text, result);
  }
  if (!any && !ec) return std::nullopt;
  return result;
}

std::vector<ProcessStat> ProcFs::all_processes() const {
  std::vector<ProcessStat> result;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(root_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const FileText file = read_text_file(entry.path() / "stat");
    if (!file.ok()) continue;
    if (auto stat = parse_process_stat(file.text)) result.push_back(*stat);
  }
  return result;
}

// detect_unlink: under an injected /proc root (WATTPRINT_PROC_ROOT: tests, containers) the files may be
// regular files replaced by a rename, which a kept descriptor would go on reading frozen (the machine's busy
// time then stops, and every share becomes 1). Costs one fstat per read; /proc's own files are never
// unlinked.
MachineUsageReader::MachineUsageReader(const ProcFs& procfs)
    : stat_(procfs.root() / "stat", true), meminfo_(procfs.root() / "meminfo", true) {}

std::optional<MachineCpuTicks> MachineUsageReader::cpu_ticks() noexcept {
  // The cpu line comes first and is shorter than 512 bytes (ten 20-digit numbers at most).
  std::array<char, 512> buffer{};
  std::size_t size = 0;
  if (stat_.read_prefix(buffer.data(), buffer.size(), size) != 0) return std::nullopt;
  return parse_machine_cpu_ticks(std::string_view(buffer.data(), size));
}

std::optional<MachineMemory> MachineUsageReader::memory() noexcept {
  // MemTotal and MemAvailable are the first and third lines.
  std::array<char, 512> buffer{};
  std::size_t size = 0;
  if (meminfo_.read_prefix(buffer.data(), buffer.size(), size) != 0) return std::nullopt;
  std::string_view text(buffer.data(), size);
  if (size == buffer.size()) text = text.substr(0, text.rfind('\n') + 1);  // drop a cut last line
  return parse_meminfo(text);
}

}  // namespace wattprint
