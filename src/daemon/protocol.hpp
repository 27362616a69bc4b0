// The wattprintd line protocol (version 1): what an unprivileged wattprint asks the privileged daemon and
// what it answers. Pure text in, text out: every function here is total (never crashes, never throws on
// any input) so it can be unit-tested and fuzzed.
//
//   client                         daemon
//   HELLO 1\n                  ->  OK 1 <n>\n
//                                  SENSOR <name> <component> <counter_max> <joules_per_raw_unit> <max_w|->
//                                  <origin>\n  (n times)
//   READ\n                     ->  VALUES <n> <raw_1> <errno_1> ... <raw_n> <errno_n>\n
//   SERVER\n                   ->  SERVER <family> <origin>\n   (it reads a whole-server power meter)
//                                  NOSERVER <reason>\n         (it does not, and why)
//   POWER\n                    ->  POWER <watts> <window_s>\n   (its latest reading: the mean power over the
//                                                              window, 0 for an instantaneous value)
//                                  POWER - <reason>\n          (its latest reading failed, or is too old)
//   anything else              ->  ERR <reason>\n, then the daemon closes the connection
//
// SERVER and POWER came after the first release: a daemon without them answers ERR (unknown request), which
// a client takes as "no server power here". A request is at most kMaxRequestLine bytes with its newline,
// printable ASCII only. No request carries a path or any other argument the daemon would act on: the only
// argument is HELLO's version number.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sources/sensor.hpp"

namespace wattprint::daemon {

inline constexpr int kProtocolVersion = 1;
/// Longest request line, newline included.
inline constexpr std::size_t kMaxRequestLine = 128;
/// Most sensors one daemon serves (and a client accepts).
inline constexpr std::size_t kMaxSensors = 64;
/// Longest response line, newline included (a SENSOR line or the VALUES line of kMaxSensors sensors).
inline constexpr std::size_t kMaxResponseLine = 4096;
/// Longest text field (sensor name, origin) in a SENSOR line.
inline constexpr std::size_t kMaxField = 1024;

struct Request {
  enum class Kind { Hello, Read, Server, Power, Invalid };
  Kind kind = Kind::Invalid;
  int version = 0;    ///< HELLO's version
  std::string error;  ///< why Invalid (safe to send back: holds no client bytes)
};

/// Parses one request line, without its newline. Anything but "HELLO <version>", "READ", "SERVER" and
/// "POWER" is Invalid.
Request parse_request(std::string_view line);

std::string encode_hello_request();
std::string encode_read_request();
std::string encode_server_request();
std::string encode_power_request();

/// "OK 1 <n>\n" and one SENSOR line per sensor. Sensors whose name or origin cannot be sent (whitespace or
/// control characters in the name, control characters in the origin, too long) are left out.
std::string encode_hello_response(const std::vector<SensorInfo>& sensors);
/// "VALUES <n> <raw> <errno> ...\n" for the first min(raw.size(), errors.size()) readings.
std::string encode_read_response(const std::vector<std::uint64_t>& raw, const std::vector<int>& errors);
/// "ERR <reason>\n", the reason cut to fit a line and stripped of control characters.
std::string encode_error(std::string_view reason);

/// A parsed HELLO response: the sensors, or why it could not be used (error non-empty). An "ERR" line gives
/// its reason.
struct HelloResponse {
  std::vector<SensorInfo> sensors;
  std::string error;
};
/// Parses the whole HELLO response (all its lines, each ending in '\n').
HelloResponse parse_hello_response(std::string_view text);
/// How many bytes of `text` make a complete HELLO response (0: need more; an ERR line counts as complete).
std::size_t hello_response_length(std::string_view text) noexcept;

/// Parses one VALUES line (without or with its newline) into raw/errors, whose sizes give the number of
/// sensors expected. Returns an empty string on success, else why not (an ERR line gives its reason).
/// Does not allocate on success.
std::string parse_read_response(std::string_view line, std::vector<std::uint64_t>& raw,
                                std::vector<int>& errors);

/// "SERVER <family> <origin>\n"; a family or origin that cannot be sent (space or control characters in
/// the family, control characters in the origin, too long) gives a NOSERVER line saying so.
std::string encode_server_response(std::string_view family, std::string_view origin);
/// "NOSERVER <reason>\n", the reason cut to fit a line and stripped of control characters.
std::string encode_no_server_response(std::string_view reason);
/// "POWER <watts> <window_s>\n"; a negative or non-finite value gives a "POWER -" line saying so.
std::string encode_power_response(double watts, double window_s);
/// "POWER - <reason>\n", the reason cut to fit a line and stripped of control characters.
std::string encode_power_failure(std::string_view reason);

/// A parsed SERVER answer. `error` (non-empty) when the line is not a valid answer (an ERR line gives its
/// reason); else `served` with family and origin, or not served with the daemon's `reason`.
struct ServerResponse {
  bool served = false;
  std::string family;
  std::string origin;
  std::string reason;
  std::string error;
};
ServerResponse parse_server_response(std::string_view line);

/// A parsed POWER answer. `error` (non-empty) when the line is not a valid answer (an ERR line gives its
/// reason); else a reading (`ok`, watts, window_s) or the daemon's `failure`.
struct PowerResponse {
  bool ok = false;
  double watts = 0.0;
  double window_s = 0.0;
  std::string failure;
  std::string error;
};
PowerResponse parse_power_response(std::string_view line);

/// Component from its report name ("package", "dram", ...).
bool parse_component(std::string_view text, Component& component) noexcept;

}  // namespace wattprint::daemon
