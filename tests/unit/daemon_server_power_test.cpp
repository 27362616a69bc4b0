// wattprintd's whole-server power: the answer it gives from its latest reading (fresh, failed, hanging), the
// poller thread that keeps that reading current, and the client (open_daemon_server_source) talking to a real
// daemon::Server on a Unix socket, through a lost and a refused connection.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "daemon/access.hpp"
#include "daemon/protocol.hpp"
#include "daemon/server.hpp"
#include "daemon/server_power_poller.hpp"
#include "sources/daemon/daemon_server_source.hpp"
#include "sources/daemon/daemon_socket.hpp"
#include "test_dir.hpp"

namespace wattprint::daemon {
namespace {

using namespace std::chrono_literals;

/// A BMC whose next answers the test sets; counts its reads.
class FakeMeter final : public ServerPowerSource {
 public:
  [[nodiscard]] const std::string& family() const override { return family_; }
  [[nodiscard]] const std::string& origin() const override { return origin_; }
  ServerRead read() noexcept override {
    std::this_thread::sleep_for(delay_.load());
    const std::lock_guard lock(mutex_);
    ++*reads_;
    return next_;
  }
  void answer(double watts, double window_s = 1.0) {
    const std::lock_guard lock(mutex_);
    next_ = {ServerPowerReading{Watts{watts}, Seconds(window_s)}, ""};
  }
  void fail(const std::string& why) {
    const std::lock_guard lock(mutex_);
    next_ = {std::nullopt, why};
  }
  void delay(std::chrono::milliseconds d) { delay_ = d; }
  /// The read count, shared so that it can be looked at after the poller has destroyed the meter.
  [[nodiscard]] std::shared_ptr<const std::atomic<int>> reads() const { return reads_; }

 private:
  std::string family_ = "ipmi-dcmi";
  std::string origin_ = "IPMI DCMI in-band /dev/ipmi0";
  mutable std::mutex mutex_;
  ServerRead next_{ServerPowerReading{Watts{250.0}, Seconds(1.0)}, ""};
  std::shared_ptr<std::atomic<int>> reads_ = std::make_shared<std::atomic<int>>(0);
  std::atomic<std::chrono::milliseconds> delay_{0ms};
};

/// No RAPL counter: the daemon serves the server power only.
class NoCounters final : public EnergyCounterSource {
 public:
  [[nodiscard]] const std::vector<SensorStatus>& statuses() const override { return statuses_; }
  [[nodiscard]] const std::vector<SensorInfo>& sensors() const override { return sensors_; }
  void read(std::vector<std::uint64_t>& /*raw*/, std::vector<int>& /*errors*/) noexcept override {}

