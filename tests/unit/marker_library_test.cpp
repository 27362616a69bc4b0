// The shared C marker library as an FFI would use it: dlopen of the built libwattprint_marker.so.1, its
// symbols resolved by name, marks sent into a control socket server of the test.
#include <dlfcn.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "phases/control_socket.hpp"
#include "unit/test_dir.hpp"

#ifndef WATTPRINT_MARKER_LIBRARY
#error "WATTPRINT_MARKER_LIBRARY: the path of libwattprint_marker.so.1"
#endif

namespace wattprint {
namespace {

using namespace std::chrono_literals;
using MarkFunction = int (*)(const char*);
using InRunFunction = int (*)();

std::int64_t ns_of(SteadyTime t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
std::int64_t monotonic_now_ns() { return ns_of(std::chrono::steady_clock::now()); }
std::string origin_of(pid_t pid) { return "control socket (pid " + std::to_string(pid) + ")"; }

class MarkerLibrary : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv(kControlSocketVariable);
    handle_ = ::dlopen(WATTPRINT_MARKER_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(handle_, nullptr) << ::dlerror();
    begin_ = resolve<MarkFunction>("wattprint_phase_begin");
    end_ = resolve<MarkFunction>("wattprint_phase_end");
    in_run_ = resolve<InRunFunction>("wattprint_in_run");
    ASSERT_NE(begin_, nullptr);
    ASSERT_NE(end_, nullptr);
    ASSERT_NE(in_run_, nullptr);
  }
  void TearDown() override {
    ::unsetenv(kControlSocketVariable);
    if (handle_ != nullptr) ::dlclose(handle_);
  }
  template <typename F>
  F resolve(const char* symbol) {
    void* address = ::dlsym(handle_, symbol);
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): how dlsym results are used
    return reinterpret_cast<F>(address);
  }

  void* handle_ = nullptr;
  MarkFunction begin_ = nullptr;
  MarkFunction end_ = nullptr;
  InRunFunction in_run_ = nullptr;
};

TEST_F(MarkerLibrary, ExportsOnlyItsApi) {
  EXPECT_EQ(::dlsym(handle_, "send_mark"), nullptr);
  EXPECT_EQ(::dlsym(handle_, "valid_name"), nullptr);
  EXPECT_EQ(::dlsym(handle_, "ensure_connected"), nullptr);
}

TEST_F(MarkerLibrary, OutsideARunDoesNothingAndReturnsOne) {
  EXPECT_EQ(in_run_(), 0);
  EXPECT_EQ(begin_("epoch"), 1);
  EXPECT_EQ(end_("epoch"), 1);
  ASSERT_EQ(::setenv(kControlSocketVariable, "", 1), 0);  // set but empty: not a run either
  EXPECT_EQ(in_run_(), 0);
  EXPECT_EQ(begin_("epoch"), 1);
}

TEST_F(MarkerLibrary, BadNamesAreEinvalInOrOutOfARun) {
  for (int pass = 0; pass < 2; ++pass) {
    EXPECT_EQ(begin_(nullptr), -EINVAL);
    EXPECT_EQ(begin_(""), -EINVAL);
    EXPECT_EQ(begin_("two words"), -EINVAL);
    EXPECT_EQ(end_("line\nbreak"), -EINVAL);
    EXPECT_EQ(begin_(std::string(65, 'n').c_str()), -EINVAL);
    EXPECT_EQ(begin_(std::string(64, 'n').c_str()), pass == 0 ? 1 : -ENOENT);
    ASSERT_EQ(::setenv(kControlSocketVariable, "/nonexistent/wattprint/control", 1), 0);
  }
}

TEST_F(MarkerLibrary, MarksArriveWithTheirTimeAndPid) {
  MarkQueue queue;
  ControlSocketServer server(queue);
  server.start();
  ASSERT_EQ(::setenv(kControlSocketVariable, server.path().c_str(), 1), 0);
  EXPECT_EQ(in_run_(), 1);
  const std::int64_t before = monotonic_now_ns();
  EXPECT_EQ(begin_("epoch"), 0);
  const std::int64_t middle = monotonic_now_ns();
  EXPECT_EQ(end_("epoch"), 0);
  const std::int64_t after = monotonic_now_ns();
  server.stop(5s);
  const std::vector<PhaseMark> marks = queue.drain();
  ASSERT_EQ(marks.size(), 2U);
  EXPECT_EQ(marks[0].kind, PhaseMark::Kind::Begin);
  EXPECT_EQ(marks[0].name, "epoch");
  EXPECT_GE(ns_of(marks[0].at), before);
  EXPECT_LE(ns_of(marks[0].at), middle);
  EXPECT_EQ(marks[1].kind, PhaseMark::Kind::End);
  EXPECT_GE(ns_of(marks[1].at), middle);
  EXPECT_LE(ns_of(marks[1].at), after);
  EXPECT_EQ(marks[0].origin, origin_of(::getpid()));
  EXPECT_EQ(server.malformed_lines(), 0U);
}

TEST_F(MarkerLibrary, ChildAfterForkSendsOnItsOwnConnection) {
  MarkQueue queue;
  ControlSocketServer server(queue);
  server.start();
  ASSERT_EQ(::setenv(kControlSocketVariable, server.path().c_str(), 1), 0);
  ASSERT_EQ(begin_("parent"), 0);  // the parent's connection is open when it forks
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const int a = begin_("child");
    const int b = end_("child");
    ::_exit(a == 0 && b == 0 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(end_("parent"), 0);  // the parent's connection still works after the child closed its copy
  server.stop(5s);
  int parent_marks = 0;
  int child_marks = 0;
  for (const PhaseMark& mark : queue.drain()) {
    if (mark.name == "parent") {
      EXPECT_EQ(mark.origin, origin_of(::getpid()));
      ++parent_marks;
    } else if (mark.name == "child") {
      EXPECT_EQ(mark.origin, origin_of(child));  // SO_PEERCRED: the child connected itself
      ++child_marks;
    }
  }
  EXPECT_EQ(parent_marks, 2);
  EXPECT_EQ(child_marks, 2);
  EXPECT_EQ(server.malformed_lines(), 0U);
}

/// The fds of this process that are connected Unix sockets without a name of their own (client ends).
std::set<int> client_socket_fds() {
  std::set<int> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    const int fd = std::stoi(entry.path().filename().string());
    sockaddr_un address{};
    socklen_t length = sizeof(address);
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast)
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) continue;
    if (address.sun_family == AF_UNIX && length == sizeof(sa_family_t)) out.insert(fd);
  }
  return out;
}

