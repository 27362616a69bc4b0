// Reads small text files (sysfs attributes, /proc entries) and parses the numbers in them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace wattprint {

/// Outcome of reading one small file: errno-style code (0 on success) and the text.
struct FileText {
  int error_number = 0;
  std::string text;
  [[nodiscard]] bool ok() const { return error_number == 0; }
};

/// Reads the whole of a small file (up to 1 MiB). Never throws.
FileText read_text_file(const std::filesystem::path& path) noexcept;

/// Writes `content` to `path` atomically (a temporary file beside it, then rename), so a reader never sees
/// half a file. Throws std::runtime_error "cannot write PATH: reason".
void write_file_atomically(const std::filesystem::path& path, std::string_view content);

/// Parses the first whitespace-separated token of `text` as a decimal unsigned integer.
std::optional<std::uint64_t> parse_first_u64(std::string_view text) noexcept;

/// Parses `text` as a finite double (whole string, surrounding whitespace allowed).
std::optional<double> parse_double(std::string_view text) noexcept;

/// `text` without leading and trailing whitespace.
std::string_view trim(std::string_view text) noexcept;

/// A file kept open and re-read from offset 0 on each read, as sysfs attributes and /proc files are meant
/// to be read: one pread per read instead of open, read, read, close. A file that has vanished (read
/// error, or, with `detect_unlink`, a regular file unlinked behind the descriptor) is reopened by path once.
class KeptOpenFile {
 public:
  KeptOpenFile() = default;
  explicit KeptOpenFile(std::filesystem::path path, bool detect_unlink = false);
  KeptOpenFile(KeptOpenFile&& other) noexcept;
  KeptOpenFile& operator=(KeptOpenFile&& other) noexcept;
  KeptOpenFile(const KeptOpenFile&) = delete;
  KeptOpenFile& operator=(const KeptOpenFile&) = delete;
  ~KeptOpenFile();

  /// errno of the last open (0 when open).
  [[nodiscard]] int open_error() const { return open_error_; }
  [[nodiscard]] bool is_open() const { return fd_ >= 0; }

  /// Reads up to `capacity` bytes from offset 0 into `buffer`; `size` gets the byte count.
  /// Returns 0 or an errno value. No allocation.
  int read_prefix(char* buffer, std::size_t capacity, std::size_t& size) noexcept;

 private:
  void close_fd() noexcept;
  std::filesystem::path path_;
  int fd_ = -1;
  int open_error_ = 0;
  bool detect_unlink_ = false;
};

/// An energy counter file (energy_uj): kept open, its first unsigned integer read on each call.
class CounterFile {
 public:
  CounterFile() = default;
  explicit CounterFile(std::filesystem::path path) : file_(std::move(path), true) {}

  [[nodiscard]] int open_error() const { return file_.open_error(); }
  [[nodiscard]] bool is_open() const { return file_.is_open(); }

  /// Reads the first unsigned integer of the file. Returns 0 on success, an errno value on a failed
  /// read, or EBADMSG when the content is not a number.
  int read_u64(std::uint64_t& value) noexcept;

 private:
  KeptOpenFile file_;
};

}  // namespace wattprint
