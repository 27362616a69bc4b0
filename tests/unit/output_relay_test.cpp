// The output relay with real children: bytes through pipes and pseudo-terminals unchanged and unbuffered,
// marks from the lines of the command's output, and a relay that never blocks the command.
#include "phases/output_relay.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "platform/child_process.hpp"
#include "test_dir.hpp"

namespace wattprint {
namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;
using testing::TestDir;

// Generous: children start slowly under AddressSanitizer and on a loaded machine.
constexpr auto kPatience = 60s;

class Pipe {
 public:
  Pipe() {
    std::array<int, 2> ends{};
    if (::pipe2(ends.data(), O_CLOEXEC) != 0) std::abort();
    read_fd = ends[0];
    write_fd = ends[1];
  }
  ~Pipe() {
    close_read();
    close_write();
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  void close_read() {
    if (read_fd >= 0) ::close(read_fd);
    read_fd = -1;
  }
  void close_write() {
    if (write_fd >= 0) ::close(write_fd);
    write_fd = -1;
  }
  int read_fd = -1;
  int write_fd = -1;
};

/// Reads `fd` in a thread until end of file (0, or EIO for the master side of a terminal).
class Reader {
 public:
  explicit Reader(int fd)
      : thread_([this, fd] {
          std::array<char, 65536> buffer{};
          while (true) {
            const ssize_t n = ::read(fd, buffer.data(), buffer.size());
            if (n > 0) {
              data_.append(buffer.data(), static_cast<std::size_t>(n));
            } else if (n < 0 && errno == EINTR) {
              continue;
            } else {
              break;
            }
          }
        }) {}
  ~Reader() {
    if (thread_.joinable()) thread_.join();
  }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;
  std::string join() {
    thread_.join();
    return data_;
  }

 private:
  std::string data_;
  std::thread thread_;
};

/// Reads from `fd` into `got` until it holds `expected`; false after kPatience.
bool read_until(int fd, std::string& got, const std::string& expected) {
  const auto deadline = std::chrono::steady_clock::now() + kPatience;
  while (got.find(expected) == std::string::npos) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    struct pollfd readable {
      fd, POLLIN, 0
    };
    if (::poll(&readable, 1, static_cast<int>(left.count())) <= 0) continue;
    std::array<char, 4096> buffer{};
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n <= 0) return false;
    got.append(buffer.data(), static_cast<std::size_t>(n));
  }
  return true;
}

pid_t spawn_script(const std::string& script, const RelayChildEnds& ends) {
  const SpawnResult spawned = spawn_command({"/bin/sh", "-c", script}, {ends.stdout_fd, ends.stderr_fd, {}});
  EXPECT_GT(spawned.pid, 0);
  EXPECT_EQ(spawned.exec_error, 0);
  return spawned.pid;
}

/// The exit status; kills the child and returns -1 when it does not end within kPatience.
int wait_exit(pid_t pid) {
  const auto deadline = std::chrono::steady_clock::now() + kPatience;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (done < 0) return -2;
    std::this_thread::sleep_for(5ms);  // polling a child's end, not synchronising with it
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return -1;
}

std::vector<MarkPattern> begin_patterns(const std::vector<std::string>& values) {
  std::vector<MarkPattern> patterns;
  for (const auto& value : values)
    patterns.push_back(parse_mark_pattern("--mark-regex", value, PhaseMark::Kind::Begin));
  return patterns;
}

struct Relayed {
  std::string out;
  std::string err;
  std::vector<PhaseMark> marks;
  int exit_status = -1;
};

/// Runs `sh -c script` through a relay onto pipes that the test reads.
Relayed run_relayed(const std::string& script, std::vector<MarkPattern> patterns) {
  Pipe out;
  Pipe err;
  MarkQueue queue;
  const SystemClock clock;
  OutputRelay relay(std::move(patterns), queue, clock, out.write_fd, err.write_fd);
  const RelayChildEnds ends = relay.open();
  Reader out_reader(out.read_fd);
  Reader err_reader(err.read_fd);
  const pid_t pid = spawn_script(script, ends);
  relay.start();
  Relayed result;
  result.exit_status = wait_exit(pid);
  relay.finish(std::chrono::milliseconds(5000));
  out.close_write();
  err.close_write();
  result.out = out_reader.join();
  result.err = err_reader.join();
  result.marks = queue.drain();
  return result;
}

