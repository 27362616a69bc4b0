// The control socket: the protocol parser, and the server against real clients (raw sockets and the C
// marker library) — one, split writes, many at once, a storm, bad input, and its directory.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "phases/control_socket.hpp"
#include "unit/test_dir.hpp"
#include "wattprint_marker.h"

namespace wattprint {
namespace {

using namespace std::chrono_literals;

std::int64_t ns_of(SteadyTime t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

std::int64_t monotonic_now_ns() { return ns_of(std::chrono::steady_clock::now()); }

// ---- parse_marker_line ----------------------------------------------------------------------------------

TEST(ParseMarkerLine, BeginWithTimeNameAndOrigin) {
  const auto mark = parse_marker_line("begin 123456789012 epoch", "control socket (pid 7)");
  ASSERT_TRUE(mark.has_value());
  EXPECT_EQ(mark->kind, PhaseMark::Kind::Begin);
  EXPECT_EQ(mark->name, "epoch");
  EXPECT_EQ(ns_of(mark->at), 123456789012);
  EXPECT_EQ(mark->origin, "control socket (pid 7)");
  EXPECT_FALSE(mark->index.has_value());
}

TEST(ParseMarkerLine, EndWithEveryAllowedCharacter) {
  const std::string name = "AZaz09_.:/-";
  const auto mark = parse_marker_line("end 0 " + name, "o");
  ASSERT_TRUE(mark.has_value());
  EXPECT_EQ(mark->kind, PhaseMark::Kind::End);
  EXPECT_EQ(mark->name, name);
  EXPECT_EQ(ns_of(mark->at), 0);
}

TEST(ParseMarkerLine, LargestTimeAndLongestName) {
  const std::string name(64, 'n');
  const auto mark = parse_marker_line("begin 9223372036854775807 " + name, "o");
  ASSERT_TRUE(mark.has_value());
  EXPECT_EQ(ns_of(mark->at), INT64_MAX);
  EXPECT_EQ(mark->name, name);
}

TEST(ParseMarkerLine, RejectsEveryKindOfMalformedLine) {
  const std::vector<std::string> bad = {
      "",                                  // empty
      "begin",                             // no time, no name
      "begin 12",                          // no name
      "begin 12 ",                         // empty name
      "begin  12 x",                       // two spaces
      "begin 12  x",                       // two spaces before the name
      " begin 12 x",                       // leading space
      "begin -12 x",                       // signed time
      "begin +12 x",                       // signed time
      "begin 0x1f x",                      // not decimal
      "begin 12.5 x",                      // not an integer
      "begin 9223372036854775808 x",       // past int64
      "begin 99999999999999999999 x",      // far past int64
      "start 12 x",                        // unknown verb
      "Begin 12 x",                        // verbs are lower case
      "end x 12",                          // fields swapped
      "begin 12 two words",                // a space in the name
      "begin 12 x\r",                      // CR is not allowed in a name
      "begin 12 \xc3\xa9poque",            // non-ASCII name
      "begin 12 " + std::string(65, 'n'),  // name too long
      "begin 12 a;b",                      // ';' not allowed
  };
  for (const std::string& line : bad) {
    EXPECT_FALSE(parse_marker_line(line, "o").has_value()) << "accepted: '" << line << "'";
  }
}

// ---- the server -----------------------------------------------------------------------------------------

/// A raw client: one connection, writes as given.
class RawClient {
 public:
  explicit RawClient(const std::filesystem::path& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket");
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast)
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
      ::close(fd_);
      throw std::runtime_error("connect " + path.string() + ": " + std::strerror(errno));
    }
  }
  ~RawClient() { close(); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;
  void write(const std::string& bytes) const {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw std::runtime_error(std::string("send: ") + std::strerror(errno));
      done += static_cast<std::size_t>(n);
    }
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

std::string own_origin() { return "control socket (pid " + std::to_string(::getpid()) + ")"; }

/// The queue's marks once what `drain` already holds plus what arrives reaches `count` (or 20 s pass).
std::vector<PhaseMark> wait_for_marks(MarkQueue& queue, std::size_t count) {
  std::vector<PhaseMark> out;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
    for (PhaseMark& mark : queue.drain()) out.push_back(std::move(mark));
    if (out.size() < count) std::this_thread::sleep_for(1ms);
  }
  return out;
}

TEST(ControlSocketServer, OneClientTwoMarks) {
  testing::TestDir dir;
  MarkQueue queue;
  ControlSocketServer server(queue, dir.path());
  server.start();
  {
    RawClient client(server.path());
    client.write("begin 1000 epoch\nend 2500 epoch\n");
  }
  server.stop(5s);  // reads what the client sent before returning
  const std::vector<PhaseMark> marks = queue.drain();
  ASSERT_EQ(marks.size(), 2U);
  EXPECT_EQ(marks[0].kind, PhaseMark::Kind::Begin);
  EXPECT_EQ(marks[0].name, "epoch");
  EXPECT_EQ(ns_of(marks[0].at), 1000);
  EXPECT_EQ(marks[0].origin, own_origin());
  EXPECT_EQ(marks[1].kind, PhaseMark::Kind::End);
  EXPECT_EQ(ns_of(marks[1].at), 2500);
  EXPECT_EQ(server.malformed_lines(), 0U);
}

TEST(ControlSocketServer, LineSplitAcrossWrites) {
  MarkQueue queue;
  ControlSocketServer server(queue);
  server.start();
  RawClient client(server.path());
  client.write("begin 1 first\nbeg");
  // The server has read the first line, so "beg" was read too: the rest comes in later reads.
  ASSERT_EQ(wait_for_marks(queue, 1).size(), 1U);
  client.write("in 2 sec");
  client.write("ond\nend 3 sec");
  client.write("ond\n");
  client.close();
  server.stop(5s);
  const std::vector<PhaseMark> marks = queue.drain();
  ASSERT_EQ(marks.size(), 2U);
  EXPECT_EQ(marks[0].name, "second");
  EXPECT_EQ(ns_of(marks[0].at), 2);
  EXPECT_EQ(marks[1].kind, PhaseMark::Kind::End);
  EXPECT_EQ(ns_of(marks[1].at), 3);
  EXPECT_EQ(server.malformed_lines(), 0U);
}

TEST(ControlSocketServer, SixteenConcurrentClients) {
  MarkQueue queue;
  ControlSocketServer server(queue);
  server.start();
  constexpr int kClients = 16;
  constexpr int kLinesEach = 500;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      try {
        RawClient client(server.path());
        for (int i = 0; i < kLinesEach; ++i) {
          client.write("begin " + std::to_string(i) + " client" + std::to_string(c) + "\n");
        }
      } catch (...) {
        failures.fetch_add(1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  server.stop(5s);
  ASSERT_EQ(failures.load(), 0);
  std::map<std::string, std::vector<std::int64_t>> by_client;
  for (const PhaseMark& mark : queue.drain()) by_client[mark.name].push_back(ns_of(mark.at));
  ASSERT_EQ(by_client.size(), static_cast<std::size_t>(kClients));
  for (const auto& [name, times] : by_client) {
    ASSERT_EQ(times.size(), static_cast<std::size_t>(kLinesEach)) << name;
    for (int i = 0; i < kLinesEach; ++i)
      EXPECT_EQ(times[static_cast<std::size_t>(i)], i) << name;  // in order
  }
  EXPECT_EQ(server.malformed_lines(), 0U);
}

TEST(ControlSocketServer, StormThroughTheCLibrary) {
  MarkQueue queue;
  ControlSocketServer server(queue);
  server.start();
  ASSERT_EQ(::setenv(kControlSocketVariable, server.path().c_str(), 1), 0);
  constexpr int kThreads = 8;
  constexpr int kMarksEach = 6250;  // 50,000 in all
  struct Call {
    std::int64_t before_ns = 0;
    std::int64_t after_ns = 0;
  };
  std::vector<std::vector<Call>> calls(kThreads, std::vector<Call>(kMarksEach));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  const auto started = std::chrono::steady_clock::now();
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string name = "t" + std::to_string(t);
      for (int i = 0; i < kMarksEach; ++i) {
        Call& call = calls[static_cast<std::size_t>(t)][static_cast<std::size_t>(i)];
        call.before_ns = monotonic_now_ns();
        const int rc = (i % 2 == 0) ? wattprint_phase_begin(name.c_str()) : wattprint_phase_end(name.c_str());
        call.after_ns = monotonic_now_ns();
        if (rc != 0) failures.fetch_add(1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const double sent_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  server.stop(10s);
  ::unsetenv(kControlSocketVariable);
  EXPECT_EQ(failures.load(), 0);

  std::vector<std::size_t> next(kThreads, 0);
  std::size_t total = 0;
  for (const PhaseMark& mark : queue.drain()) {
    ++total;
    ASSERT_EQ(mark.name.size(), 2U);
    const int t = mark.name[1] - '0';
    ASSERT_TRUE(mark.name[0] == 't' && t >= 0 && t < kThreads) << mark.name;
    // One thread's marks arrive in the order it made them, each with the time of its call.
    const std::size_t i = next[static_cast<std::size_t>(t)]++;
    ASSERT_LT(i, static_cast<std::size_t>(kMarksEach));
    const Call& call = calls[static_cast<std::size_t>(t)][i];
    EXPECT_EQ(mark.kind, i % 2 == 0 ? PhaseMark::Kind::Begin : PhaseMark::Kind::End);
    EXPECT_GE(ns_of(mark.at), call.before_ns);
    EXPECT_LE(ns_of(mark.at), call.after_ns);
    EXPECT_EQ(mark.origin, own_origin());
  }
  EXPECT_EQ(total, static_cast<std::size_t>(kThreads * kMarksEach));
  EXPECT_EQ(server.malformed_lines(), 0U);
  EXPECT_EQ(queue.dropped(), 0U);
  const double rate = static_cast<double>(total) / sent_s;
  std::printf("[ storm    ] %zu marks from %d threads in %.3f s: %.0f marks/s\n", total, kThreads, sent_s,
              rate);
  ::testing::Test::RecordProperty("marks_per_second", static_cast<int>(rate));
}

TEST(ControlSocketServer, OverLongLineIsSkippedToItsEnd) {
  MarkQueue queue;
  ControlSocketServer server(queue);
  server.start();
  {
    RawClient client(server.path());
    // 40,000 bytes: spans several reads of the server; counted once.
    client.write("begin 1 " + std::string(40'000, 'x') + "\nbegin 2 after\n");
    // A line of exactly kMaxMarkerLineBytes plus one: over the limit as well.
    client.write(std::string(kMaxMarkerLineBytes, 'y') + "\nend 3 after\n");
  }
  server.stop(5s);
  const std::vector<PhaseMark> marks = queue.drain();
  ASSERT_EQ(marks.size(), 2U);
  EXPECT_EQ(marks[0].name, "after");
  EXPECT_EQ(ns_of(marks[0].at), 2);
  EXPECT_EQ(ns_of(marks[1].at), 3);
  EXPECT_EQ(server.malformed_lines(), 2U);
}

TEST(ControlSocketServer, BadNamesAreCountedAndSkipped) {
  MarkQueue queue;
  ControlSocketServer server(queue);
  server.start();
  {
    RawClient client(server.path());
    client.write("begin 1 two words\nbegin 2 " + std::string(65, 'n') + "\nbegin 3 \nbegin 4 good\n");
  }
  server.stop(5s);
  const std::vector<PhaseMark> marks = queue.drain();
  ASSERT_EQ(marks.size(), 1U);
  EXPECT_EQ(marks[0].name, "good");
  EXPECT_EQ(server.malformed_lines(), 3U);
}

TEST(ControlSocketServer, ClientDisconnectingMidLine) {
  MarkQueue queue;
  ControlSocketServer server(queue);
  server.start();
  {
    RawClient client(server.path());
    client.write("begin 1 whole\nbegin 2 cut");
  }
  {
    RawClient next(server.path());  // the server goes on serving others
    next.write("end 3 whole\n");
  }
  server.stop(5s);
  std::vector<PhaseMark> marks = queue.drain();
  ASSERT_EQ(marks.size(), 2U);
  std::sort(marks.begin(), marks.end(), [](const PhaseMark& a, const PhaseMark& b) { return a.at < b.at; });
  EXPECT_EQ(marks[0].name, "whole");
  EXPECT_EQ(marks[1].kind, PhaseMark::Kind::End);
  EXPECT_EQ(server.malformed_lines(), 1U);
}

TEST(ControlSocketServer, StopReadsConnectionsNotYetAccepted) {
  MarkQueue queue;
  ControlSocketServer server(queue);
  // Clients connect and write before the thread even runs: they wait in the backlog.
  for (int i = 0; i < 20; ++i) {
    RawClient client(server.path());
    client.write("begin " + std::to_string(i) + " early\n");
  }
  server.start();
  server.stop(5s);
  EXPECT_EQ(queue.drain().size(), 20U);
}

TEST(ControlSocketServer, PrivateDirectoryRemovedOnDestruction) {
  testing::TestDir dir;
  MarkQueue queue;
  std::filesystem::path socket_path;
  {
    ControlSocketServer server(queue, dir.path());
    socket_path = server.path();
    EXPECT_EQ(socket_path.parent_path().parent_path(), dir.path());
    struct stat dir_stat {};
    ASSERT_EQ(::stat(socket_path.parent_path().c_str(), &dir_stat), 0);
    EXPECT_TRUE(S_ISDIR(dir_stat.st_mode));
    EXPECT_EQ(dir_stat.st_mode & 07777, 0700U);
    struct stat socket_stat {};
    ASSERT_EQ(::stat(socket_path.c_str(), &socket_stat), 0);
    EXPECT_TRUE(S_ISSOCK(socket_stat.st_mode));
    server.start();
  }
  EXPECT_FALSE(std::filesystem::exists(socket_path));
  EXPECT_FALSE(std::filesystem::exists(socket_path.parent_path()));
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(ControlSocketServer, ParentTooLongForASocketPathFallsBackToTmp) {
  testing::TestDir dir;
  const std::filesystem::path deep = dir.path() / std::string(120, 'd');
  std::filesystem::create_directories(deep);
  MarkQueue queue;
  ControlSocketServer server(queue, deep);
  EXPECT_LT(server.path().string().size(), sizeof(sockaddr_un::sun_path));
  EXPECT_EQ(server.path().parent_path().parent_path(), std::filesystem::path("/tmp"));
  server.start();
  {
    RawClient client(server.path());
    client.write("begin 5 ok\n");
  }
  server.stop(5s);
  EXPECT_EQ(queue.drain().size(), 1U);
}

TEST(ControlSocketServer, StopIsPromptWhenNothingIsPending) {
  MarkQueue queue;
  ControlSocketServer server(queue);
  server.start();
  RawClient idle(server.path());  // connected, sends nothing (a program's persistent C-library connection)
  idle.write("begin 1 a\n");
  const auto before = std::chrono::steady_clock::now();
  server.stop(30s);  // the grace bounds the drain; it is not a wait
  EXPECT_LT(std::chrono::steady_clock::now() - before, 10s);
  EXPECT_EQ(queue.drain().size(), 1U);
}

TEST(ControlSocketServer, StopWithoutStartAndTwice) {
  MarkQueue queue;
  ControlSocketServer server(queue);
  server.stop();
  server.start();
  server.stop();
  server.stop();
  EXPECT_EQ(server.malformed_lines(), 0U);
}

}  // namespace
}  // namespace wattprint
