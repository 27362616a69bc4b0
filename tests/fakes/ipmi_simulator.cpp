// Runs OpenIPMI's ipmi_sim with the wattprint DCMI test module (see ipmi_simulator.hpp).
#include "fakes/ipmi_simulator.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>
#include <thread>
#include <vector>

#include "fakes/require_simulators.hpp"

namespace wattprint::testing {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kStartAttempts = 3;                           // a port taken between pick and bind: new port
constexpr auto kAnswerDeadline = std::chrono::seconds(10);  // ipmi_sim answers within ~0.2 s normally
constexpr auto kStopDeadline = std::chrono::seconds(5);     // it takes 1-3 s to exit after SIGTERM

std::string env_or(const char* name, const char* fallback) {
  const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): tests read, never set, the env
  return value != nullptr && *value != '\0' ? value : fallback;
}

/// A UDP port on 127.0.0.1 free at the time of the call (0 when none could be had).
int pick_free_udp_port() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

/// Sends an RMCP/ASF presence ping to 127.0.0.1:port and waits up to `wait` for the pong.
bool answers_presence_ping(int port, std::chrono::milliseconds wait) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  // RMCP v1.0, sequence 0xFF (no ack), class ASF; ASF IANA 4542, type 0x80 presence ping, tag, reserved, len
  // 0.
  const std::array<unsigned char, 12> ping = {0x06, 0x00, 0xFF, 0x06, 0x00, 0x00,
                                              0x11, 0xBE, 0x80, 0x2A, 0x00, 0x00};
  bool pong = false;
  if (::sendto(fd, ping.data(), ping.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr) ==
      static_cast<ssize_t>(ping.size())) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(wait.count())) == 1) {
      std::array<unsigned char, 128> reply{};
      const ssize_t n = ::recv(fd, reply.data(), reply.size(), 0);
      pong = n >= 9 && reply[3] == 0x06 && reply[8] == 0x40;  // ASF presence pong
    }
  }
  ::close(fd);
  return pong;
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

}  // namespace

std::string IpmiSimulator::simulator_path() { return env_or("WATTPRINT_IPMI_SIM", "/usr/bin/ipmi_sim"); }

std::string IpmiSimulator::module_path() {
#ifdef WATTPRINT_IPMI_SIM_DCMI_MODULE
  return env_or("WATTPRINT_IPMI_SIM_DCMI_MODULE", WATTPRINT_IPMI_SIM_DCMI_MODULE);
#else
  return env_or("WATTPRINT_IPMI_SIM_DCMI_MODULE", "");
#endif
}

std::optional<std::string> IpmiSimulator::unavailable_reason() {
  auto why = missing_parts();
  if (why && required_by_environment()) {
    std::fprintf(stderr, "WATTPRINT_REQUIRE_SIMULATORS is set, but %s\n", why->c_str());
    std::abort();
  }
  return why;
}

std::optional<std::string> IpmiSimulator::missing_parts() {
  const std::string sim = simulator_path();
  if (::access(sim.c_str(), X_OK) != 0) {
    return "no " + sim + " (the OpenIPMI simulator; Debian package openipmi)";
  }
  const std::string module = module_path();
  if (module.empty() || ::access(module.c_str(), R_OK) != 0) {
    return "the ipmi_sim DCMI test module was not built (" + module +
           "; needs the OpenIPMI headers, Debian package libopenipmi-dev)";
  }
  return std::nullopt;
}

IpmiSimulator::IpmiSimulator(std::string user, std::string password)
    : user_(std::move(user)), password_(std::move(password)) {
  if (auto why = unavailable_reason()) {
    error_ = *why;
    return;
  }
  std::string pattern = (std::filesystem::temp_directory_path() / "wattprint-ipmisim-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    error_ = "cannot create a temporary directory";
    return;
  }
  dir_ = pattern;
  std::filesystem::create_directory(dir_ / "state");
  write_file(dir_ / "sim.emu",
             "mc_setbmc 0x20\n"
             "mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\n"
             "mc_enable 0x20\n");
  write_control();
  std::string why;
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    if (start_once(why)) return;
  }
  error_ = "ipmi_sim did not start: " + why;
}