std::string quoted(const std::string& path) { return "'" + path + "'"; }

TEST(ParseMarkPattern, NamePrefixOnlyWhenItIsAValidName) {
  const MarkPattern named = parse_mark_pattern("--mark-regex", "train=^Epoch (\\d+)", PhaseMark::Kind::Begin);
  EXPECT_EQ(named.name, "train");
  EXPECT_EQ(named.text, "train=^Epoch (\\d+)");
  EXPECT_EQ(named.kind, PhaseMark::Kind::Begin);
  EXPECT_TRUE(std::regex_search("Epoch 3", named.regex));
  EXPECT_FALSE(std::regex_search("train=Epoch 3", named.regex));

  const MarkPattern unnamed =
      parse_mark_pattern("--mark-end-regex", "Epoch (\\d+) done", PhaseMark::Kind::End);
  EXPECT_EQ(unnamed.name, "");
  EXPECT_EQ(unnamed.kind, PhaseMark::Kind::End);

  // Text before '=' that is no phase name (a space, an empty name): the whole value is the regex.
  const MarkPattern with_space = parse_mark_pattern("--mark-regex", "lr is=(\\d+)", PhaseMark::Kind::Begin);
  EXPECT_EQ(with_space.name, "");
  EXPECT_TRUE(std::regex_search("lr is=5", with_space.regex));
  const MarkPattern leading_equals = parse_mark_pattern("--mark-regex", "=+ Epoch", PhaseMark::Kind::Begin);
  EXPECT_EQ(leading_equals.name, "");
  EXPECT_TRUE(std::regex_search("=== Epoch", leading_equals.regex));
}

std::string usage_error_of(const std::string& option, const std::string& value) {
  try {
    parse_mark_pattern(option, value, PhaseMark::Kind::Begin);
  } catch (const UsageError& error) {
    return error.what();
  }
  return "(no error)";
}

TEST(ParseMarkPattern, BadPatternsSayWhy) {
  EXPECT_EQ(
      usage_error_of("--mark-regex", "Epoch (\\d+"),
      "--mark-regex 'Epoch (\\d+': invalid regular expression: unmatched '(' or ')' (ECMAScript syntax, "
      "e.g. 'Epoch (\\d+)')");
  EXPECT_NE(usage_error_of("--mark-regex", "step [0-9").find("unmatched '[' or ']'"), std::string::npos);
  EXPECT_NE(usage_error_of("--mark-regex", "*epoch").find("nothing before it to repeat"), std::string::npos);
  EXPECT_NE(usage_error_of("--mark-regex", "(a))").find("unmatched '(' or ')'"), std::string::npos);
  EXPECT_NE(usage_error_of("--mark-regex", "[z-a]").find("invalid character range"), std::string::npos);
  EXPECT_NE(usage_error_of("--mark-regex", "x\\").find("trailing backslash"), std::string::npos);
  EXPECT_NE(usage_error_of("--mark-end-regex", "x{2,1}").find("--mark-end-regex 'x{2,1}': invalid regular"),
            std::string::npos);
  EXPECT_NE(
      usage_error_of("--mark-regex", "train=").find("--mark-regex 'train=': the regular expression is empty"),
      std::string::npos);
  EXPECT_NE(usage_error_of("--mark-regex", "").find("is empty"), std::string::npos);
}

