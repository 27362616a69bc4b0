// RedfishServer: openssl for the certificate, python3 for the service, a control file for the steering.
#include "fakes/redfish_server.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>
#include <thread>

#include "fakes/require_simulators.hpp"

#ifndef REDFISH_SERVER_SCRIPT
#error "REDFISH_SERVER_SCRIPT (the path of tests/fakes/redfish_server.py) must be defined"
#endif

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX leaves it undeclared

namespace wattprint::testing {

namespace {

using namespace std::chrono_literals;

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    if (::access((std::filesystem::path(dir) / program).c_str(), X_OK) == 0) return true;
  }
  return false;
}

/// posix_spawnp of `argv`, stdin from /dev/null, stdout and stderr appended to `log`. -1 on failure.
pid_t spawn(const std::vector<std::string>& argv, const std::filesystem::path& log) {
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

/// Waits for `pid` at most `limit`; the exit status, or nullopt (still running).
std::optional<int> wait_for(pid_t pid, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (done < 0 && errno != EINTR) return -1;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(20ms);
  }
}

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// Writes `text` to `path` through a temporary file and rename(2): readers see the old or the new file.
void write_atomically(const std::filesystem::path& path, const std::string& text) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace

std::optional<std::string> RedfishServer::unavailable() {
  std::optional<std::string> why;
  if (!on_path("python3")) why = "python3 is not on PATH (needed for the fake Redfish server)";
  if (!on_path("openssl")) why = "openssl is not on PATH (needed for the fake Redfish server's certificate)";
  if (why && required_by_environment()) {
    std::fprintf(stderr, "WATTPRINT_REQUIRE_SIMULATORS is set, but %s\n", why->c_str());
    std::abort();
  }
  return why;
}

RedfishServer::RedfishServer() : RedfishServer(Options{}) {}

RedfishServer::RedfishServer(Options options) : options_(std::move(options)) {
  std::string pattern = (std::filesystem::temp_directory_path() / "wattprint-redfish-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    error_ = "mkdtemp failed";
    return;
  }
  dir_ = pattern;
  try {
    start();
  } catch (const std::exception& e) {
    error_ = std::string("starting the fake Redfish server: ") + e.what();
  }
}

void RedfishServer::start() {
  if (auto why = unavailable()) {
    error_ = *why;
    return;
  }
  {
    std::ofstream out(file("password"), std::ios::trunc);
    out << options_.password << '\n';
  }
  ::chmod(file("password").c_str(), 0600);
  write_control();

  const pid_t openssl = spawn({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                               "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout",
                               file("key.pem").string(), "-out", file("cert.pem").string()},
                              file("openssl.log"));
  const std::optional<int> made = openssl < 0 ? std::optional<int>(-1) : wait_for(openssl, 30s);
  if (!made || *made != 0) {
    if (!made) {
      ::kill(openssl, SIGKILL);
      ::waitpid(openssl, nullptr, 0);
    }
    error_ = "openssl req failed: " + slurp(file("openssl.log"));
    return;
  }

  pid_ = spawn({"python3", REDFISH_SERVER_SCRIPT, "--cert", file("cert.pem").string(), "--key",
                file("key.pem").string(), "--port-file", file("port").string(), "--control",
                file("control.json").string(), "--user", options_.user, "--password-file",
                file("password").string(), "--log", file("requests.log").string()},
               file("server.log"));
  if (pid_ < 0) {
    error_ = "cannot start python3";
    return;
  }
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(file("port"));
    int port = 0;
    if (in >> port && port > 0) {
      port_ = port;
      return;
    }
    if (auto status = wait_for(pid_, 0ms)) {
      pid_ = -1;
      error_ = "the fake Redfish server exited (status " + std::to_string(*status) +
               "): " + slurp(file("server.log"));
      return;
    }
    std::this_thread::sleep_for(20ms);
  }
  error_ = "the fake Redfish server did not listen within 15 s: " + slurp(file("server.log"));
}

RedfishServer::~RedfishServer() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    if (!wait_for(pid_, 2s)) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string RedfishServer::url() const { return "https://127.0.0.1:" + std::to_string(port_); }
std::string RedfishServer::chassis_url() const { return url() + "/redfish/v1/Chassis/1U"; }
std::string RedfishServer::ca_file() const { return file("cert.pem").string(); }
std::string RedfishServer::password_file() const { return file("password").string(); }

void RedfishServer::write_control() {
  const nlohmann::json control = {{"variant", options_.variant},
                                  {"power_watts", options_.power_watts},
                                  {"delay_s", delay_s_},
                                  {"malformed", malformed_},
                                  {"status", status_}};
  write_atomically(file("control.json"), control.dump());
}

void RedfishServer::set_variant(const std::string& variant) {
  options_.variant = variant;
  write_control();
}
void RedfishServer::set_power_watts(double watts) {
  options_.power_watts = watts;
  write_control();
}
void RedfishServer::set_delay_s(double seconds) {
  delay_s_ = seconds;
  write_control();
}
void RedfishServer::set_malformed(bool malformed) {
  malformed_ = malformed;
  write_control();
}
void RedfishServer::set_status(int status) {
  status_ = status;
  write_control();
}

std::vector<std::string> RedfishServer::requests() const {
  std::vector<std::string> lines;
  std::ifstream in(file("requests.log"));
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) lines.push_back(line);
  return lines;
}

void RedfishServer::clear_requests() { std::ofstream out(file("requests.log"), std::ios::trunc); }

}  // namespace wattprint::testing
