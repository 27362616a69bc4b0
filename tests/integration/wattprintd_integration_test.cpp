// Integration tests of the real wattprintd (WATTPRINTD_BIN, the one built here) on live fake powercap trees
// whose energy_uj is root-only (0400): `wattprint run` as nobody measures through it; outsiders, malformed
// requests and clients over the rate limit are refused; systemd socket activation (fd 3) serves too.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fakes/fake_powercap.hpp"
#include "fakes/ipmi_simulator.hpp"
#include "integration/harness.hpp"
#include "sources/daemon/daemon_counter_source.hpp"

namespace wattprint::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr uid_t kNobody = 65534;
constexpr gid_t kNogroup = 65534;
constexpr double kPackageW = 10.0;
constexpr double kDramW = 2.0;

std::string describe(const ProcessResult& r) {
  return "exit " + std::to_string(r.exit_code) + (r.timed_out ? " (timed out)" : "") + "\n--- stdout:\n" +
         r.out + "\n--- stderr:\n" + r.err;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

int connect_to(const fs::path& socket) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socket.c_str(), sizeof(address.sun_path) - 1);
  timeval tv{3, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// What the daemon answered to `request` on a fresh connection, read until it closed (closed = true) or
/// 3 s passed.
struct Answer {
  std::string data;
  bool closed = false;
};

Answer ask(const fs::path& socket, const std::string& request) {
  Answer answer;
  const int fd = connect_to(socket);
  if (fd < 0) return answer;
  (void)::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) {
      answer.closed = n == 0 || errno == ECONNRESET;
      break;
    }
    answer.data.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return answer;
}

/// The same, from a child process running as nobody:nogroup (no supplementary groups).
Answer ask_as_nobody(const fs::path& socket, const std::string& request) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) throw std::runtime_error("pipe");
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipe_fds[0]);
    if (::setgroups(0, nullptr) != 0 || ::setgid(kNogroup) != 0 || ::setuid(kNobody) != 0) ::_exit(2);
    const Answer a = ask(socket, request);
    const std::string out = std::string(a.closed ? "C" : "O") + a.data;
    (void)::write(pipe_fds[1], out.data(), out.size());
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string out;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = ::read(pipe_fds[0], buffer, sizeof(buffer))) > 0)
    out.append(buffer, static_cast<std::size_t>(n));
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  Answer answer;
  if (!out.empty()) {
    answer.closed = out[0] == 'C';
    answer.data = out.substr(1);
  }
  return answer;
}

int count_lines_starting(const std::string& text, const std::string& prefix) {
  int count = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    if (text.compare(start, prefix.size(), prefix) == 0) ++count;
    const auto end = text.find('\n', start);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return count;
}

class WattprintdIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
#ifdef WATTPRINTD_BIN
    const char* daemon = WATTPRINTD_BIN;
#else
    const char* daemon = "";
