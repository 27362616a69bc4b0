// Peer access policy, group lookups and the token bucket of wattprintd.
#include "daemon/access.hpp"

#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <stdexcept>

namespace wattprint::daemon {

namespace {

std::size_t buffer_size(int name) {
  const long size = ::sysconf(name);
  return size > 0 ? static_cast<std::size_t>(size) : 16384;
}

}  // namespace

std::optional<std::vector<gid_t>> SystemGroupDatabase::groups_of(uid_t uid) const {
  std::vector<char> buffer(buffer_size(_SC_GETPW_R_SIZE_MAX));
  passwd entry{};
  passwd* found = nullptr;
  int rc = 0;
  while ((rc = ::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found)) == ERANGE &&
         buffer.size() < (1U << 20)) {
    buffer.resize(buffer.size() * 2);
  }
  if (rc != 0 || found == nullptr) return std::nullopt;
  std::vector<gid_t> groups(64);
  for (;;) {
    int count = static_cast<int>(groups.size());
    if (::getgrouplist(entry.pw_name, entry.pw_gid, groups.data(), &count) >= 0) {
      groups.resize(static_cast<std::size_t>(count));
      return groups;
    }
    if (count <= static_cast<int>(groups.size()) || count > 65536) return std::vector<gid_t>{entry.pw_gid};
    groups.resize(static_cast<std::size_t>(count));
  }
}

std::optional<gid_t> SystemGroupDatabase::group_named(const std::string& name) const {
  std::vector<char> buffer(buffer_size(_SC_GETGR_R_SIZE_MAX));
  group entry{};
  group* found = nullptr;
  int rc = 0;
  while ((rc = ::getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found)) == ERANGE &&
         buffer.size() < (1U << 24)) {
    buffer.resize(buffer.size() * 2);
  }
  if (rc != 0 || found == nullptr) return std::nullopt;
  return entry.gr_gid;
}

gid_t resolve_group(std::string_view text, const GroupDatabase& database) {
  if (text.empty()) throw std::runtime_error("--group: empty group name");
  if (text.find_first_not_of("0123456789") == std::string_view::npos) {
    gid_t gid = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), gid);
    if (ec != std::errc() || end != text.data() + text.size())
      throw std::runtime_error(fmt::format("--group: {} is not a valid group id", text));
    return gid;
  }
  if (const auto gid = database.group_named(std::string(text))) return *gid;
  throw std::runtime_error(fmt::format(
      "group '{}' does not exist: create it with `groupadd --system {}` and add the users allowed to read "
      "the energy counters (`usermod -aG {} USER`), or give --group NAME|GID",
      text, text, text));
}

AccessDecision check_access(uid_t uid, gid_t group, std::string_view group_label,
                            const GroupDatabase& database) {
  if (uid == 0) return {true, ""};
  const auto groups = database.groups_of(uid);
  if (!groups)
    return {false, fmt::format("access denied: uid {} has no user entry, so no group {}", uid, group_label)};
  if (std::find(groups->begin(), groups->end(), group) != groups->end()) return {true, ""};
  return {false,
          fmt::format("access denied: uid {} is not in group {} (ask the administrator: usermod -aG GROUP "
                      "USER, then log in again)",
                      uid, group_label)};
}

bool TokenBucket::take(Time now) noexcept {
  if (now > last_) {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
    last_ = now;
  }
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

}  // namespace wattprint::daemon
