// Credentials from files or the environment, never from the command line, kept in Secret.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "core/secret.hpp"

namespace wattprint {

/// The secret held in `path`: the file's content without one trailing newline ("\n" or "\r\n"). Throws
/// UsageError "OPTION: PATH: why" (never the content) when it cannot be read or is empty. `warning` gets
/// one line when other users may read the file.
Secret read_secret_file(const std::string& option, const std::filesystem::path& path, std::string& warning);

/// The environment variables that may hold a password.
inline constexpr const char* kPasswordVariables[] = {"WATTPRINT_IPMI_PASSWORD", "WATTPRINT_REDFISH_PASSWORD"};

/// Moves the password variables out of the environment, first thing at start-up: the command wattprint runs
/// (and anything else it starts) never inherits them, and /proc/PID/environ no longer shows them (their
/// bytes are overwritten). secret_from_environment() still finds them.
void take_secrets_from_environment();

/// The value of environment variable `name` as a Secret (taken earlier by take_secrets_from_environment, or
/// still in the environment), or nullopt when unset or empty.
std::optional<Secret> secret_from_environment(const char* name);

}  // namespace wattprint
