// Runs the real wattprint binary for integration tests: fork/exec with a clean environment, pipes, timeouts.
#include "integration/harness.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <tuple>
#include <utility>

namespace wattprint::testing {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

[[noreturn]] void throw_errno(int error, const std::string& what) {
  throw std::system_error(error, std::generic_category(), what);
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

struct Pipe {
  int read = -1;
  int write = -1;
  Pipe() {
    std::array<int, 2> fds{};
    if (::pipe2(fds.data(), O_CLOEXEC) != 0) throw_errno(errno, "pipe2");
    read = fds[0];
    write = fds[1];
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  ~Pipe() {
    close_fd(read);
    close_fd(write);
  }
};

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

TempDir::TempDir(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/" + prefix + "-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) throw_errno(errno, "mkdtemp " + templ);
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void TempDir::chown_to(uid_t uid, gid_t gid) const {
  if (::chown(path_.c_str(), uid, gid) != 0) throw_errno(errno, "chown " + path_.string());
}

std::optional<fs::path> wattprint_bin_from_env() {
  const char* bin = std::getenv("WATTPRINT_BIN");
  if (bin == nullptr || *bin == '\0') return std::nullopt;
  return fs::absolute(bin);  // the child changes directory before exec
}

Process::Process(const fs::path& exe, const SpawnOptions& options)
    : timeout_(options.timeout), stdin_data_(options.stdin_data) {
  // A child that exits before reading its stdin must not kill the test with SIGPIPE.
  ::signal(SIGPIPE, SIG_IGN);

  std::vector<std::string> argv_strings{exe.string()};
  argv_strings.insert(argv_strings.end(), options.args.begin(), options.args.end());
  std::vector<std::string> env_strings;
  const char* path = std::getenv("PATH");
  env_strings.push_back(std::string("PATH=") + (path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin"));
  env_strings.push_back("TZ=UTC");
  if (!options.home.empty()) {
    env_strings.push_back("HOME=" + options.home.string());
    env_strings.push_back("XDG_CONFIG_HOME=" + (options.home / ".config").string());
  }
  for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"}) {
    if (const char* value = std::getenv(name)) env_strings.push_back(std::string(name) + "=" + value);
  }
  std::vector<char*> argv = c_strings(argv_strings);
  env_strings.insert(env_strings.end(), options.extra_env.begin(), options.extra_env.end());
  std::vector<char*> envp = c_strings(env_strings);
  const std::string cwd = options.cwd.string();
  const std::string exe_path = exe.string();

  Pipe in;
  Pipe out;
  Pipe err;
  Pipe exec_error;
  started_ = Clock::now();
  pid_ = ::fork();
  if (pid_ < 0) throw_errno(errno, "fork");
  if (pid_ == 0) {
    // Child: async-signal-safe calls only (the test process has other threads).
    ::setpgid(0, 0);
    ::dup2(in.read, STDIN_FILENO);
    ::dup2(out.write, STDOUT_FILENO);
    ::dup2(err.write, STDERR_FILENO);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD}) ::signal(sig, SIG_DFL);
    int step_error = 0;
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) step_error = errno;
    if (step_error == 0 && options.gid) {
      if (::setgroups(0, nullptr) != 0 || ::setgid(*options.gid) != 0) step_error = errno;
    }
    if (step_error == 0 && options.uid && ::setuid(*options.uid) != 0) step_error = errno;
    if (step_error == 0) {
      ::execve(exe_path.c_str(), argv.data(), envp.data());
      step_error = errno;
    }
    [[maybe_unused]] const auto n = ::write(exec_error.write, &step_error, sizeof step_error);
    ::_exit(127);
  }
  ::setpgid(pid_, pid_);  // also in the parent, so that kill(-pid) works whoever runs first
  close_fd(in.read);
  close_fd(out.write);
  close_fd(err.write);
  close_fd(exec_error.write);
  int child_error = 0;
  ssize_t n = 0;
  do {
    n = ::read(exec_error.read, &child_error, sizeof child_error);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof child_error)) {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    waited_ = true;
    throw_errno(child_error, "cannot start " + exe_path);
  }
  const int in_fd = std::exchange(in.write, -1);
  const int out_fd = std::exchange(out.read, -1);
  const int err_fd = std::exchange(err.read, -1);
  pump_thread_ = std::thread([this, in_fd, out_fd, err_fd] { pump(in_fd, out_fd, err_fd); });
}