 private:
  std::vector<SensorStatus> statuses_;
  std::vector<SensorInfo> sensors_;
};

class OneMemberGroups final : public GroupDatabase {
 public:
  std::map<uid_t, std::vector<gid_t>> users;
  [[nodiscard]] std::optional<std::vector<gid_t>> groups_of(uid_t uid) const override {
    const auto it = users.find(uid);
    if (it == users.end()) return std::nullopt;
    return it->second;
  }
  [[nodiscard]] std::optional<gid_t> group_named(const std::string& /*name*/) const override {
    return std::nullopt;
  }
};

/// Waits (at most 10 s) until `done()`.
template <typename Done>
bool eventually(Done done) {
  for (int i = 0; i < 2000 && !done(); ++i) std::this_thread::sleep_for(5ms);
  return done();
}

SteadyTime at_s(double s) {
  return SteadyTime{} + std::chrono::duration_cast<SteadyTime::duration>(std::chrono::duration<double>(s));
}

TEST(DaemonServerPower, AnswerIsTheLatestReadingOrWhyNot) {
  LatestServerRead latest;
  EXPECT_EQ(power_answer(latest, at_s(10.0), Seconds(3.0)), "POWER - no reading of the server's power yet\n");
  latest.reading = ServerPowerReading{Watts{344.0}, Seconds(1.0)};
  latest.at = at_s(10.0);
  EXPECT_EQ(power_answer(latest, at_s(12.5), Seconds(3.0)), "POWER 344 1\n");
  // Older than stale_after: the read in progress hangs, and the client is told so rather than given 344 W.
  const std::string stale = power_answer(latest, at_s(13.5), Seconds(3.0));
  EXPECT_EQ(stale.rfind("POWER - no answer from the server's power meter for 3.5 s", 0), 0U) << stale;
  latest.reading.reset();
  latest.error = "BMC answered completion code 0xc3";
  EXPECT_EQ(power_answer(latest, at_s(11.0), Seconds(3.0)), "POWER - BMC answered completion code 0xc3\n");
}

TEST(DaemonServerPower, PollerKeepsTheReadingCurrent) {
  auto meter_owned = std::make_unique<FakeMeter>();
  FakeMeter& meter = *meter_owned;
  const std::shared_ptr<const std::atomic<int>> reads_of_meter = meter.reads();
  const SystemClock clock;
  {
    ServerPowerPoller poller(std::move(meter_owned), Seconds(0.01), Seconds(1.0), clock);
    EXPECT_EQ(poller.answer(), "POWER - no reading of the server's power yet\n");
    poller.start();
    // The first read happens in start(): the first client already has a reading.
    EXPECT_GE(poller.reads(), 1U);
    EXPECT_EQ(poller.answer(), "POWER 250 1\n");
    EXPECT_EQ(poller.family(), "ipmi-dcmi");
    meter.answer(310.5, 5.0);
    const auto reads = poller.reads();
    ASSERT_TRUE(eventually([&] { return poller.reads() >= reads + 2; }));
    EXPECT_EQ(poller.answer(), "POWER 310.5 5\n");
    meter.fail("timed out after 1 s");
    ASSERT_TRUE(eventually([&] { return poller.answer() == "POWER - timed out after 1 s\n"; }))
        << poller.answer();
    meter.answer(200.0);
    ASSERT_TRUE(eventually([&] { return poller.answer() == "POWER 200 1\n"; })) << poller.answer();
  }  // the destructor stops the thread (and destroys the meter): no read after it
  const int after = reads_of_meter->load();
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(reads_of_meter->load(), after);
}

TEST(DaemonServerPower, AHangingReadIsReportedNotServedStale) {
  auto meter_owned = std::make_unique<FakeMeter>();
  FakeMeter& meter = *meter_owned;
  const SystemClock clock;
  ServerPowerPoller poller(std::move(meter_owned), Seconds(0.01), Seconds(0.05), clock);
  poller.start();
  EXPECT_EQ(poller.answer(), "POWER 250 1\n");
  // Reads now take 1.5 s; stale_after is 2 × 0.01 + 0.05 s.
  meter.delay(1500ms);
  ASSERT_TRUE(eventually([&] { return poller.answer().rfind("POWER - no answer", 0) == 0; }))
      << poller.answer();
  meter.delay(0ms);
}

/// A daemon::Server on a socket in a temporary directory, run on its own thread.
class ServedDaemon {
 public:
  ServedDaemon(const std::filesystem::path& socket, const ServerPowerPoller* power, bool admit_me)
      : socket_(socket) {
    if (admit_me) groups_.users[::getuid()] = {::getgid()};
    fd_ = listen_on_path(socket_, ::getgid());
    ServerOptions options;
    options.group = ::getgid();
    options.group_label = "test";
    options.server_power = power;
    options.no_server_power_reason = "no usable server power source (ipmi-dcmi.local: /dev/ipmi0 is absent)";
    server_ = std::make_unique<Server>(fd_, counters_, groups_, clock_, options);
    sigemptyset(&mask_);
    thread_ = std::thread([this] { server_->run(stop_, mask_); });
  }
  ServedDaemon(const ServedDaemon&) = delete;
  ServedDaemon& operator=(const ServedDaemon&) = delete;
  ~ServedDaemon() {
    stop_ = 1;
    const int wake = connect_to_daemon(socket_, 1000ms);  // ppoll returns on the new connection
    if (wake >= 0) ::close(wake);
    thread_.join();
    server_.reset();
    ::close(fd_);
    ::unlink(socket_.c_str());
  }

