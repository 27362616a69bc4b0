// The output relay: a pipe or a pseudo-terminal between the command and each of wattprint's stdout and
// stderr, and one thread that passes the bytes on as soon as read and matches complete lines against the
// mark patterns.
#include "phases/output_relay.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "core/error.hpp"

namespace wattprint {

namespace {

constexpr std::size_t kReadChunkBytes = std::size_t{64} * 1024;
constexpr std::size_t kMaxLineBytes = std::size_t{64} * 1024;
// libstdc++'s std::regex matches by recursion, about one frame chain per character for patterns such as
// '.*' or '(a|b)*': a 64 KiB line needs tens of MiB of stack (hundreds under AddressSanitizer). The relay
// thread gets a large stack (address space only; pages are used as touched), smaller ones as fallbacks.
constexpr std::array<std::size_t, 3> kThreadStackBytes{std::size_t{512} << 20U, std::size_t{64} << 20U, 0};

std::string system_error_text(int error) { return std::strerror(error); }

/// Whether '(' and ')' pair up, outside of '[...]' and escapes.
bool parentheses_balanced(std::string_view text) {
  int depth = 0;
  bool in_brackets = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\') {
      ++i;
    } else if (in_brackets) {
      in_brackets = c != ']';
    } else if (c == '[') {
      in_brackets = true;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')' && --depth < 0) {
      return false;
    }
  }
  return depth == 0;
}

/// libstdc++'s codes, in words; its own messages are terse and sometimes wrong ("*x" is "mismatched '('").
std::string regex_error_reason(std::regex_constants::error_type code, std::string_view regex) {
  namespace rc = std::regex_constants;
  if (code == rc::error_paren) {
    return parentheses_balanced(regex) ? "'*', '+' or '?' with nothing before it to repeat, or a '(?' group "
                                         "ECMAScript does not have (it has (?:...), (?=...) and (?!...))"
                                       : "unmatched '(' or ')'";
  }
  if (code == rc::error_collate || code == rc::error_ctype) return "invalid character class name in '[...]'";
  if (code == rc::error_escape) return "invalid escape sequence or trailing backslash";
  if (code == rc::error_backref) return "back reference to a group that does not exist";
  if (code == rc::error_brack) return "unmatched '[' or ']'";
  if (code == rc::error_brace) return "unmatched '{' or '}'";
  if (code == rc::error_badbrace) return "invalid repeat count in '{}' (such as '{2,1}', or '{' not closed)";
  if (code == rc::error_range) return "invalid character range such as '[z-a]'";
  if (code == rc::error_space) return "not enough memory to compile it";
  if (code == rc::error_badrepeat) return "'*', '+', '?' or '{' with nothing before it to repeat";
  if (code == rc::error_complexity) return "too complex to match";
  if (code == rc::error_stack) return "too deeply nested";
  return "not a valid regular expression";
}

char lower_ascii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\n' || c == '\r'; }

bool is_edge_punctuation(char c) { return c == '.' || c == ':' || c == '/' || c == '-'; }

/// The phase name of a match without NAME=: its first word, lower-cased, with the characters a name may
/// not hold left out and punctuation at its edges trimmed ("Epoch: 3" → "epoch", "[Train]" → "train").
std::string name_from_match(std::string_view text) {
  std::size_t begin = 0;
  while (begin < text.size() && is_space(text[begin])) ++begin;
  std::size_t end = begin;
  while (end < text.size() && !is_space(text[end])) ++end;
  std::string name;
  for (std::size_t i = begin; i < end && name.size() < 64; ++i) {
    const char c = lower_ascii(text[i]);
    if (valid_phase_name(std::string_view(&c, 1))) name.push_back(c);
  }
  while (!name.empty() && is_edge_punctuation(name.back())) name.pop_back();
  const auto first = std::find_if_not(name.begin(), name.end(), is_edge_punctuation);
  name.erase(name.begin(), first);
  return valid_phase_name(name) ? name : std::string("phase");
}

