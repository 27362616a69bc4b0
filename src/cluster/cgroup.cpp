// Control groups, v1 and v2: a process's group, a group's CPU time and memory, its processes, and the
// batch jobs and services found by the layouts Slurm, OAR and systemd give their groups.
#include "cluster/cgroup.hpp"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <set>
#include <string_view>
#include <system_error>

#include "platform/text_file.hpp"

namespace wattprint {

namespace {

namespace fs = std::filesystem;

/// The lines of `text`, without their '\n'.
std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto end = text.find('\n');
    lines.push_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

/// A decimal unsigned integer making up the whole of `text` (surrounding whitespace allowed).
std::optional<std::uint64_t> parse_whole_u64(std::string_view text) {
  const std::string_view digits = trim(text);
  if (digits.empty()) return std::nullopt;
  std::uint64_t value = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc{} || ptr != digits.data() + digits.size()) return std::nullopt;
  return value;
}

std::optional<std::uint64_t> read_whole_u64(const fs::path& file) {
  const FileText text = read_text_file(file);
  if (!text.ok()) return std::nullopt;
  return parse_whole_u64(text.text);
}

/// `usage_usec N` of a v2 cpu.stat.
std::optional<std::uint64_t> parse_usage_usec(std::string_view cpu_stat) {
  for (const std::string_view line : lines_of(cpu_stat)) {
    constexpr std::string_view key = "usage_usec ";
    if (line.starts_with(key)) return parse_whole_u64(line.substr(key.size()));
  }
  return std::nullopt;
}

/// The components of a cgroup path ("/a/b" → a, b); nullopt for a path that is not absolute or that
/// climbs out of the hierarchy ("..", ".").
std::optional<std::vector<std::string>> components_of(std::string_view path) {
  if (!path.starts_with('/')) return std::nullopt;
  std::vector<std::string> components;
  std::size_t pos = 1;
  while (pos <= path.size()) {
    const auto end = std::min(path.find('/', pos), path.size());
    const std::string_view part = path.substr(pos, end - pos);
    if (part == ".." || part == ".") return std::nullopt;
    if (!part.empty()) components.emplace_back(part);
    pos = end + 1;
  }
  return components;
}

/// `dir` joined with the relative cgroup path; nullopt for an unsafe path.
std::optional<fs::path> group_dir(const fs::path& hierarchy, const std::string& path) {
  const auto components = components_of(path);
  if (!components) return std::nullopt;
  fs::path dir = hierarchy;
  for (const auto& part : *components) dir /= part;
  return dir;
}

std::string join_path(const std::vector<std::string>& components, std::size_t count) {
  std::string path;
  for (std::size_t i = 0; i < count; ++i) path += "/" + components[i];
  return path.empty() ? "/" : path;
}

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// What the layout of the path's first `count` components says the group at that depth is (its user left
/// for the caller when it is not in the path). `uid`: Slurm v1's uid from the path.
struct LayoutMatch {
  JobCgroup job;
  std::optional<uid_t> uid;
  bool user_from_processes = false;
};

std::optional<LayoutMatch> match_layout(const std::vector<std::string>& components, std::size_t count) {
  if (count == 0) return std::nullopt;
  const std::string& name = components[count - 1];
  const std::string parent = count >= 2 ? components[count - 2] : std::string();
  const std::string grandparent = count >= 3 ? components[count - 3] : std::string();
  const std::string path = join_path(components, count);
  // Slurm: job_N under uid_U under slurm (or slurm_<node>) on v1; under [<node>_]slurmstepd.scope on v2.
  if (name.starts_with("job_") && all_digits(std::string_view(name).substr(4))) {
    const std::string job_id = name.substr(4);
    if (parent.starts_with("uid_") && all_digits(std::string_view(parent).substr(4)) &&
        grandparent.starts_with("slurm")) {
      std::uint64_t uid = 0;
      const std::string_view digits = std::string_view(parent).substr(4);
      const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), uid);
      if (ec == std::errc{} && ptr == digits.data() + digits.size() && uid <= 0xFFFFFFFFULL) {
        return LayoutMatch{{"slurm", job_id, "", path}, static_cast<uid_t>(uid), false};
      }
    }
    if (parent.ends_with("slurmstepd.scope"))
      return LayoutMatch{{"slurm", job_id, "", path}, std::nullopt, true};
  }
  // OAR: <cpuset_path>/<user>_<job id>, cpuset_path being "oar" unless the site changed it.
  if (parent == "oar") {
    const auto underscore = name.rfind('_');
    if (underscore != std::string::npos && underscore > 0 &&
        all_digits(std::string_view(name).substr(underscore + 1))) {
      return LayoutMatch{
          {"oar", name.substr(underscore + 1), name.substr(0, underscore), path}, std::nullopt, false};
    }
  }
  // systemd: a service directly under system.slice.
  if (parent == "system.slice" && name.ends_with(".service") && name.size() > 8) {
    return LayoutMatch{{"systemd", name, "", path}, std::nullopt, true};
  }
  return std::nullopt;
}