TEST(OutputRelay, PassesBytesUnchanged) {
  const TestDir dir;
  std::string content = "Epoch 1\na\0b\r\nc\rd\n\n"s;
  std::mt19937 random(42);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int i = 0; i < (1 << 20); ++i) content.push_back(static_cast<char>(byte(random)));
  content += "\nEpoch 2 has no newline";
  const std::string path = (dir.path() / "content").string();
  std::ofstream(path, std::ios::binary) << content;

  const Relayed relayed = run_relayed("cat " + quoted(path), begin_patterns({"Epoch (\\d+)"}));
  EXPECT_EQ(relayed.exit_status, 0);
  EXPECT_EQ(relayed.out.size(), content.size());
  EXPECT_TRUE(relayed.out == content);
  EXPECT_EQ(relayed.err, "");
  ASSERT_EQ(relayed.marks.size(), 2U);
  EXPECT_EQ(relayed.marks[0].index, 1);
  EXPECT_EQ(relayed.marks[1].index, 2);  // the last line, without its '\n', is matched at the end
}

TEST(OutputRelay, StdoutAndStderrStaySeparate) {
  const Relayed relayed = run_relayed("echo out1; echo 'Epoch 1' >&2; echo out2; echo err2 >&2; exit 3",
                                      begin_patterns({"Epoch (\\d+)"}));
  EXPECT_EQ(relayed.exit_status, 3);
  EXPECT_EQ(relayed.out, "out1\nout2\n");
  EXPECT_EQ(relayed.err, "Epoch 1\nerr2\n");
  ASSERT_EQ(relayed.marks.size(), 1U);  // stderr lines are matched too
  EXPECT_EQ(relayed.marks[0].name, "epoch");
}

TEST(OutputRelay, OneFileForStdoutAndStderrKeepsTheirOrder) {
  // `wattprint run ... > log 2>&1`: wattprint's stdout and stderr are one file; so must the command's be,
  // or its lines would come out grouped by stream.
  Pipe both;
  MarkQueue queue;
  const SystemClock clock;
  OutputRelay relay(begin_patterns({"Epoch (\\d+)"}), queue, clock, both.write_fd, both.write_fd);
  const RelayChildEnds ends = relay.open();
  EXPECT_EQ(ends.stdout_fd, ends.stderr_fd);
  Reader reader(both.read_fd);
  const pid_t pid = spawn_script("for i in 1 2 3; do echo out$i; echo \"Epoch $i\" >&2; done", ends);
  relay.start();
  EXPECT_EQ(wait_exit(pid), 0);
  relay.finish(std::chrono::milliseconds(5000));
  both.close_write();
  EXPECT_EQ(reader.join(), "out1\nEpoch 1\nout2\nEpoch 2\nout3\nEpoch 3\n");
  EXPECT_EQ(queue.drain().size(), 3U);
}

TEST(OutputRelay, UnbufferedAndMarkTimeIsWhenTheLineWasRead) {
  const TestDir dir;
  const std::string fifo = (dir.path() / "go").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  Pipe out;
  Pipe err;
  MarkQueue queue;
  const SystemClock clock;
  OutputRelay relay(begin_patterns({"Epoch (\\d+)"}), queue, clock, out.write_fd, err.write_fd);
  const RelayChildEnds ends = relay.open();
  const pid_t pid = spawn_script("echo ready; read x < " + quoted(fifo) + "; echo 'Epoch 7'", ends);
  relay.start();

  // The child is blocked on the fifo: "ready" arrives only if the relay passes bytes on at once.
  std::string got;
  const bool ready = read_until(out.read_fd, got, "ready\n");
  EXPECT_TRUE(ready) << "got '" << got << "'";
  EXPECT_TRUE(queue.drain().empty());
  const SteadyTime before_write = clock.steady_now();
  {
    std::ofstream release(fifo);  // opening blocks until the child opens its end
    release << "go\n";
  }
  EXPECT_TRUE(read_until(out.read_fd, got, "Epoch 7\n")) << "got '" << got << "'";
  const SteadyTime after_read = clock.steady_now();
  EXPECT_EQ(wait_exit(pid), 0);
  relay.finish();
  EXPECT_EQ(got, "ready\nEpoch 7\n");
  const std::vector<PhaseMark> marks = queue.drain();
  ASSERT_EQ(marks.size(), 1U);
  EXPECT_GE(marks[0].at, before_write);
  EXPECT_LE(marks[0].at, after_read);
  EXPECT_EQ(marks[0].origin, "output regex 'Epoch (\\d+)'");
}

