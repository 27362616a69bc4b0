// Errors raised while setting up (bad input, broken configuration); never thrown from the sampling hot path.
#pragma once

#include <stdexcept>
#include <string>

namespace wattprint {

/// A mistake in what the user asked for: printed as one line, exit status 2, nothing is started.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A configuration file that cannot be used; the message names the file and line.
class ConfigError : public UsageError {
 public:
  using UsageError::UsageError;
};

}  // namespace wattprint