/// The real uid (first field of the Uid: line) of <procfs>/<pid>/status.
std::optional<uid_t> process_uid(const ProcFs& procfs, pid_t pid) {
  const FileText status = read_text_file(procfs.root() / std::to_string(pid) / "status");
  if (!status.ok()) return std::nullopt;
  for (const std::string_view line : lines_of(status.text)) {
    if (!line.starts_with("Uid:")) continue;
    const auto value = parse_first_u64(line.substr(4));
    if (!value || *value > 0xFFFFFFFFULL) return std::nullopt;
    return static_cast<uid_t>(*value);
  }
  return std::nullopt;
}

void collect_processes(const fs::path& dir, std::vector<pid_t>& out, int depth) {
  const FileText procs = read_text_file(dir / "cgroup.procs");
  if (procs.ok()) {
    for (const std::string_view line : lines_of(procs.text)) {
      const auto pid = parse_whole_u64(line);
      if (pid && *pid > 0 && *pid <= 0x7FFFFFFFULL) out.push_back(static_cast<pid_t>(*pid));
    }
  }
  if (depth >= 32) return;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (it->is_directory(type_ec) && !it->is_symlink(type_ec)) collect_processes(it->path(), out, depth + 1);
  }
}

}  // namespace

UserNameLookup system_user_names() {
  return [](uid_t uid) -> std::string {
    std::array<char, 4096> buffer{};
    passwd entry{};
    passwd* result = nullptr;
    if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &result) == 0 && result != nullptr &&
        result->pw_name != nullptr) {
      return result->pw_name;
    }
    return std::to_string(uid);
  };
}

CgroupFs::CgroupFs(std::filesystem::path root, ProcFs procfs)
    : root_(std::move(root)), procfs_(std::move(procfs)) {
  std::error_code ec;
  if (fs::exists(root_ / "cgroup.controllers", ec)) {
    version_ = CgroupVersion::V2;
    cpu_dir_ = root_;
    memory_dir_ = root_;
    hierarchies_ = {root_};
    return;
  }
  version_ = CgroupVersion::V1;
  for (const char* name : {"cpuacct", "cpu,cpuacct", "cpuacct,cpu"}) {
    if (fs::is_directory(root_ / name, ec)) {
      cpu_dir_ = root_ / name;
      break;
    }
  }
  if (fs::is_directory(root_ / "memory", ec)) memory_dir_ = root_ / "memory";
  for (const fs::path& dir : {cpu_dir_, memory_dir_, root_ / "cpuset", root_ / "systemd"}) {
    if (!dir.empty() && fs::is_directory(dir, ec) &&
        std::find(hierarchies_.begin(), hierarchies_.end(), dir) == hierarchies_.end()) {
      hierarchies_.push_back(dir);
    }
  }
}

std::optional<std::string> CgroupFs::cgroup_of(const ProcFs& procfs, pid_t pid) const {
  const FileText text = read_text_file(procfs.root() / std::to_string(pid) / "cgroup");
  if (!text.ok()) return std::nullopt;
  // Lines are "ID:CONTROLLERS:PATH". v2: the "0::" line. v1: the line whose controllers include cpuacct,
  // else cpuset, else name=systemd (the hierarchies find_jobs searches).
  std::optional<std::string> by_rank[3];
  for (const std::string_view line : lines_of(text.text)) {
    const auto first = line.find(':');
    if (first == std::string_view::npos) continue;
    const auto second = line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    const std::string_view controllers = line.substr(first + 1, second - first - 1);
    const std::string path(line.substr(second + 1));
    if (!path.starts_with('/')) continue;
    if (version_ == CgroupVersion::V2) {
      if (controllers.empty() && line.substr(0, first) == "0") return path;
      continue;
    }
    bool cpuacct = false;
    bool cpuset = false;
    std::string_view rest = controllers;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const std::string_view controller = rest.substr(0, comma);
      cpuacct = cpuacct || controller == "cpuacct";
      cpuset = cpuset || controller == "cpuset";
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    const int rank = cpuacct ? 0 : cpuset ? 1 : controllers == "name=systemd" ? 2 : -1;
    if (rank >= 0 && !by_rank[rank]) by_rank[rank] = path;
  }
  for (auto& candidate : by_rank) {
    if (candidate) return candidate;
  }
  return std::nullopt;
}