std::optional<std::int64_t> parse_index(std::string_view text) {
  std::int64_t value = 0;
  const char* const end = text.data() + text.size();
  const auto [ptr, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return value;
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

void set_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

}  // namespace

MarkPattern parse_mark_pattern(const std::string& option, const std::string& value, PhaseMark::Kind kind) {
  const auto fail = [&](const std::string& reason) {
    throw UsageError(option + " '" + value + "': " + reason);
  };
  MarkPattern pattern;
  pattern.text = value;
  pattern.kind = kind;
  std::string regex_text = value;
  const std::size_t equals = value.find('=');
  if (equals != std::string::npos && valid_phase_name(std::string_view(value).substr(0, equals))) {
    pattern.name = value.substr(0, equals);
    regex_text = value.substr(equals + 1);
  }
  if (regex_text.empty()) {
    fail("the regular expression is empty; give [NAME=]REGEX, e.g. 'Epoch (\\d+)' or 'train=^Epoch (\\d+)'");
  }
  try {
    pattern.regex = std::regex(regex_text, std::regex::ECMAScript | std::regex::optimize);
  } catch (const std::regex_error& error) {
    fail("invalid regular expression: " + regex_error_reason(error.code(), regex_text) +
         " (ECMAScript syntax, e.g. 'Epoch (\\d+)')");
  }
  return pattern;
}

struct OutputRelay::State {
  struct Stream {
    int real_fd = -1;    ///< wattprint's stdout or stderr
    int parent_fd = -1;  ///< the pipe's read end or the terminal's master side
    int child_fd = -1;   ///< the pipe's write end or the terminal's slave side: the command's
    bool open = false;   ///< not at end of file yet
    bool write_failed = false;
    std::string line;
    bool line_matched_early = false;  ///< an over-long line whose first kMaxLineBytes were matched already
    SteadyTime last_read_at{};
  };

  State(std::vector<MarkPattern> patterns_in, MarkQueue& queue_in, const Clock& clock_in, int out_fd,
        int err_fd)
      : patterns(std::move(patterns_in)), queue(queue_in), clock(clock_in) {
    streams[0].real_fd = out_fd;
    streams[1].real_fd = err_fd;
    origins.reserve(patterns.size());
    for (const auto& pattern : patterns) origins.push_back("output regex '" + pattern.text + "'");
  }
  ~State() { close_all(); }
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  std::vector<MarkPattern> patterns;
  std::vector<std::string> origins;
  MarkQueue& queue;
  const Clock& clock;
  std::array<Stream, 2> streams;
  std::array<int, 2> wake{-1, -1};  ///< finish() writes a byte to wake[1] to end the thread's poll()
  pthread_t thread{};
  bool opened = false;
  bool running = false;
  /// wattprint's stdout and stderr are the same file or terminal (`> log 2>&1`, a terminal): the command gets
  /// one pipe or terminal for both, so that its output keeps its order.
  bool one_channel = false;
  std::mutex mutex;
  std::optional<std::chrono::steady_clock::time_point> deadline;  ///< set by finish(); guarded by mutex

  void close_all() {
    for (auto& stream : streams) {
      close_fd(stream.parent_fd);
      close_fd(stream.child_fd);
    }
    close_fd(wake[0]);
    close_fd(wake[1]);
  }

  static void open_pipe(Stream& stream) {
    std::array<int, 2> ends{-1, -1};
    if (::pipe2(ends.data(), O_CLOEXEC) != 0) {
      throw std::runtime_error("cannot create a pipe for the command's output: " + system_error_text(errno));
    }
    stream.parent_fd = ends[0];
    stream.child_fd = ends[1];
  }

  static void open_terminal(Stream& stream) {
    const auto fail = [](const char* step) {
      throw std::runtime_error(std::string("cannot create a pseudo-terminal for the command's output (") +
                               step + "): " + system_error_text(errno) + "; is /dev/pts mounted?");
    };
    stream.parent_fd = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (stream.parent_fd < 0) fail("posix_openpt");
    if (::grantpt(stream.parent_fd) != 0) fail("grantpt");
    if (::unlockpt(stream.parent_fd) != 0) fail("unlockpt");
    std::array<char, 256> name{};
    if (::ptsname_r(stream.parent_fd, name.data(), name.size()) != 0) fail("ptsname_r");
    stream.child_fd = ::open(name.data(), O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (stream.child_fd < 0) fail("open");
    // Raw: the bytes reach wattprint's terminal as written ('\n' stays '\n'; that terminal adds its '\r').
    struct termios mode {};
    if (::tcgetattr(stream.child_fd, &mode) != 0) fail("tcgetattr");
    ::cfmakeraw(&mode);
    if (::tcsetattr(stream.child_fd, TCSANOW, &mode) != 0) fail("tcsetattr");
    struct winsize size {};
    if (::ioctl(stream.real_fd, TIOCGWINSZ, &size) == 0) ::ioctl(stream.child_fd, TIOCSWINSZ, &size);
  }

  /// Writes all of `data` to wattprint's fd; after a write error (closed pipe, full disk) it only discards.
  static void forward(Stream& stream, const char* data, std::size_t size) {
    while (size > 0 && !stream.write_failed) {
      const ssize_t written = ::write(stream.real_fd, data, size);
      if (written > 0) {
        data += written;
        size -= static_cast<std::size_t>(written);
      } else if (written < 0 && errno == EINTR) {
        continue;
      } else if (written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        struct pollfd writable {
          stream.real_fd, POLLOUT, 0
        };
        ::poll(&writable, 1, -1);
      } else {
        stream.write_failed = true;  // EPIPE (SIGPIPE is blocked in this thread), EBADF, EIO, ENOSPC
      }
    }
  }

  void match(const std::string& line, SteadyTime at) {
    for (std::size_t i = 0; i < patterns.size(); ++i) {
      std::smatch found;
      try {
        if (!std::regex_search(line, found, patterns[i].regex)) continue;
      } catch (const std::regex_error&) {
        continue;  // error_complexity / error_stack on this line: no mark from it
      }
      PhaseMark mark;
      mark.kind = patterns[i].kind;
      mark.name = patterns[i].name.empty() ? name_from_match(found.str(0)) : patterns[i].name;
      mark.at = at;
      mark.origin = origins[i];
      if (found.size() > 1 && found[1].matched) mark.index = parse_index(found.str(1));
      queue.push(std::move(mark));
    }
  }

  void append(Stream& stream, const char* data, std::size_t size, SteadyTime at) {
    if (size == 0 || stream.line_matched_early) return;
    const std::size_t room = kMaxLineBytes - stream.line.size();
    stream.line.append(data, std::min(size, room));
    if (size > room) {  // over-long: its first kMaxLineBytes are matched now, the rest up to the end skipped
      match(stream.line, at);
      stream.line.clear();
      stream.line_matched_early = true;
    }
  }

  void end_line(Stream& stream, SteadyTime at) {
    // Empty lines (between the '\r' and '\n' of "\r\n", blank lines) are not matched.
    if (!stream.line_matched_early && !stream.line.empty()) match(stream.line, at);
    stream.line.clear();
    stream.line_matched_early = false;
  }

  void scan(Stream& stream, const char* data, std::size_t size, SteadyTime at) {
    const char* const end = data + size;
    const char* start = data;
    while (start < end) {
      const char* const stop = std::find_if(start, end, [](char c) { return c == '\n' || c == '\r'; });
      append(stream, start, static_cast<std::size_t>(stop - start), at);
      if (stop == end) break;
      end_line(stream, at);
      start = stop + 1;
    }
  }

  void read_once(Stream& stream, std::vector<char>& buffer) {
    const ssize_t size = ::read(stream.parent_fd, buffer.data(), buffer.size());
    if (size > 0) {
      const SteadyTime at = clock.steady_now();
      stream.last_read_at = at;
      forward(stream, buffer.data(), static_cast<std::size_t>(size));
      scan(stream, buffer.data(), static_cast<std::size_t>(size), at);
    } else if (size == 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) {
      // 0: end of file; EIO: every slave side of the terminal is closed (its end of file)
      stream.open = false;
    }
  }

  void relay() {
    std::vector<char> buffer(kReadChunkBytes);
    while (streams[0].open || streams[1].open) {
      int timeout_ms = -1;
      {
        const std::lock_guard lock(mutex);
        if (deadline) {
          const auto left = *deadline - std::chrono::steady_clock::now();
          if (left <= std::chrono::steady_clock::duration::zero()) break;
          timeout_ms = static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(left).count());
        }
      }
      std::array<struct pollfd, 3> fds{};
      for (std::size_t i = 0; i < streams.size(); ++i) {
        fds[i] = {streams[i].open ? streams[i].parent_fd : -1, POLLIN, 0};
      }
      fds[2] = {wake[0], POLLIN, 0};
      if (::poll(fds.data(), fds.size(), timeout_ms) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (fds[2].revents != 0) {
        std::array<char, 16> ignored{};
        while (::read(wake[0], ignored.data(), ignored.size()) > 0) {
        }
      }
      for (std::size_t i = 0; i < streams.size(); ++i) {
        if (streams[i].open && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0)
          read_once(streams[i], buffer);
      }
    }
    for (auto& stream : streams) end_line(stream, stream.last_read_at);  // a last line without its '\n'
  }

  static void* thread_main(void* self) {
    auto* state = static_cast<State*>(self);
    try {
      state->relay();
    } catch (...) {
      // Out of memory: stop; finish() closes the read ends, so the command gets EPIPE rather than block.
    }
    return nullptr;
  }
};

OutputRelay::OutputRelay(std::vector<MarkPattern> patterns, MarkQueue& queue, const Clock& clock, int out_fd,
                         int err_fd)
    : state_(std::make_unique<State>(std::move(patterns), queue, clock, out_fd, err_fd)) {}

OutputRelay::~OutputRelay() {
  try {
    finish(std::chrono::milliseconds(0));
  } catch (...) {
    // finish() does not throw; nothing may escape a destructor anyway
  }
}

RelayChildEnds OutputRelay::open() {
  State& state = *state_;
  if (state.opened) throw std::logic_error("OutputRelay::open called twice");
  state.opened = true;
  try {
    struct stat out {};
    struct stat err {};
    state.one_channel = ::fstat(state.streams[0].real_fd, &out) == 0 &&
                        ::fstat(state.streams[1].real_fd, &err) == 0 && out.st_dev == err.st_dev &&
                        out.st_ino == err.st_ino && out.st_rdev == err.st_rdev;
    for (std::size_t i = 0; i < (state.one_channel ? 1U : state.streams.size()); ++i) {
      auto& stream = state.streams[i];
      if (::isatty(stream.real_fd) == 1) {
        State::open_terminal(stream);
      } else {
        State::open_pipe(stream);
      }
      set_nonblocking(stream.parent_fd);
    }
    if (::pipe2(state.wake.data(), O_CLOEXEC | O_NONBLOCK) != 0) {
      throw std::runtime_error("cannot create the output relay's wake-up pipe: " + system_error_text(errno));
    }
  } catch (...) {
    state.close_all();
    throw;
  }
  if (state.one_channel) return {state.streams[0].child_fd, state.streams[0].child_fd};
  return {state.streams[0].child_fd, state.streams[1].child_fd};
}

void OutputRelay::start() {
  State& state = *state_;
  if (!state.opened || state.running || state.wake[0] < 0) {
    throw std::logic_error("OutputRelay::start needs open() first and runs once");
  }
  for (auto& stream : state.streams) {
    close_fd(stream.child_fd);  // the command holds its own copies now: its exit ends the streams
    stream.open = stream.parent_fd >= 0;
  }
  // The thread starts with every signal blocked: signals go to the main thread, and a SIGPIPE from a
  // write to a closed pipe stays pending in this thread while write() returns EPIPE.
  sigset_t all{};
  sigset_t previous{};
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  int error = 0;
  for (const std::size_t stack_bytes : kThreadStackBytes) {
    pthread_attr_t attributes{};
    pthread_attr_init(&attributes);
    if (stack_bytes != 0) pthread_attr_setstacksize(&attributes, stack_bytes);
    error = pthread_create(&state.thread, &attributes, &State::thread_main, &state);
    pthread_attr_destroy(&attributes);
    if (error == 0) break;
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (error != 0) {
    state.close_all();
    throw std::runtime_error("cannot start the output relay thread: " + system_error_text(error));
  }
  state.running = true;
}

void OutputRelay::finish(std::chrono::milliseconds grace) {
  State& state = *state_;
  if (state.running) {
    {
      const std::lock_guard lock(state.mutex);
      state.deadline = std::chrono::steady_clock::now() + grace;
    }
    const char byte = 1;
    ssize_t ignored = ::write(state.wake[1], &byte, 1);
    (void)ignored;
    pthread_join(state.thread, nullptr);
    state.running = false;
  }
  state.close_all();
}

}  // namespace wattprint
