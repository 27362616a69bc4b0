// One measurer per node (docs/clusters.md): the election over flock(2)ed files in a private directory.
#include "cluster/node_group.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "platform/text_file.hpp"

namespace wattprint {

namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(fmt::format("{}: {}", what, std::strerror(errno)));
}

int open_lock_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) fail(fmt::format("cannot open {}", path.string()));
  return fd;
}

/// flock, retried on EINTR; false when `operation` has LOCK_NB and the lock is taken.
bool lock(int fd, int operation, const std::filesystem::path& path) {
  while (::flock(fd, operation) != 0) {
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) return false;
    fail(fmt::format("cannot lock {}", path.string()));
  }
  return true;
}

}  // namespace

std::filesystem::path node_group_directory(const EnvironmentLookup& environment, uid_t uid) {
  std::filesystem::path directory;
  if (const auto runtime = environment("XDG_RUNTIME_DIR"); runtime && !runtime->empty()) {
    directory = std::filesystem::path(*runtime) / "wattprint";
  } else {
    directory = fmt::format("/tmp/wattprint-{}", uid);
  }
  if (::mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST) {
    fail(fmt::format("cannot create {}", directory.string()));
  }
  struct stat info {};
  if (::lstat(directory.c_str(), &info) != 0) fail(fmt::format("cannot read {}", directory.string()));
  if (!S_ISDIR(info.st_mode) || info.st_uid != uid || (info.st_mode & 077) != 0) {
    throw std::runtime_error(fmt::format(
        "{} is not a private directory of this user (mode 0700): remove it or set XDG_RUNTIME_DIR",
        directory.string()));
  }
  return directory;
}

std::string node_group_key(const BatchJob& job, const std::string& hostname) {
  std::string key = fmt::format("{}-{}-{}-{}", job.scheduler, job.job_id,
                                job.step_id.empty() ? "nostep" : job.step_id, hostname);
  for (char& c : key) {
    const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '_' || c == '-';
    if (!plain) c = '_';
  }
  return key;
}

NodeGroup NodeGroup::join(const std::filesystem::path& directory, const std::string& key) {
  NodeGroup group;
  const std::filesystem::path base = directory / key;
  group.info_path_ = base.string() + ".measurer";
  group.members_path_ = base.string() + ".members";
  const std::filesystem::path election = base.string() + ".election";
  const std::filesystem::path measurer = base.string() + ".lock";
  const std::filesystem::path& members = group.members_path_;
  group.election_fd_ = open_lock_file(election);
  lock(group.election_fd_, LOCK_EX, election);
  group.measurer_fd_ = open_lock_file(measurer);
  group.members_fd_ = open_lock_file(members);
  if (lock(group.measurer_fd_, LOCK_EX | LOCK_NB, measurer)) {
    group.role_ = Role::Measurer;
    return group;  // keeps the election until publish()
  }
  group.role_ = Role::Member;
  ::close(group.measurer_fd_);
  group.measurer_fd_ = -1;
  std::ifstream info(group.info_path_);
  long pid = 0;
  std::string socket;
  if (!(info >> pid) || !(info >> std::ws) || !std::getline(info, socket)) {
    throw std::runtime_error(
        fmt::format("{}: the measurer of this node did not say where it listens", group.info_path_.string()));
  }
  group.measurer_pid_ = static_cast<pid_t>(pid);
  group.measurer_socket_ = socket;
  group.late_ = !lock(group.members_fd_, LOCK_SH | LOCK_NB, members);
  ::close(group.election_fd_);
  group.election_fd_ = -1;
  return group;
}

void NodeGroup::publish(const std::filesystem::path& control_socket) {
  if (role_ != Role::Measurer || election_fd_ < 0) return;
  write_file_atomically(info_path_, fmt::format("{}\n{}\n", ::getpid(), control_socket.string()));
  ::close(election_fd_);
  election_fd_ = -1;
}

void NodeGroup::wait_for_members() {
  if (role_ != Role::Measurer) return;
  if (election_fd_ >= 0) {  // never published: nobody could join
    ::close(election_fd_);
    election_fd_ = -1;
  }
  lock(members_fd_, LOCK_EX, members_path_);
}

NodeGroup::NodeGroup(NodeGroup&& other) noexcept { *this = std::move(other); }

NodeGroup& NodeGroup::operator=(NodeGroup&& other) noexcept {
  if (this != &other) {
    close_all();
    role_ = other.role_;
    election_fd_ = std::exchange(other.election_fd_, -1);
    measurer_fd_ = std::exchange(other.measurer_fd_, -1);
    members_fd_ = std::exchange(other.members_fd_, -1);
    info_path_ = std::move(other.info_path_);
    members_path_ = std::move(other.members_path_);
    measurer_pid_ = other.measurer_pid_;
    measurer_socket_ = std::move(other.measurer_socket_);
    late_ = other.late_;
  }
  return *this;
}

NodeGroup::~NodeGroup() { close_all(); }

void NodeGroup::close_all() noexcept {
  for (int* fd : {&election_fd_, &measurer_fd_, &members_fd_}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
}

bool tell_measurer(const std::filesystem::path& control_socket, const std::string& line) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string path = control_socket.string();
  if (path.size() >= sizeof address.sun_path) return false;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
  bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  const std::string text = line + "\n";
  ok = ok && ::send(fd, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

}  // namespace wattprint
