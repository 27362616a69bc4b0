// One measurer per node: the `wattprint run` processes of one job step on one node elect the first as the
// node's measurer; the others join it (docs/clusters.md).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>

#include "cluster/batch_job.hpp"

namespace wattprint {

/// The private per-user directory of the groups' lock files: $XDG_RUNTIME_DIR/wattprint when
/// XDG_RUNTIME_DIR is set, else /tmp/wattprint-UID. Created with mode 0700; throws std::runtime_error when it
/// exists but belongs to another user or others can enter it.
std::filesystem::path node_group_directory(const EnvironmentLookup& environment, uid_t uid);

/// The group's name: job id, step id and host, with characters other than [A-Za-z0-9._-] replaced.
std::string node_group_key(const BatchJob& job, const std::string& hostname);

/// The election, with flock(2) locks on files of DIR (the kernel drops them when a process dies, so a crash
/// never blocks the others):
/// 1. everyone takes KEY.election exclusively (a short critical section);
/// 2. whoever then gets KEY.lock exclusively without waiting is the measurer: it keeps KEY.lock for its
///    lifetime, and KEY.election until publish() has written its pid and control socket to KEY.measurer;
/// 3. the others are members: they read KEY.measurer, take KEY.members shared (without waiting) for their
///    lifetime, and leave the critical section;
/// 4. the measurer, after its own command, takes KEY.members exclusively: it waits for every member.
/// A member that comes after that (its shared lock refused) is `late`: the measurer is finishing, and the
/// member runs its command unmeasured, saying so.
class NodeGroup {
 public:
  enum class Role { Measurer, Member };

  /// Joins the group `key` in `directory`, or founds it. A measurer must call publish() (which ends the
  /// election) as soon as its control socket exists; members then learn where it listens.
  static NodeGroup join(const std::filesystem::path& directory, const std::string& key);

  NodeGroup(NodeGroup&& other) noexcept;
  NodeGroup& operator=(NodeGroup&& other) noexcept;
  NodeGroup(const NodeGroup&) = delete;
  NodeGroup& operator=(const NodeGroup&) = delete;
  ~NodeGroup();

  [[nodiscard]] Role role() const { return role_; }
  /// Measurer: says where members reach it (its pid and control socket), and lets members in.
  void publish(const std::filesystem::path& control_socket);
  /// Measurer: blocks until every member has finished (they hold KEY.members shared while they run).
  void wait_for_members();
  /// Member: the measurer's pid and control socket (as published).
  [[nodiscard]] pid_t measurer_pid() const { return measurer_pid_; }
  [[nodiscard]] const std::filesystem::path& measurer_socket() const { return measurer_socket_; }
  /// Member: came after the measurer stopped waiting for members.
  [[nodiscard]] bool late() const { return late_; }

 private:
  NodeGroup() = default;
  void close_all() noexcept;

  Role role_ = Role::Member;
  int election_fd_ = -1;  ///< KEY.election: held exclusively while electing (the measurer: until publish())
  int measurer_fd_ = -1;  ///< KEY.lock: the measurer holds it exclusively for its lifetime
  int members_fd_ = -1;   ///< KEY.members: members hold it shared while they run
  std::filesystem::path info_path_;
  std::filesystem::path members_path_;
  pid_t measurer_pid_ = 0;
  bool late_ = false;
  std::filesystem::path measurer_socket_;
};

/// Member: tells the measurer's control socket a line ("join PID", "leave PID CPU_S"); false when it cannot.
bool tell_measurer(const std::filesystem::path& control_socket, const std::string& line);

}  // namespace wattprint