IpmiSimulator::~IpmiSimulator() {
  stop();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

bool IpmiSimulator::start_once(std::string& why) {
  port_ = pick_free_udp_port();
  if (port_ == 0) {
    why = "no free UDP port on 127.0.0.1";
    return false;
  }
  std::ostringstream conf;
  conf << "name \"wattprint-test-bmc\"\n"
       << "set_working_mc 0x20\n"
       << "  startlan 1\n"
       << "    addr 127.0.0.1 " << port_ << "\n"
       << "    priv_limit admin\n"
       << "    allowed_auths_callback none md2 md5 straight\n"
       << "    allowed_auths_user none md2 md5 straight\n"
       << "    allowed_auths_operator none md2 md5 straight\n"
       << "    allowed_auths_admin none md2 md5 straight\n"
       << "    guid a123456789abcdefa123456789abcdef\n"
       << "  endlan\n"
       << "  user 2 true \"" << user_ << "\" \"" << password_ << "\" admin 10 none md2 md5 straight\n"
       << "loadlib \"" << module_path() << "\" \"" << (dir_ / "dcmi.ctl").string() << "\"\n";
  write_file(dir_ / "lan.conf", conf.str());

  const std::string sim = simulator_path();
  const std::string conf_path = (dir_ / "lan.conf").string();
  const std::string emu_path = (dir_ / "sim.emu").string();
  const std::string state_path = (dir_ / "state").string();
  const std::string log_path = (dir_ / "sim.log").string();
  std::vector<std::string> args = {sim, "-c", conf_path, "-f", emu_path, "-s", state_path, "-n"};
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  // fork + exec rather than posix_spawn, for PR_SET_PDEATHSIG: a test process that crashes takes its
  // simulator with it instead of leaving it running. Only async-signal-safe calls between fork and exec.
  const int parent = static_cast<int>(::getpid());
  const pid_t pid = ::fork();
  if (pid < 0) {
    why = "cannot fork: " + std::generic_category().message(errno);
    return false;
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died already
    const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    const int out = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (in < 0 || out < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) ::_exit(127);
    ::execv(sim.c_str(), argv.data());
    ::_exit(127);
  }
  pid_ = pid;
  if (wait_until_answering(why)) return true;
  stop();
  return false;
}

bool IpmiSimulator::wait_until_answering(std::string& why) {
  const auto deadline = Clock::now() + kAnswerDeadline;
  while (Clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      why = "ipmi_sim exited at start (port " + std::to_string(port_) + "): " + log();
      return false;
    }
    if (answers_presence_ping(port_, std::chrono::milliseconds(100))) return true;
  }
  why = "ipmi_sim does not answer on 127.0.0.1:" + std::to_string(port_) + ": " + log();
  return false;
}

void IpmiSimulator::stop() noexcept {
  if (pid_ <= 0) return;
  paused_ = false;
  ::kill(pid_, SIGCONT);
  ::kill(pid_, SIGTERM);
  const auto deadline = Clock::now() + kStopDeadline;
  int status = 0;
  while (Clock::now() < deadline) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string IpmiSimulator::host() const { return "127.0.0.1:" + std::to_string(port_); }

std::string IpmiSimulator::log() const {
  std::ifstream in(dir_ / "sim.log");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void IpmiSimulator::write_control() const {
  if (dir_.empty()) return;
  std::ostringstream text;
  text << "current=" << current_w_ << "\nminimum=" << minimum_w_ << "\nmaximum=" << maximum_w_
       << "\naverage=" << average_w_ << "\ncc=" << completion_code_ << "\nperiod_ms=" << period_ms_
       << "\nactive=" << (active_ ? 1 : 0) << "\n";
  const std::filesystem::path tmp = dir_ / "dcmi.ctl.tmp";
  write_file(tmp, text.str());
  std::error_code ec;
  std::filesystem::rename(tmp, dir_ / "dcmi.ctl", ec);  // atomic: a request sees the old or the new file
}

void IpmiSimulator::set_power_watts(unsigned watts) {
  current_w_ = minimum_w_ = maximum_w_ = average_w_ = watts;
  write_control();
}

void IpmiSimulator::set_average_watts(unsigned watts) {
  average_w_ = watts;
  write_control();
}

void IpmiSimulator::set_completion_code(std::uint8_t code) {
  completion_code_ = code;
  write_control();
}

void IpmiSimulator::set_period_ms(std::uint32_t period_ms) {
  period_ms_ = period_ms;
  write_control();
}

void IpmiSimulator::set_measurement_active(bool active) {
  active_ = active;
  write_control();
}

void IpmiSimulator::pause() {
  if (pid_ > 0 && !paused_ && ::kill(pid_, SIGSTOP) == 0) paused_ = true;
}

void IpmiSimulator::resume() {
  if (pid_ > 0 && paused_ && ::kill(pid_, SIGCONT) == 0) paused_ = false;
}

}  // namespace wattprint::testing
