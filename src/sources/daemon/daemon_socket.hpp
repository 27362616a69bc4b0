// The client end of wattprintd's Unix socket, shared by the counter and the server power clients: connect
// with a timeout on every send and receive, send a request, receive one answer line.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string_view>
#include <vector>

namespace wattprint {

/// A Unix stream socket (close-on-exec) connected to `socket`, with `timeout` on every send and receive; or
/// minus an errno value (ENAMETOOLONG for a path that does not fit).
int connect_to_daemon(const std::filesystem::path& socket, std::chrono::milliseconds timeout) noexcept;

/// Sends all of `data` (no SIGPIPE); false with errno set when it cannot.
bool send_all(int fd, std::string_view data) noexcept;

/// Receives into `buffer` from its start until what was received ends in '\n'. 0 with `length` set, or an
/// errno value: ETIMEDOUT (no answer in time), ECONNRESET (closed), EBADMSG (longer than the buffer).
int receive_line(int fd, std::vector<char>& buffer, std::size_t& length) noexcept;

}  // namespace wattprint