Process::~Process() {
  if (!waited_) {
    ::kill(-pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  stop_pump_ = true;
  if (pump_thread_.joinable()) pump_thread_.join();
}

void Process::signal(int sig) const {
  if (::kill(pid_, sig) != 0) throw_errno(errno, "kill");
}

void Process::pump(int in_fd, int out_fd, int err_fd) {
  std::size_t written = 0;
  if (stdin_data_.empty()) close_fd(in_fd);
  if (in_fd >= 0) ::fcntl(in_fd, F_SETFL, O_NONBLOCK);
  std::array<char, 65536> buf{};
  while (!stop_pump_ && (in_fd >= 0 || out_fd >= 0 || err_fd >= 0)) {
    std::array<pollfd, 3> fds{pollfd{in_fd, POLLOUT, 0}, pollfd{out_fd, POLLIN, 0},
                              pollfd{err_fd, POLLIN, 0}};
    const int ready = ::poll(fds.data(), fds.size(), 20);
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    if (in_fd >= 0 && fds[0].revents != 0) {
      const ssize_t n = ::write(in_fd, stdin_data_.data() + written, stdin_data_.size() - written);
      if (n > 0) written += static_cast<std::size_t>(n);
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == stdin_data_.size()) close_fd(in_fd);
    }
    for (auto [index, fd, sink] : {std::tuple{1, &out_fd, &out_}, std::tuple{2, &err_fd, &err_}}) {
      if (*fd < 0 || fds[static_cast<std::size_t>(index)].revents == 0) continue;
      const ssize_t n = ::read(*fd, buf.data(), buf.size());
      if (n > 0) {
        sink->append(buf.data(), static_cast<std::size_t>(n));
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        close_fd(*fd);
      }
    }
  }
  close_fd(in_fd);
  close_fd(out_fd);
  close_fd(err_fd);
  pump_done_ = true;
}

ProcessResult Process::wait() {
  ProcessResult result;
  int status = 0;
  const auto deadline = started_ + timeout_;
  for (;;) {
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) break;
    if (r < 0 && errno != EINTR) throw_errno(errno, "waitpid");
    if (Clock::now() >= deadline) {
      result.timed_out = true;
      ::kill(-pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  waited_ = true;
  result.wall_s = std::chrono::duration<double>(Clock::now() - started_).count();
  // Let the pump drain what is left; a process left behind holding the pipes is killed with the group, and
  // the pump gives up on pipes still held open by anything else.
  const auto drain_deadline = Clock::now() + std::chrono::seconds(2);
  while (!pump_done_ && Clock::now() < drain_deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ::kill(-pid_, SIGKILL);
  const auto kill_deadline = Clock::now() + std::chrono::seconds(1);
  while (!pump_done_ && Clock::now() < kill_deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  stop_pump_ = true;
  pump_thread_.join();
  result.out = std::move(out_);
  result.err = std::move(err_);
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signaled = true;
    result.exit_code = 128 + WTERMSIG(status);
  }
  return result;
}

ProcessResult run_process(const fs::path& exe, const SpawnOptions& options) {
  Process p(exe, options);
  return p.wait();
}

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("no JSON report at " + path.string());
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("malformed JSON in " + path.string() + ": " + e.what() + "\n" + ss.str());
  }
}

bool wait_for_file(const fs::path& path, std::chrono::milliseconds timeout) {
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  while (!fs::exists(path)) {
    if (std::chrono::steady_clock::now() >= give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

void write_text_file(const fs::path& path, const std::string& text, unsigned mode) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  {
    std::ofstream out(path, std::ios::trunc);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + path.string());
  }
  fs::permissions(path, fs::perms(mode));
}

}  // namespace wattprint::testing