#endif
    if (*daemon == '\0') GTEST_SKIP() << "wattprintd was not built (WATTPRINTD_BIN)";
    if (::geteuid() != 0)
      GTEST_SKIP() << "needs root: the daemon reads 0400 root files and clients run as nobody";
    daemon_bin_ = fs::absolute(daemon);
    fs::permissions(dir_.path(), fs::perms(0755));
    socket_ = dir_.path() / "wattprintd.sock";
    tree_.start(5ms);
  }

  std::unique_ptr<Process> start_daemon(const std::string& group, std::vector<std::string> more = {}) {
    SpawnOptions o;
    o.args = {"--socket", socket_.string(), "--group", group, "--sysfs-root", tree_.sysfs_root().string()};
    o.args.insert(o.args.end(), more.begin(), more.end());
    o.home = dir_.path();
    auto daemon = std::make_unique<Process>(daemon_bin_, o);
    for (int i = 0; i < 500 && !fs::exists(socket_); ++i) std::this_thread::sleep_for(10ms);
    return daemon;
  }

  /// A copy of wattprint that nobody can execute (the build tree may be private), or nullopt when
  /// WATTPRINT_BIN is not set.
  std::optional<fs::path> wattprint_for_nobody() {
    const auto bin = wattprint_bin_from_env();
    if (!bin) return std::nullopt;
    const fs::path copy = dir_.path() / "wattprint";
    if (!fs::exists(copy)) fs::copy_file(*bin, copy);
    fs::permissions(copy, fs::perms(0755));
    return copy;
  }

  /// Options to run `args` as nobody:nogroup in a home of its own, with the daemon's socket.
  SpawnOptions as_nobody(std::vector<std::string> args) {
    home_.chown_to(kNobody, kNogroup);
    SpawnOptions o;
    o.args = std::move(args);
    o.home = home_.path();
    o.cwd = home_.path();
    o.uid = kNobody;
    o.gid = kNogroup;
    o.extra_env = {"WATTPRINT_DAEMON_SOCKET=" + socket_.string()};
    return o;
  }

  /// Stops the daemon with SIGTERM: it exits 0 and removes its socket.
  void stop_daemon(std::unique_ptr<Process>& daemon, std::string* log = nullptr) {
    daemon->signal(SIGTERM);
    const ProcessResult r = daemon->wait();
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_FALSE(fs::exists(socket_)) << "the socket it created is left behind";
    if (log != nullptr) *log = r.err;
  }

  TempDir dir_{"wattprintd-test"};
  TempDir home_{"wattprintd-home"};
  fs::path daemon_bin_;
  fs::path socket_;
  FakePowercapTree tree_{
      {FakeZone("intel-rapl:0", "package-0", kPackageW).with_mode(0400),
       FakeZone("intel-rapl:0:0", "dram", kDramW).with_range(65712999613ULL).with_mode(0400)}};
};

// The premise: the sandbox enforces the mode bits for nobody.
TEST_F(WattprintdIntegration, CountersAreRootOnlyForNobody) {
  const fs::path energy = tree_.zone_path("intel-rapl:0") / "energy_uj";
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(kNogroup) != 0 || ::setuid(kNobody) != 0) ::_exit(2);
    const int fd = ::open(energy.c_str(), O_RDONLY);
    ::_exit(fd < 0 && errno == EACCES ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0) << "nobody can read a 0400 root file here: the tests below prove nothing";
}