TEST_F(MarkerLibrary, AnFdClosedAndReusedByTheProgramIsLeftAlone) {
  MarkQueue queue;
  ControlSocketServer server(queue);
  server.start();
  ASSERT_EQ(::setenv(kControlSocketVariable, server.path().c_str(), 1), 0);
  const std::set<int> before = client_socket_fds();
  ASSERT_EQ(begin_("a"), 0);
  std::vector<int> opened;
  for (const int fd : client_socket_fds()) {
    if (before.count(fd) == 0) opened.push_back(fd);
  }
  ASSERT_EQ(opened.size(), 1U);
  // The program closes every fd it does not know (as daemons do) and opens a file that gets the number.
  testing::TestDir dir;
  const std::filesystem::path file = dir.path() / "data";
  ASSERT_EQ(::close(opened[0]), 0);
  const int reused = ::open(file.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  ASSERT_GE(reused, 0);
  if (reused != opened[0]) {
    ASSERT_EQ(::dup2(reused, opened[0]), opened[0]);
    ::close(reused);
  }
  EXPECT_EQ(end_("a"), 0);  // on a fresh connection, not into the file
  server.stop(5s);
  EXPECT_EQ(queue.drain().size(), 2U);
  EXPECT_EQ(std::filesystem::file_size(file), 0U);
  EXPECT_EQ(::fcntl(opened[0], F_GETFD), FD_CLOEXEC);  // still open: the library did not close it
  ::close(opened[0]);
}

TEST_F(MarkerLibrary, RunEndedGivesAnErrorThenANewRunWorks) {
  MarkQueue first_queue;
  auto first = std::make_unique<ControlSocketServer>(first_queue);
  first->start();
  ASSERT_EQ(::setenv(kControlSocketVariable, first->path().c_str(), 1), 0);
  ASSERT_EQ(begin_("one"), 0);
  const std::string first_path = first->path();
  first.reset();  // the run ended: socket and directory gone
  const int rc = begin_("late");
  EXPECT_TRUE(rc == -ENOENT || rc == -ECONNREFUSED || rc == -EPIPE) << rc;

  MarkQueue second_queue;
  ControlSocketServer second(second_queue);
  second.start();
  ASSERT_EQ(::setenv(kControlSocketVariable, second.path().c_str(), 1), 0);
  EXPECT_EQ(begin_("two"), 0);
  second.stop(5s);
  const std::vector<PhaseMark> marks = second_queue.drain();
  ASSERT_EQ(marks.size(), 1U);
  EXPECT_EQ(marks[0].name, "two");
}

TEST_F(MarkerLibrary, SocketReplacedUnderTheSamePathReconnectsOnce) {
  // WATTPRINT_CONTROL_SOCKET stays the same while the socket behind it changes: the first send after that
  // finds the old connection closed (EPIPE) and the library reconnects once, so the mark is not lost.
  testing::TestDir dir;
  const std::filesystem::path link = dir.path() / "control";
  MarkQueue first_queue;
  auto first = std::make_unique<ControlSocketServer>(first_queue);
  first->start();
  std::filesystem::create_symlink(first->path(), link);
  ASSERT_EQ(::setenv(kControlSocketVariable, link.c_str(), 1), 0);
  ASSERT_EQ(begin_("a"), 0);
  first->stop(5s);
  first.reset();  // closes the library's connection from the other end
  MarkQueue second_queue;
  ControlSocketServer second(second_queue);
  second.start();
  std::filesystem::remove(link);
  std::filesystem::create_symlink(second.path(), link);
  EXPECT_EQ(end_("a"), 0);
  second.stop(5s);
  const std::vector<PhaseMark> marks = second_queue.drain();
  ASSERT_EQ(marks.size(), 1U);
  EXPECT_EQ(marks[0].kind, PhaseMark::Kind::End);
  EXPECT_EQ(first_queue.drain().size(), 1U);
}

}  // namespace
}  // namespace wattprint
