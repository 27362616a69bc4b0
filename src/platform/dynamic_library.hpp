// A shared library opened with dlopen(RTLD_NOW | RTLD_LOCAL) for the lifetime of the object, and its symbols.
#pragma once

#include <bit>
#include <string>
#include <type_traits>

namespace wattprint {

/// Owns one dlopen handle. A library that cannot be opened leaves is_open() false and the dlerror text
/// in error(). Never throws after construction; moves transfer the handle.
class DynamicLibrary {
 public:
  DynamicLibrary() = default;
  /// `path` is passed to dlopen as is: a bare file name is searched the usual way (LD_LIBRARY_PATH,
  /// ld.so.cache), a name with a slash is opened as that file.
  explicit DynamicLibrary(const std::string& path);
  DynamicLibrary(DynamicLibrary&& other) noexcept;
  DynamicLibrary& operator=(DynamicLibrary&& other) noexcept;
  DynamicLibrary(const DynamicLibrary&) = delete;
  DynamicLibrary& operator=(const DynamicLibrary&) = delete;
  ~DynamicLibrary();

  [[nodiscard]] bool is_open() const { return handle_ != nullptr; }
  /// dlerror() text of the failed open, e.g. "libnvidia-ml.so.1: cannot open shared object file: No such
  /// file or directory"; empty when open.
  [[nodiscard]] const std::string& error() const { return error_; }
  [[nodiscard]] const std::string& path() const { return path_; }

  /// The address of `name` in this library, or nullptr when the library lacks it (or is not open).
  [[nodiscard]] void* raw_symbol(const char* name) const noexcept;

  /// `name` as a pointer to a function of type F (e.g. `int(unsigned*)`), nullptr when absent.
  template <typename F>
  [[nodiscard]] F* symbol(const char* name) const noexcept {
    static_assert(std::is_function_v<F>, "symbol<F>: F is a function type, e.g. int(unsigned*)");
    static_assert(sizeof(F*) == sizeof(void*));
    return std::bit_cast<F*>(raw_symbol(name));
  }

 private:
  void close() noexcept;
  std::string path_;
  void* handle_ = nullptr;
  std::string error_;
};

}  // namespace wattprint