// (a) `wattprint run` as nobody, a member of the daemon's group, measures through the daemon.
TEST_F(WattprintdIntegration, RunAsNobodyMeasuresThroughTheDaemon) {
  const auto wattprint = wattprint_for_nobody();
  if (!wattprint) GTEST_SKIP() << "WATTPRINT_BIN is not set: point it at the wattprint executable";
  auto daemon = start_daemon(std::to_string(kNogroup));
  ASSERT_TRUE(fs::exists(socket_)) << describe(daemon->wait());
  struct stat st {};
  ASSERT_EQ(::stat(socket_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660U);
  EXPECT_EQ(st.st_gid, kNogroup);

  const fs::path json_path = home_.path() / "report.json";
  SpawnOptions o = as_nobody(
      {"run", "--sysfs-root", tree_.sysfs_root().string(), "--json", json_path.string(), "--", "sleep", "1"});
  const ProcessResult r = run_process(*wattprint, o);
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const json report = read_json(json_path);

  // The measured energy is the fake's power over the measured duration: one endpoint read each side may be a
  // tick old plus the way through the daemon (generous on a loaded 2-CPU machine).
  const double duration = report.at("duration_s").get<double>();
  ASSERT_TRUE(report.at("measured").at("cpu_j").is_number()) << report.dump(2);
  const double tolerance = 2.0 * (0.005 + 0.05);
  EXPECT_NEAR(report.at("measured").at("cpu_j").get<double>(), kPackageW * duration, kPackageW * tolerance);
  EXPECT_NEAR(report.at("measured").at("dram_j").get<double>(), kDramW * duration, kDramW * tolerance);
  bool package_seen = false;
  for (const json& s : report.at("sensors")) {
    if (s.value("name", "") != "rapl.package-0") continue;
    package_seen = true;
    EXPECT_EQ(s.value("status", ""), "ok") << s.dump(2);
    const std::string path = s.value("path", "");
    EXPECT_TRUE(contains(path, "wattprintd " + socket_.string())) << s.dump(2);
    EXPECT_TRUE(contains(path, "intel-rapl:0/energy_uj")) << s.dump(2);
  }
  EXPECT_TRUE(package_seen) << report.at("sensors").dump(2);

  // `wattprint sensors` as nobody says the daemon is usable.
  o.args = {"sensors", "--sysfs-root", tree_.sysfs_root().string()};
  const ProcessResult sensors = run_process(*wattprint, o);
  EXPECT_EQ(sensors.exit_code, 0) << describe(sensors);
  EXPECT_TRUE(contains(sensors.out, "usable (2 sensors")) << sensors.out;
  stop_daemon(daemon);
}

// (b) nobody is not in group 0: refused with one error line and no readings; the refusal is logged.
TEST_F(WattprintdIntegration, OutsiderIsRefused) {
  auto daemon = start_daemon("0");
  ASSERT_TRUE(fs::exists(socket_)) << describe(daemon->wait());
  ::chmod(socket_.c_str(),
          0666);  // let nobody reach the daemon itself, so the daemon's check is what refuses
  const Answer a = ask_as_nobody(socket_, "HELLO 1\nREAD\n");
  EXPECT_TRUE(a.closed);
  EXPECT_EQ(count_lines_starting(a.data, "ERR "), 1) << a.data;
  EXPECT_TRUE(contains(a.data, "not in group gid 0")) << a.data;
  EXPECT_EQ(count_lines_starting(a.data, "OK "), 0) << a.data;
  EXPECT_EQ(count_lines_starting(a.data, "VALUES "), 0) << a.data;
  // The server power is refused the same way.
  const Answer server = ask_as_nobody(socket_, "SERVER\nPOWER\n");
  EXPECT_TRUE(server.closed);
  EXPECT_EQ(count_lines_starting(server.data, "ERR "), 1) << server.data;
  EXPECT_EQ(count_lines_starting(server.data, "POWER "), 0) << server.data;
  EXPECT_EQ(count_lines_starting(server.data, "NOSERVER "), 0) << server.data;
  // Root still reads.
  DaemonCounterSource root_client(socket_);
  EXPECT_TRUE(root_client.usable()) << root_client.failure();
  std::string log;
  stop_daemon(daemon, &log);
  EXPECT_TRUE(contains(log, "refused uid 65534")) << log;
}

// (c) Anything but HELLO and READ: an error line and the connection closed; others are still served.
TEST_F(WattprintdIntegration, MalformedRequestsAreClosed) {
  auto daemon = start_daemon(std::to_string(kNogroup));
  ASSERT_TRUE(fs::exists(socket_)) << describe(daemon->wait());
  DaemonCounterSource client(socket_);
  ASSERT_TRUE(client.usable()) << client.failure();
  const std::vector<std::string> requests = {"BOGUS\n",
                                             "READ /etc/shadow\n",
                                             std::string(200, 'A') + "\n",
                                             std::string(300, 'B'),
                                             std::string("\x00\xff\x7f"
                                                         "ELF\n",
                                                         7),
                                             "HELLO 2\n",
                                             "HELLO 1\nWRITE\nREAD\n"};
  for (const std::string& request : requests) {
    const Answer a = ask_as_nobody(socket_, request);
    EXPECT_TRUE(a.closed) << request;
    EXPECT_EQ(count_lines_starting(a.data, "ERR "), 1) << request << " -> " << a.data;
    EXPECT_EQ(count_lines_starting(a.data, "VALUES "), 0) << request << " -> " << a.data;
    EXPECT_FALSE(contains(a.data, "root:")) << a.data;
  }
  // The member connected before them still reads the counters, close to the fake's own value.
  std::vector<std::uint64_t> raw(client.sensors().size());
  std::vector<int> errors(client.sensors().size(), -1);
  const std::uint64_t before = tree_.counter_uj("intel-rapl:0");
  client.read(raw, errors);
  const std::uint64_t after = tree_.counter_uj("intel-rapl:0");
  ASSERT_EQ(client.sensors().front().name, "rapl.package-0");
  EXPECT_EQ(errors.front(), 0);
  EXPECT_GE(raw.front() + 50'000, before);  // 5 ms at 10 W
  EXPECT_LE(raw.front(), after + 50'000);
  stop_daemon(daemon);
  // A lost daemon: every sensor gets an error, and read does not throw.
  client.read(raw, errors);
  for (const int e : errors) EXPECT_NE(e, 0);
  // It comes back (systemd restarted it): a read a second after the last try connects again and goes on
  // from the same counters.
  daemon = start_daemon(std::to_string(kNogroup));
  ASSERT_TRUE(fs::exists(socket_)) << describe(daemon->wait());
  std::this_thread::sleep_for(1100ms);
  const std::uint64_t restarted = tree_.counter_uj("intel-rapl:0");
  std::fill(errors.begin(), errors.end(), -1);
  client.read(raw, errors);
  EXPECT_EQ(errors, std::vector<int>(errors.size(), 0));
  EXPECT_GE(raw.front() + 50'000, restarted);
  EXPECT_LE(raw.front(), tree_.counter_uj("intel-rapl:0") + 50'000);
  stop_daemon(daemon);
}

// (d) Over the rate limit (50 requests/s, burst 50): an error and the connection closed; over the per-user
// connection limit: refused. A client at wattprint's own pace is never refused.
TEST_F(WattprintdIntegration, RateAndConnectionLimits) {
  auto daemon = start_daemon(std::to_string(kNogroup), {"--max-per-user", "3"});
  ASSERT_TRUE(fs::exists(socket_)) << describe(daemon->wait());
  std::string flood;
  for (int i = 0; i < 100; ++i) flood += "READ\n";
  const Answer a = ask(socket_, flood);
  EXPECT_TRUE(a.closed);
  const int values = count_lines_starting(a.data, "VALUES ");
  EXPECT_GE(values, 50);
  EXPECT_LT(values, 100);
  EXPECT_TRUE(contains(a.data, "ERR rate limit exceeded"))
      << a.data.substr(a.data.size() > 200 ? a.data.size() - 200 : 0);

  DaemonCounterSource first(socket_);
  DaemonCounterSource second(socket_);
  DaemonCounterSource third(socket_);
  DaemonCounterSource fourth(socket_);
  EXPECT_TRUE(first.usable() && second.usable() && third.usable());
  EXPECT_FALSE(fourth.usable());
  EXPECT_TRUE(contains(fourth.failure(), "too many connections")) << fourth.failure();

  std::vector<std::uint64_t> raw(first.sensors().size());
  std::vector<int> errors(first.sensors().size());
  for (int i = 0; i < 40; ++i) {  // 20 reads a second for 2 s
    first.read(raw, errors);
    ASSERT_EQ(errors.front(), 0) << "read " << i;
    std::this_thread::sleep_for(50ms);
  }
  stop_daemon(daemon);
}

// (e) systemd socket activation: the listening socket on fd 3, LISTEN_FDS=1, LISTEN_PID=the daemon.
TEST_F(WattprintdIntegration, SocketActivation) {
  const int listen_fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socket_.c_str(), sizeof(address.sun_path) - 1);
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
  ASSERT_EQ(::bind(listen_fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(::listen(listen_fd, 16), 0);
  const fs::path unused = dir_.path() / "not-created.sock";
  const fs::path log = dir_.path() / "daemon.log";
  // Everything the child needs is made before fork (the test process has threads): only async-signal-safe
  // calls after it. LISTEN_PID gets the child's own pid, written digit by digit.
  std::string listen_pid = "LISTEN_PID=" + std::string(20, '\0');
  std::string listen_fds = "LISTEN_FDS=1";
  std::vector<char*> envp = {listen_fds.data(), listen_pid.data(), nullptr};
  std::vector<std::string> args = {
      "wattprintd", "--group", "0", "--socket", unused.string(), "--sysfs-root", tree_.sysfs_root().string()};
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ASSERT_GE(log_fd, 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    char digits[20];
    std::size_t n = 0;
    for (auto value = static_cast<unsigned long>(::getpid()); value > 0 || n == 0; value /= 10)
      digits[n++] = static_cast<char>('0' + value % 10);
    char* out = listen_pid.data() + std::strlen("LISTEN_PID=");
    while (n > 0) *out++ = digits[--n];
    ::dup2(log_fd, 2);
    ::dup2(listen_fd, 3);  // the copy on fd 3 is inherited by exec (no FD_CLOEXEC)
    ::execve(daemon_bin_.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(log_fd);
  ::close(listen_fd);
  DaemonCounterSource client(socket_, 5000ms);
  ASSERT_TRUE(client.usable()) << client.failure();
  EXPECT_EQ(client.sensors().size(), 2U);
  std::vector<std::uint64_t> raw(2);
  std::vector<int> errors(2, -1);
  client.read(raw, errors);
  EXPECT_EQ(errors, (std::vector<int>{0, 0}));
  EXPECT_GT(raw[0], 0U);
  EXPECT_FALSE(fs::exists(unused)) << "--socket is ignored under socket activation";
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_TRUE(fs::exists(socket_)) << "systemd's socket is not the daemon's to remove";
}

// (f) The BMC's power for users who cannot read it: wattprintd holds the BMC's password (root 0600) and
// reads it (here a real IPMI simulator over lanplus); `wattprint run` as nobody gets the server energy
// through the daemon, and the report says where it came from.
TEST_F(WattprintdIntegration, RunAsNobodyGetsTheBmcsPowerThroughTheDaemon) {
  const auto wattprint = wattprint_for_nobody();
  if (!wattprint) GTEST_SKIP() << "WATTPRINT_BIN is not set: point it at the wattprint executable";
  if (auto why = IpmiSimulator::unavailable_reason()) GTEST_SKIP() << *why;
  IpmiSimulator sim("ipmiusr", "Pa55-daemon-bmc");
  ASSERT_TRUE(sim.running()) << sim.error();
  sim.set_power_watts(312);
  const fs::path password = dir_.path() / "bmc.pw";
  write_text_file(password, "Pa55-daemon-bmc\n", 0600);
  auto daemon = start_daemon(std::to_string(kNogroup),
                             {"--ipmi-host", sim.host(), "--ipmi-user", sim.user(), "--ipmi-password-file",
                              password.string(), "--server-interval", "0.2", "--server-timeout", "0.5"});
  ASSERT_TRUE(fs::exists(socket_)) << describe(daemon->wait());

  const fs::path json_path = home_.path() / "report.json";
  SpawnOptions o = as_nobody({"run", "--sysfs-root", tree_.sysfs_root().string(), "--server-interval", "0.2",
                              "--json", json_path.string(), "--", "sleep", "1.5"});
  const ProcessResult r = run_process(*wattprint, o);
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const json report = read_json(json_path);
  ASSERT_TRUE(report.at("server").is_object()) << describe(r);
  EXPECT_EQ(report.at("server").at("source"), "ipmi-dcmi");
  const std::string origin = report.at("server").at("origin").get<std::string>();
  EXPECT_TRUE(
      contains(origin, "wattprintd " + socket_.string() + ": IPMI DCMI over lanplus to " + sim.host()))
      << origin;
  // The simulator's power is constant: the energy is that power over the run, exactly.
  const double duration = report.at("duration_s").get<double>();
  EXPECT_NEAR(report.at("server").at("energy_j").get<double>(), 312.0 * duration, 1e-6)
      << report.at("server");
  EXPECT_DOUBLE_EQ(report.at("server").at("mean_window_s").get<double>(), 1.0);
  EXPECT_GE(report.at("server").at("readings").get<int>(), 5);
  EXPECT_EQ(report.at("server").at("failed_readings").get<int>(), 0) << report.at("server");
  // The counters came through the daemon too, and the password went nowhere.
  EXPECT_TRUE(report.at("measured").at("cpu_j").is_number()) << report.dump(2);
  EXPECT_FALSE(contains(r.err, "Pa55-daemon-bmc"));

  // `wattprint sensors` as nobody lists the daemon's meter as usable.
  o.args = {"sensors", "--sysfs-root", tree_.sysfs_root().string()};
  const ProcessResult sensors = run_process(*wattprint, o);
  EXPECT_EQ(sensors.exit_code, 0) << describe(sensors);
  EXPECT_TRUE(contains(sensors.out, "wattprintd.server")) << sensors.out;
  EXPECT_TRUE(contains(sensors.out, "312 W now")) << sensors.out;

  // The BMC stops answering: the daemon's reads time out (0.5 s) and say so; the run goes on, the readings
  // that failed are counted and marked.
  sim.pause();
  std::this_thread::sleep_for(700ms);
  o.args = {"run",
            "--sysfs-root",
            tree_.sysfs_root().string(),
            "--server-interval",
            "0.2",
            "--json",
            json_path.string(),
            "--",
            "sleep",
            "1"};
  const ProcessResult paused = run_process(*wattprint, o);
  sim.resume();
  ASSERT_EQ(paused.exit_code, 0) << describe(paused);
  const json degraded = read_json(json_path);
  EXPECT_GE(degraded.at("server").at("failed_readings").get<int>(), 1) << degraded.at("server");
  std::string log;
  stop_daemon(daemon, &log);
  EXPECT_TRUE(contains(log, "the server power of IPMI DCMI over lanplus")) << log;
  EXPECT_FALSE(contains(log, "Pa55-daemon-bmc")) << log;
}

// (g) A meter the administrator configured but the daemon cannot use stops it with the reason (systemd
// restarts it), rather than serving nothing for ever.
TEST_F(WattprintdIntegration, AConfiguredBmcItCannotReachStopsTheDaemon) {
  const fs::path password = dir_.path() / "bmc.pw";
  write_text_file(password, "whatever\n", 0600);
  SpawnOptions o;
  o.args = {"--socket",
            socket_.string(),
            "--group",
            "0",
            "--sysfs-root",
            tree_.sysfs_root().string(),
            "--ipmi-host",
            "127.0.0.1:9",
            "--ipmi-user",
            "nobody",
            "--ipmi-password-file",
            password.string(),
            "--server-timeout",
            "0.5"};
  o.home = dir_.path();
  const ProcessResult r = run_process(daemon_bin_, o);
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_TRUE(contains(r.err, "ipmi-dcmi.lan")) << r.err;
  EXPECT_FALSE(fs::exists(socket_));
  // A bad flag is a usage error (2), one line naming it.
  o.args = {"--socket", socket_.string(), "--group", "0", "--server-interval", "soon"};
  const ProcessResult bad = run_process(daemon_bin_, o);
  EXPECT_EQ(bad.exit_code, 2) << describe(bad);
  EXPECT_TRUE(contains(bad.err, "--server-interval")) << bad.err;
}

}  // namespace
}  // namespace wattprint::testing
