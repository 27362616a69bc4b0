// wattprintd's access policy with a fake group database, and its token bucket with a driven clock.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "daemon/access.hpp"

namespace wattprint::daemon {
namespace {

using namespace std::chrono_literals;

class FakeGroups final : public GroupDatabase {
 public:
  std::map<uid_t, std::vector<gid_t>> users;
  std::map<std::string, gid_t> groups;
  [[nodiscard]] std::optional<std::vector<gid_t>> groups_of(uid_t uid) const override {
    const auto it = users.find(uid);
    if (it == users.end()) return std::nullopt;
    return it->second;
  }
  [[nodiscard]] std::optional<gid_t> group_named(const std::string& name) const override {
    const auto it = groups.find(name);
    if (it == groups.end()) return std::nullopt;
    return it->second;
  }
};

FakeGroups database() {
  FakeGroups db;
  db.groups = {{"wattprint", 998}, {"users", 100}};
  db.users = {{1000, {1000, 100, 998}},  // supplementary member
              {1001, {998}},             // primary member
              {1002, {1002, 100}}};      // not a member
  return db;
}

TEST(DaemonAccess, RootAndMembersOnly) {
  const FakeGroups db = database();
  EXPECT_TRUE(check_access(0, 998, "wattprint", db).allowed);
  EXPECT_TRUE(check_access(1000, 998, "wattprint", db).allowed);
  EXPECT_TRUE(check_access(1001, 998, "wattprint", db).allowed);
  const AccessDecision outsider = check_access(1002, 998, "wattprint (gid 998)", db);
  EXPECT_FALSE(outsider.allowed);
  EXPECT_NE(outsider.reason.find("not in group wattprint (gid 998)"), std::string::npos) << outsider.reason;
  const AccessDecision unknown = check_access(4242, 998, "wattprint", db);
  EXPECT_FALSE(unknown.allowed);
  EXPECT_FALSE(unknown.reason.empty());
}

TEST(DaemonAccess, GroupByNameOrNumber) {
  const FakeGroups db = database();
  EXPECT_EQ(resolve_group("wattprint", db), 998U);
  EXPECT_EQ(resolve_group("65534", db), 65534U);
  EXPECT_EQ(resolve_group("0", db), 0U);
  try {
    resolve_group("missing", db);
    FAIL() << "no error for a missing group";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("groupadd --system missing"), std::string::npos) << e.what();
  }
  EXPECT_THROW(resolve_group("", db), std::runtime_error);
  EXPECT_THROW(resolve_group("99999999999999", db), std::runtime_error);
}

TEST(DaemonAccess, SystemDatabaseKnowsRoot) {
  const SystemGroupDatabase db;
  const auto groups = db.groups_of(0);
  ASSERT_TRUE(groups.has_value());
  EXPECT_NE(std::find(groups->begin(), groups->end(), 0U), groups->end());
  EXPECT_EQ(db.group_named("root"), std::optional<gid_t>(0));
  EXPECT_FALSE(db.group_named("no-such-group-wattprint-test").has_value());
}

TEST(DaemonRateLimit, BurstThenRate) {
  const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
  TokenBucket bucket(50.0, 50.0, t0);
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(bucket.take(t0)) << i;
  EXPECT_FALSE(bucket.take(t0));
  // 50 per second: one token every 20 ms.
  EXPECT_FALSE(bucket.take(t0 + 19ms));
  EXPECT_TRUE(bucket.take(t0 + 20ms));
  EXPECT_FALSE(bucket.take(t0 + 21ms));
  // A long pause refills to the burst, not beyond.
  const auto later = t0 + 10s;
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(bucket.take(later)) << i;
  EXPECT_FALSE(bucket.take(later));
  // A client at 20 reads a second is never refused.
  TokenBucket steady(50.0, 50.0, t0);
  for (int i = 0; i < 2000; ++i) EXPECT_TRUE(steady.take(t0 + i * 50ms)) << i;
  // Time going backwards adds nothing.
  TokenBucket back(1.0, 1.0, t0);
  EXPECT_TRUE(back.take(t0));
  EXPECT_FALSE(back.take(t0 - 5s));
}

}  // namespace
}  // namespace wattprint::daemon