CgroupUsage CgroupFs::usage(const std::string& path) const {
  CgroupUsage usage;
  if (!cpu_dir_.empty()) {
    if (const auto dir = group_dir(cpu_dir_, path)) {
      if (version_ == CgroupVersion::V2) {
        const FileText stat = read_text_file(*dir / "cpu.stat");
        if (stat.ok()) {
          if (const auto usec = parse_usage_usec(stat.text)) usage.cpu_s = static_cast<double>(*usec) / 1e6;
        }
      } else if (const auto ns = read_whole_u64(*dir / "cpuacct.usage")) {
        usage.cpu_s = static_cast<double>(*ns) / 1e9;
      }
    }
  }
  if (!memory_dir_.empty()) {
    if (const auto dir = group_dir(memory_dir_, path)) {
      usage.memory_bytes =
          read_whole_u64(*dir / (version_ == CgroupVersion::V2 ? "memory.current" : "memory.usage_in_bytes"));
    }
  }
  return usage;
}

std::vector<pid_t> CgroupFs::processes(const std::string& path) const {
  std::vector<pid_t> pids;
  for (const fs::path& hierarchy : hierarchies_) {
    const auto dir = group_dir(hierarchy, path);
    std::error_code ec;
    if (!dir || !fs::is_directory(*dir, ec)) continue;
    collect_processes(*dir, pids, 0);
    break;
  }
  std::sort(pids.begin(), pids.end());
  pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
  return pids;
}

std::string CgroupFs::owner_of_processes(const std::string& path, const ProcFs& procfs,
                                         const UserNameLookup& users) const {
  std::optional<uid_t> root_owned;
  for (const pid_t pid : processes(path)) {
    const auto uid = process_uid(procfs, pid);
    if (!uid) continue;
    if (*uid != 0) return users(*uid);
    root_owned = uid;
  }
  return root_owned ? users(*root_owned) : std::string();
}

std::optional<JobCgroup> CgroupFs::job_at(const std::string& path, const UserNameLookup& users) const {
  const auto components = components_of(path);
  if (!components) return std::nullopt;
  // The outermost match wins: a job's steps and tasks belong to the job.
  for (std::size_t count = 1; count <= components->size(); ++count) {
    auto match = match_layout(*components, count);
    if (!match) continue;
    if (match->uid) match->job.user = users(*match->uid);
    if (match->user_from_processes) match->job.user = owner_of_processes(match->job.path, procfs_, users);
    return match->job;
  }
  return std::nullopt;
}

std::vector<JobCgroup> CgroupFs::find_jobs(const UserNameLookup& users) const {
  std::set<std::string> seen;
  std::vector<JobCgroup> jobs;
  for (const fs::path& hierarchy : hierarchies_) {
    std::vector<std::pair<fs::path, std::vector<std::string>>> pending{{hierarchy, {}}};
    while (!pending.empty()) {
      auto [dir, components] = std::move(pending.back());
      pending.pop_back();
      std::error_code ec;
      for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code type_ec;
        if (!it->is_directory(type_ec) || it->is_symlink(type_ec)) continue;
        auto child = components;
        child.push_back(it->path().filename().string());
        if (auto match = match_layout(child, child.size())) {
          if (!seen.insert(match->job.path).second) continue;
          if (match->uid) match->job.user = users(*match->uid);
          if (match->user_from_processes)
            match->job.user = owner_of_processes(match->job.path, procfs_, users);
          jobs.push_back(std::move(match->job));
        } else if (child.size() < 8) {
          pending.emplace_back(it->path(), std::move(child));
        }
      }
    }
  }
  std::sort(jobs.begin(), jobs.end(), [](const JobCgroup& a, const JobCgroup& b) { return a.path < b.path; });
  return jobs;
}

std::optional<JobCgroup> CgroupFs::job_of(const ProcFs& procfs, pid_t pid,
                                          const UserNameLookup& users) const {
  const auto path = cgroup_of(procfs, pid);
  if (!path) return std::nullopt;
  auto job = job_at(*path, users);
  if (job && job->user.empty() && job->scheduler != "oar") {
    job->user = owner_of_processes(job->path, procfs, users);
  }
  return job;
}

}  // namespace wattprint
