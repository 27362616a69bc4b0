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

/// The value of environment variable `name` as a Secret, or nullopt when unset or empty.
std::optional<Secret> secret_from_environment(const char* name);

}  // namespace wattprint
