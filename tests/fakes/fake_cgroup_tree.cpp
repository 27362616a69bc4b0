// The fake cgroup tree: directories and files as the kernel shows them, in a temporary directory.
#include "fakes/fake_cgroup_tree.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "platform/text_file.hpp"

namespace wattprint::testing {

namespace fs = std::filesystem;

namespace {

fs::path below(const fs::path& hierarchy, const std::string& path) {
  if (!path.starts_with('/')) throw std::invalid_argument("cgroup path must start with '/': " + path);
  return path == "/" ? hierarchy : hierarchy / path.substr(1);
}

}  // namespace

FakeCgroupTree::FakeCgroupTree(CgroupVersion version, V1CpuLayout layout)
    : version_(version), layout_(layout) {
  std::string pattern = (fs::temp_directory_path() / "wattprint-cgroup-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  base_ = pattern;
  fs::create_directories(root());
  fs::create_directories(proc_root());
  if (version_ == CgroupVersion::V2) {
    write_file_atomically(root() / "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
    write_file_atomically(root() / "cgroup.procs", "1\n");
  } else {
    if (layout_ == V1CpuLayout::CpuCommaCpuacct) {
      fs::create_directories(root() / "cpu,cpuacct");
      fs::create_directory_symlink("cpu,cpuacct", root() / "cpu");
      fs::create_directory_symlink("cpu,cpuacct", root() / "cpuacct");
    } else {
      fs::create_directories(root() / "cpuacct");
      fs::create_directories(root() / "cpu");
    }
    fs::create_directories(root() / "memory");
    fs::create_directories(root() / "cpuset");
    fs::create_directories(root() / "systemd");
    fs::create_directories(root() / "unified");  // hybrid systems mount an empty v2 tree here
  }
}

FakeCgroupTree::~FakeCgroupTree() {
  std::error_code ec;
  fs::remove_all(base_, ec);
}

std::vector<fs::path> FakeCgroupTree::hierarchies() const {
  if (version_ == CgroupVersion::V2) return {root()};
  std::vector<fs::path> dirs{
      layout_ == V1CpuLayout::CpuCommaCpuacct ? root() / "cpu,cpuacct" : root() / "cpuacct",
      root() / "memory", root() / "cpuset", root() / "systemd"};
  if (layout_ == V1CpuLayout::Cpuacct) dirs.push_back(root() / "cpu");
  return dirs;
}

fs::path FakeCgroupTree::cpu_dir(const std::string& path) const {
  if (version_ == CgroupVersion::V2) return below(root(), path);
  return below(layout_ == V1CpuLayout::CpuCommaCpuacct ? root() / "cpu,cpuacct" : root() / "cpuacct", path);
}

fs::path FakeCgroupTree::memory_dir(const std::string& path) const {
  return below(version_ == CgroupVersion::V2 ? root() : root() / "memory", path);
}

void FakeCgroupTree::add_group(const std::string& path) {
  for (const fs::path& hierarchy : hierarchies()) {
    const fs::path dir = below(hierarchy, path);
    fs::create_directories(dir);
    if (!fs::exists(dir / "cgroup.procs")) write_file_atomically(dir / "cgroup.procs", "");
  }
  set_cpu_usec(path, 0);
  set_memory_bytes(path, 0);
}

std::string FakeCgroupTree::add_slurm_job(uid_t uid, const std::string& job_id) {
  const std::string path = version_ == CgroupVersion::V2
                               ? "/system.slice/slurmstepd.scope/job_" + job_id
                               : "/slurm/uid_" + std::to_string(uid) + "/job_" + job_id;
  add_group(path);
  return path;
}

std::string FakeCgroupTree::add_oar_job(const std::string& user, const std::string& job_id) {
  const std::string path = "/oar/" + user + "_" + job_id;
  add_group(path);
  return path;
}

std::string FakeCgroupTree::add_service(const std::string& name) {
  const std::string path = "/system.slice/" + name;
  add_group(path);
  return path;
}

void FakeCgroupTree::remove_group(const std::string& path) {
  for (const fs::path& hierarchy : hierarchies()) fs::remove_all(below(hierarchy, path));
}

void FakeCgroupTree::add_process(pid_t pid, const std::string& path, uid_t uid) {
  for (const fs::path& hierarchy : hierarchies()) {
    const fs::path procs = below(hierarchy, path) / "cgroup.procs";
    const FileText old = read_text_file(procs);
    write_file_atomically(procs, (old.ok() ? old.text : std::string()) + std::to_string(pid) + "\n");
  }
  const fs::path dir = proc_root() / std::to_string(pid);
  fs::create_directories(dir);
  std::string cgroup_lines;
  if (version_ == CgroupVersion::V2) {
    cgroup_lines = "0::" + path + "\n";
  } else {
    const bool comma = layout_ == V1CpuLayout::CpuCommaCpuacct;
    cgroup_lines = "12:memory:" + path + "\n" + "11:cpuset:" + path + "\n" +
                   (comma ? "4:cpu,cpuacct:" + path + "\n" : "5:cpuacct:" + path + "\n4:cpu:" + path + "\n") +
                   "1:name=systemd:" + path + "\n" + "0::/\n";
  }
  write_file_atomically(dir / "cgroup", cgroup_lines);
  const std::string id = std::to_string(uid);
  write_file_atomically(dir / "status", "Name:\tfake\nPid:\t" + std::to_string(pid) + "\nUid:\t" + id + "\t" +
                                            id + "\t" + id + "\t" + id + "\nGid:\t0\t0\t0\t0\n");
}

void FakeCgroupTree::set_cpu_usec(const std::string& path, std::uint64_t usec) {
  if (version_ == CgroupVersion::V2) {
    write_cpu_file(path, "cpu.stat",
                   "usage_usec " + std::to_string(usec) + "\nuser_usec " + std::to_string(usec / 2) +
                       "\nsystem_usec " + std::to_string(usec - usec / 2) + "\n");
  } else {
    write_cpu_file(path, "cpuacct.usage", std::to_string(usec * 1000) + "\n");
  }
}

void FakeCgroupTree::set_memory_bytes(const std::string& path, std::uint64_t bytes) {
  write_memory_file(path, version_ == CgroupVersion::V2 ? "memory.current" : "memory.usage_in_bytes",
                    std::to_string(bytes) + "\n");
}

void FakeCgroupTree::write_cpu_file(const std::string& path, const std::string& file,
                                    const std::string& content) {
  write_file_atomically(cpu_dir(path) / file, content);
}

void FakeCgroupTree::write_memory_file(const std::string& path, const std::string& file,
                                       const std::string& content) {
  write_file_atomically(memory_dir(path) / file, content);
}

}  // namespace wattprint::testing