TEST(OutputRelay, LinesSplitAcrossWritesAndCarriageReturnProgress) {
  const TestDir dir;
  const std::string fifo = (dir.path() / "go").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  Pipe out;
  Pipe err;
  MarkQueue queue;
  const SystemClock clock;
  std::vector<MarkPattern> patterns = begin_patterns({"Epoch (\\d+)", "Step (\\d+)"});
  patterns.push_back(parse_mark_pattern("--mark-end-regex", "run=Done (\\d+)", PhaseMark::Kind::End));
  OutputRelay relay(std::move(patterns), queue, clock, out.write_fd, err.write_fd);
  const RelayChildEnds ends = relay.open();
  const pid_t pid = spawn_script(
      "printf 'Epo'; read x < " + quoted(fifo) + "; printf 'ch 5\\nStep 1\\rStep 2\\rStep 3\\r\\nDone 9'",
      ends);
  relay.start();
  std::string got;
  // "Epo" reached the relay alone: the rest is written only after the release.
  EXPECT_TRUE(read_until(out.read_fd, got, "Epo"));
  EXPECT_TRUE(queue.drain().empty());
  {
    std::ofstream release(fifo);
    release << "go\n";
  }
  EXPECT_TRUE(read_until(out.read_fd, got, "Done 9"));
  EXPECT_EQ(wait_exit(pid), 0);
  relay.finish();
  EXPECT_EQ(got, "Epoch 5\nStep 1\rStep 2\rStep 3\r\nDone 9");
  const std::vector<PhaseMark> marks = queue.drain();
  ASSERT_EQ(marks.size(), 5U);
  EXPECT_EQ(marks[0].name, "epoch");
  EXPECT_EQ(marks[0].index, 5);
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(marks[static_cast<std::size_t>(i)].name, "step");
    EXPECT_EQ(marks[static_cast<std::size_t>(i)].index, i);
    EXPECT_EQ(marks[static_cast<std::size_t>(i)].kind, PhaseMark::Kind::Begin);
  }
  EXPECT_EQ(marks[4].name, "run");
  EXPECT_EQ(marks[4].kind, PhaseMark::Kind::End);
  EXPECT_EQ(marks[4].index, 9);
  EXPECT_EQ(marks[4].origin, "output regex 'run=Done (\\d+)'");
}

TEST(OutputRelay, NamesAndIndexesFromTheMatch) {
  const Relayed relayed = run_relayed(
      "printf 'Training epoch 3 of 10\\nValidation 2/5\\n!!! 4\\nEpoch: 6\\nxy9\\nEPOCH_12 start\\n'",
      begin_patterns({"epoch (\\d+) of", "[A-Z]\\w+ (\\d+)/\\d+", "!!! (\\d+)", "^Epoch: (\\d+)", "(xy\\d)",
                      "^EPOCH_(\\d+)"}));
  ASSERT_EQ(relayed.marks.size(), 6U);
  EXPECT_EQ(relayed.marks[0].name, "epoch");  // the first word of the match, not of the line
  EXPECT_EQ(relayed.marks[0].index, 3);
  EXPECT_EQ(relayed.marks[1].name, "validation");
  EXPECT_EQ(relayed.marks[1].index, 2);
  EXPECT_EQ(relayed.marks[2].name, "phase");  // no valid character in "!!!"
  EXPECT_EQ(relayed.marks[2].index, 4);
  EXPECT_EQ(relayed.marks[3].name, "epoch");  // "Epoch:" without its colon
  EXPECT_EQ(relayed.marks[3].index, 6);
  EXPECT_EQ(relayed.marks[4].name, "xy9");
  EXPECT_FALSE(relayed.marks[4].index.has_value());  // the capture "xy9" is no integer
  EXPECT_EQ(relayed.marks[5].name, "epoch_12");
  EXPECT_EQ(relayed.marks[5].index, 12);
}