 private:
  std::filesystem::path socket_;
  NoCounters counters_;
  OneMemberGroups groups_;
  SystemClock clock_;
  sigset_t mask_{};
  int fd_ = -1;
  volatile std::sig_atomic_t stop_ = 0;
  std::unique_ptr<Server> server_;
  std::thread thread_;
};

TEST(DaemonServerSource, ReadsTheDaemonsMeterAndReconnectsAfterALoss) {
  const wattprint::testing::TestDir dir;
  const std::filesystem::path socket = dir.path() / "wattprintd.sock";
  auto meter_owned = std::make_unique<FakeMeter>();
  FakeMeter& meter = *meter_owned;
  const SystemClock clock;
  ServerPowerPoller poller(std::move(meter_owned), Seconds(0.01), Seconds(1.0), clock);
  poller.start();

  auto daemon = std::make_unique<ServedDaemon>(socket, &poller, true);
  OpenedServerSource opened = open_daemon_server_source(socket, Seconds(2.0));
  ASSERT_EQ(opened.status.state, SensorStatus::State::Ok) << opened.status.reason;
  ASSERT_NE(opened.source, nullptr);
  EXPECT_EQ(opened.status.name, "wattprintd.server");
  EXPECT_EQ(opened.source->family(), "ipmi-dcmi");
  EXPECT_EQ(opened.source->origin(), "wattprintd " + socket.string() + ": IPMI DCMI in-band /dev/ipmi0");
  ServerRead read = opened.source->read();
  ASSERT_TRUE(read.reading) << read.error;
  EXPECT_DOUBLE_EQ(read.reading->power.value, 250.0);
  EXPECT_DOUBLE_EQ(read.reading->window.count(), 1.0);

  meter.fail("completion code 0xd4");
  ASSERT_TRUE(eventually([&] { return !opened.source->read().reading; }));
  read = opened.source->read();
  EXPECT_EQ(read.error, "wattprintd: completion code 0xd4");
  meter.answer(187.0, 0.0);
  ASSERT_TRUE(eventually([&] { return opened.source->read().reading.has_value(); }));

  // The daemon goes away: a read fails with why, and the first read after it is back reconnects.
  daemon.reset();
  read = opened.source->read();
  EXPECT_FALSE(read.reading);
  EXPECT_EQ(read.error.rfind("wattprintd: ", 0), 0U) << read.error;
  daemon = std::make_unique<ServedDaemon>(socket, &poller, true);
  read = opened.source->read();
  ASSERT_TRUE(read.reading) << read.error;
  EXPECT_DOUBLE_EQ(read.reading->power.value, 187.0);
  EXPECT_DOUBLE_EQ(read.reading->window.count(), 0.0);
}

TEST(DaemonServerSource, ADaemonWithoutAMeterSaysWhy) {
  const wattprint::testing::TestDir dir;
  const std::filesystem::path socket = dir.path() / "wattprintd.sock";
  const ServedDaemon daemon(socket, nullptr, true);
  const OpenedServerSource opened = open_daemon_server_source(socket, Seconds(2.0));
  EXPECT_EQ(opened.status.state, SensorStatus::State::Absent);
  EXPECT_EQ(opened.source, nullptr);
  EXPECT_EQ(opened.status.reason,
            "wattprintd: no usable server power source (ipmi-dcmi.local: /dev/ipmi0 is absent)");
}

TEST(DaemonServerSource, NoDaemonIsAbsent) {
  const wattprint::testing::TestDir dir;
  const OpenedServerSource opened = open_daemon_server_source(dir.path() / "none.sock", Seconds(1.0));
  EXPECT_EQ(opened.status.state, SensorStatus::State::Absent);
  EXPECT_EQ(opened.source, nullptr);
  EXPECT_NE(opened.status.reason.find("cannot connect"), std::string::npos) << opened.status.reason;
  EXPECT_NE(opened.status.remedy.find("wattprintd"), std::string::npos);
}

TEST(DaemonServerSource, AUserOutsideTheGroupIsRefusedWithTheRemedy) {
  if (::getuid() == 0)
    GTEST_SKIP()
        << "root is always admitted (the refusal is tested as nobody in wattprintd's integration tests)";
  const wattprint::testing::TestDir dir;
  const std::filesystem::path socket = dir.path() / "wattprintd.sock";
  const ServedDaemon daemon(socket, nullptr, false);
  const OpenedServerSource opened = open_daemon_server_source(socket, Seconds(2.0));
  EXPECT_EQ(opened.status.state, SensorStatus::State::Unreadable) << opened.status.reason;
  EXPECT_NE(opened.status.remedy.find("group"), std::string::npos);
}

}  // namespace
}  // namespace wattprint::daemon
