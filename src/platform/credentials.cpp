// Password files: one read, one trailing newline dropped, permissions checked, nothing echoed.
#include "platform/credentials.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

#include "core/error.hpp"

namespace wattprint {

namespace {
constexpr std::size_t kMaxPasswordFileBytes = std::size_t{64} * 1024U;
}

Secret read_secret_file(const std::string& option, const std::filesystem::path& path, std::string& warning) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw UsageError(fmt::format("{}: cannot read {}: {}", option, path.string(), std::strerror(errno)));
  }
  struct stat info {};
  if (::fstat(fd, &info) == 0 && S_ISREG(info.st_mode) && (info.st_mode & (S_IRGRP | S_IROTH)) != 0) {
    warning = fmt::format("{} can be read by other users (chmod 600 {})", path.string(), path.string());
  }
  Secret secret;
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      Secret wipe_text(std::move(text));
      throw UsageError(fmt::format("{}: cannot read {}: {}", option, path.string(), std::strerror(error)));
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > kMaxPasswordFileBytes) {
      ::close(fd);
      Secret wipe_text(std::move(text));
      throw UsageError(fmt::format("{}: {} is too large for a password file", option, path.string()));
    }
  }
  ::close(fd);
  std::memset(buffer, 0, sizeof buffer);
  if (!text.empty() && text.back() == '\n') {
    text.pop_back();
    if (!text.empty() && text.back() == '\r') text.pop_back();
  }
  if (text.empty()) throw UsageError(fmt::format("{}: {} is empty", option, path.string()));
  return Secret(std::move(text));
}

namespace {
std::map<std::string, Secret>& taken_secrets() {
  static std::map<std::string, Secret> secrets;
  return secrets;
}
}  // namespace

void take_secrets_from_environment() {
  for (const char* name : kPasswordVariables) {
    char* value = std::getenv(name);
    if (value == nullptr) continue;
    if (*value != '\0') taken_secrets()[name] = Secret(value);
    std::memset(value, 0, std::strlen(value));
    ::unsetenv(name);
  }
}

std::optional<Secret> secret_from_environment(const char* name) {
  if (const auto found = taken_secrets().find(name); found != taken_secrets().end()) return found->second;
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return Secret(value);
}

}  // namespace wattprint