TEST(OutputRelay, OverlongLinesAreMatchedOnTheirFirst64KiB) {
  const std::string script =
      "printf 'Epoch 9 '; head -c 100000 /dev/zero | tr '\\0' x; printf '\\n';"
      "head -c 70000 /dev/zero | tr '\\0' y; printf 'Epoch 4\\nEpoch 10\\n'";
  // '^(x|y)+$' recurses once per character in libstdc++'s std::regex: it needs the relay thread's big stack.
  const Relayed relayed = run_relayed(script, begin_patterns({"Epoch (\\d+)", "deep=^(x|y)+$"}));
  const std::string expected =
      "Epoch 9 " + std::string(100000, 'x') + "\n" + std::string(70000, 'y') + "Epoch 4\nEpoch 10\n";
  EXPECT_TRUE(relayed.out == expected);
  ASSERT_EQ(relayed.marks.size(), 3U);
  EXPECT_EQ(relayed.marks[0].index, 9);
  EXPECT_EQ(relayed.marks[1].name, "deep");  // the first 64 KiB of the second line, all 'y'
  EXPECT_EQ(relayed.marks[2].index, 10);     // "Epoch 4" lay beyond 64 KiB: not matched
}

TEST(OutputRelay, TerminalStaysATerminalInRawModeWithItsWindowSize) {
  // The test's own terminal plays wattprint's stdout; its stderr is a pipe.
  const int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(master, 0);
  ASSERT_EQ(::grantpt(master), 0);
  ASSERT_EQ(::unlockpt(master), 0);
  std::array<char, 256> name{};
  ASSERT_EQ(::ptsname_r(master, name.data(), name.size()), 0);
  int slave = ::open(name.data(), O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(slave, 0);
  struct termios mode {};
  ASSERT_EQ(::tcgetattr(slave, &mode), 0);
  ::cfmakeraw(&mode);  // so that the test sees the relayed bytes as they are
  ASSERT_EQ(::tcsetattr(slave, TCSANOW, &mode), 0);
  struct winsize size {};
  size.ws_row = 37;
  size.ws_col = 123;
  ASSERT_EQ(::ioctl(slave, TIOCSWINSZ, &size), 0);

  Pipe err;
  MarkQueue queue;
  const SystemClock clock;
  Reader out_reader(master);
  Reader err_reader(err.read_fd);
  {
    OutputRelay relay(begin_patterns({"^b$"}), queue, clock, slave, err.write_fd);
    const RelayChildEnds ends = relay.open();
    EXPECT_EQ(::isatty(ends.stdout_fd), 1);
    EXPECT_EQ(::isatty(ends.stderr_fd), 0);
    EXPECT_NE(::fcntl(ends.stdout_fd, F_GETFD) & FD_CLOEXEC, 0);
    const pid_t pid = spawn_script(
        "[ -t 1 ] && echo tty1; [ -t 2 ] || echo notty2 >&2; stty size 0<&1; printf 'a\\nb\\r\\n'", ends);
    relay.start();
    EXPECT_EQ(wait_exit(pid), 0);
    relay.finish();
  }
  ::close(slave);  // the master's reader now gets EIO: its end of file
  err.close_write();
  EXPECT_EQ(out_reader.join(), "tty1\n37 123\na\nb\r\n");  // '\n' not turned into "\r\n"
  EXPECT_EQ(err_reader.join(), "notty2\n");
  ::close(master);
  const std::vector<PhaseMark> marks = queue.drain();
  ASSERT_EQ(marks.size(), 1U);
  EXPECT_EQ(marks[0].name, "b");
}

TEST(OutputRelay, ClosedOutputNeverBlocksTheCommand) {
  Pipe out;
  Pipe err;
  out.close_read();  // wattprint's stdout is a pipe nobody reads any more (`wattprint run ... | head -1`)
  MarkQueue queue;
  const SystemClock clock;
  OutputRelay relay(begin_patterns({"Epoch (\\d+)"}), queue, clock, out.write_fd, err.write_fd);
  const RelayChildEnds ends = relay.open();
  Reader err_reader(err.read_fd);
  const pid_t pid = spawn_script("head -c 4194304 /dev/zero; echo; echo 'Epoch 3'; echo done >&2", ends);
  relay.start();
  EXPECT_EQ(wait_exit(pid), 0);  // -1 if it blocked on a full pipe
  relay.finish();
  err.close_write();
  EXPECT_EQ(err_reader.join(), "done\n");  // the other stream still works
  const std::vector<PhaseMark> marks = queue.drain();
  ASSERT_EQ(marks.size(), 1U);  // lines are still matched while discarded
  EXPECT_EQ(marks[0].index, 3);
}

TEST(OutputRelay, FinishReturnsWhenAGrandchildKeepsTheOutputOpen) {
  Pipe out;
  Pipe err;
  MarkQueue queue;
  const SystemClock clock;
  OutputRelay relay(begin_patterns({"Epoch (\\d+)"}), queue, clock, out.write_fd, err.write_fd);
  const RelayChildEnds ends = relay.open();
  const pid_t pid = spawn_script("sleep 120 & echo $!; echo 'Epoch 1'", ends);
  relay.start();
  std::string got;
  EXPECT_TRUE(read_until(out.read_fd, got, "Epoch 1\n"));
  EXPECT_EQ(wait_exit(pid), 0);
  const auto grace = 300ms;
  const auto before = std::chrono::steady_clock::now();
  relay.finish(grace);
  const auto took = std::chrono::steady_clock::now() - before;
  const pid_t grandchild = std::atoi(got.c_str());
  ASSERT_GT(grandchild, 1);
  ::kill(grandchild, SIGKILL);
  EXPECT_GE(took, grace);  // it did wait for more output
  EXPECT_LT(took, grace + 2s);
  EXPECT_EQ(queue.drain().size(), 1U);
}

TEST(OutputRelay, StormOfMatchingLinesLosesNoMark) {
  constexpr int kLines = 100000;
  const auto before = std::chrono::steady_clock::now();
  const Relayed relayed =
      run_relayed("seq -f 'Epoch %.0f' 1 " + std::to_string(kLines), begin_patterns({"^Epoch (\\d+)$"}));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - before).count();
  EXPECT_EQ(relayed.exit_status, 0);
  ASSERT_EQ(relayed.marks.size(), static_cast<std::size_t>(kLines));
  for (std::size_t i = 0; i < relayed.marks.size(); ++i) {
    ASSERT_EQ(relayed.marks[i].index, static_cast<std::int64_t>(i + 1));
    if (i > 0) {
      ASSERT_LE(relayed.marks[i - 1].at, relayed.marks[i].at);
    }
  }
  std::string expected;
  for (int i = 1; i <= kLines; ++i) expected += "Epoch " + std::to_string(i) + "\n";
  EXPECT_TRUE(relayed.out == expected);
  std::cout << "[ relay    ] " << kLines << " matching lines (" << relayed.out.size() << " bytes) in "
            << seconds << " s: " << static_cast<double>(kLines) / seconds << " lines/s, "
            << static_cast<double>(relayed.out.size()) / seconds / 1e6 << " MB/s\n";
  ::testing::Test::RecordProperty("lines_per_s", static_cast<int>(static_cast<double>(kLines) / seconds));
}

TEST(OutputRelay, DestroyedWithoutStartClosesEverything) {
  MarkQueue queue;
  const SystemClock clock;
  RelayChildEnds ends;
  {
    Pipe out;
    Pipe err;
    OutputRelay relay(begin_patterns({"x"}), queue, clock, out.write_fd, err.write_fd);
    ends = relay.open();
    EXPECT_GE(ends.stdout_fd, 0);
    EXPECT_NE(::fcntl(ends.stderr_fd, F_GETFD) & FD_CLOEXEC, 0);
    EXPECT_THROW(relay.open(), std::logic_error);
  }
  EXPECT_EQ(::fcntl(ends.stdout_fd, F_GETFD), -1);
  EXPECT_EQ(::fcntl(ends.stderr_fd, F_GETFD), -1);
}

}  // namespace
}  // namespace wattprint
