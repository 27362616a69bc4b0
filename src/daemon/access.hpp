// Who may read wattprintd's counters: root, and users whose groups (primary and supplementary) hold the
// daemon's group. The user and group database is behind GroupDatabase so tests can fake it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wattprint::daemon {

class GroupDatabase {
 public:
  virtual ~GroupDatabase() = default;
  /// Every group of user `uid` (primary and supplementary); nullopt when the user is unknown.
  [[nodiscard]] virtual std::optional<std::vector<gid_t>> groups_of(uid_t uid) const = 0;
  /// The group named `name`; nullopt when there is none.
  [[nodiscard]] virtual std::optional<gid_t> group_named(const std::string& name) const = 0;
};

/// getpwuid_r + getgrouplist, getgrnam_r.
class SystemGroupDatabase final : public GroupDatabase {
 public:
  [[nodiscard]] std::optional<std::vector<gid_t>> groups_of(uid_t uid) const override;
  [[nodiscard]] std::optional<gid_t> group_named(const std::string& name) const override;
};

/// `--group NAME|GID` to a gid: digits are a gid, anything else a group name that must exist. Throws
/// std::runtime_error with a one-line message and the remedy (groupadd) when the name is unknown.
gid_t resolve_group(std::string_view text, const GroupDatabase& database);

struct AccessDecision {
  bool allowed = false;
  std::string reason;  ///< why refused (sent to the client and logged)
};

/// Root is allowed; anyone else when `group` is among the groups of their uid.
AccessDecision check_access(uid_t uid, gid_t group, std::string_view group_label,
                            const GroupDatabase& database);

/// A token bucket: `rate` tokens per second up to `burst`, starting full. Time comes from the caller.
class TokenBucket {
 public:
  using Time = std::chrono::steady_clock::time_point;
  TokenBucket(double rate_per_s, double burst, Time now)
      : rate_(rate_per_s), burst_(burst), tokens_(burst), last_(now) {}
  /// Takes one token if there is one at `now`.
  bool take(Time now) noexcept;

 private:
  double rate_;
  double burst_;
  double tokens_;
  Time last_;
};

}  // namespace wattprint::daemon
