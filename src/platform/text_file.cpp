// Small-file reading for sysfs and procfs: whole-file reads and kept-open counter files.
#include "platform/text_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace wattprint {

FileText read_text_file(const std::filesystem::path& path) noexcept {
  FileText result;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    result.error_number = errno;
    return result;
  }
  try {
    std::array<char, 4096> buffer{};
    constexpr std::size_t kMaxBytes = 1U << 20U;
    while (result.text.size() < kMaxBytes) {
      const ssize_t n = ::read(fd, buffer.data(), buffer.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        result.error_number = errno;
        break;
      }
      if (n == 0) break;
      result.text.append(buffer.data(), static_cast<std::size_t>(n));
    }
  } catch (...) {
    result.error_number = ENOMEM;
  }
  ::close(fd);
  return result;
}

std::string_view trim(std::string_view text) noexcept {
  constexpr std::string_view kSpace = " \t\r\n\f\v";
  const auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(kSpace);
  return text.substr(first, last - first + 1);
}

std::optional<std::uint64_t> parse_first_u64(std::string_view text) noexcept {
  std::size_t start = 0;
  while (start < text.size() && (text[start] == ' ' || text[start] == '\t' || text[start] == '\n')) ++start;
  std::uint64_t value = 0;
  const char* begin = text.data() + start;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(begin, end, value, 10);
  if (ec != std::errc{} || ptr == begin) return std::nullopt;
  if (ptr != end && *ptr != '\n' && *ptr != ' ' && *ptr != '\t' && *ptr != '\0') return std::nullopt;
  return value;
}

std::optional<double> parse_double(std::string_view text) noexcept {
  const std::string_view t = trim(text);
  if (t.empty()) return std::nullopt;
  double value = 0.0;
  const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (ec != std::errc{} || ptr != t.data() + t.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

KeptOpenFile::KeptOpenFile(std::filesystem::path path, bool detect_unlink)
    : path_(std::move(path)), detect_unlink_(detect_unlink) {
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  open_error_ = fd_ < 0 ? errno : 0;
}

KeptOpenFile::KeptOpenFile(KeptOpenFile&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(other.fd_),
      open_error_(other.open_error_),
      detect_unlink_(other.detect_unlink_) {
  other.fd_ = -1;
}

KeptOpenFile& KeptOpenFile::operator=(KeptOpenFile&& other) noexcept {
  if (this != &other) {
    close_fd();
    path_ = std::move(other.path_);
    fd_ = other.fd_;
    open_error_ = other.open_error_;
    detect_unlink_ = other.detect_unlink_;
    other.fd_ = -1;
  }
  return *this;
}

KeptOpenFile::~KeptOpenFile() { close_fd(); }

void KeptOpenFile::close_fd() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

int KeptOpenFile::read_prefix(char* buffer, std::size_t capacity, std::size_t& size) noexcept {
  size = 0;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (fd_ < 0) {
      fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd_ < 0) {
        open_error_ = errno;
        return open_error_;
      }
      open_error_ = 0;
    }
    ssize_t n = 0;
    do {
      n = ::pread(fd_, buffer, capacity, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      const int error = errno;
      close_fd();  // a vanished or broken file: reopen once
      if (attempt == 0 && error != EACCES && error != EPERM) continue;
      return error;
    }
    // A regular file unlinked behind an open descriptor keeps its old content: check it still exists.
    struct stat st {};
    if (detect_unlink_ && ::fstat(fd_, &st) == 0 && st.st_nlink == 0) {
      close_fd();
      if (attempt == 0) continue;
      return ENOENT;
    }
    size = static_cast<std::size_t>(n);
    return 0;
  }
  return EIO;
}

int CounterFile::read_u64(std::uint64_t& value) noexcept {
  std::array<char, 32> buffer{};
  std::size_t size = 0;
  if (const int error = file_.read_prefix(buffer.data(), buffer.size(), size); error != 0) return error;
  const auto parsed = parse_first_u64(std::string_view(buffer.data(), size));
  if (!parsed) return EBADMSG;
  value = *parsed;
  return 0;
}

}  // namespace wattprint

namespace wattprint {

void write_file_atomically(const std::filesystem::path& path, std::string_view content) {
  const std::filesystem::path temporary = path.string() + ".tmp";
  const auto fail = [](const std::filesystem::path& which, int error) {
    return std::runtime_error("cannot write " + which.string() + ": " + std::strerror(error));
  };
  std::FILE* file = std::fopen(temporary.c_str(), "w");
  if (file == nullptr) throw fail(temporary, errno);
  const bool written = std::fwrite(content.data(), 1, content.size(), file) == content.size();
  const int write_error = errno;
  if (std::fclose(file) != 0 || !written) {
    const int error = written ? errno : write_error;
    std::remove(temporary.c_str());
    throw fail(path, error);
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    std::remove(temporary.c_str());
    throw fail(path, error);
  }
}

}  // namespace wattprint
