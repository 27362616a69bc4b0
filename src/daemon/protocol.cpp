// The wattprintd line protocol: encoders and total parsers.
#include "daemon/protocol.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace wattprint::daemon {

namespace {

constexpr std::string_view kHello = "HELLO";
constexpr std::string_view kRead = "READ";
constexpr std::string_view kServer = "SERVER";
constexpr std::string_view kNoServer = "NOSERVER";
constexpr std::string_view kPower = "POWER";

/// `reason` as one line's field: at most 256 bytes, control characters replaced.
std::string sanitised(std::string_view reason) {
  std::string text;
  for (const char c : reason.substr(0, 256)) text += c >= 0x20 && c < 0x7f ? c : '?';
  return text;
}

bool printable(char c) noexcept { return c >= 0x20 && c < 0x7f; }

bool is_token(std::string_view text) noexcept {
  if (text.empty() || text.size() > kMaxField) return false;
  for (const char c : text) {
    if (!printable(c) || c == ' ') return false;
  }
  return true;
}

bool is_origin(std::string_view text) noexcept {
  if (text.empty() || text.size() > kMaxField) return false;
  for (const char c : text) {
    if (!printable(c)) return false;
  }
  return true;
}

/// The next space-separated field of `rest` (which loses it and the space after it).
std::string_view next_field(std::string_view& rest) noexcept {
  const auto space = rest.find(' ');
  const std::string_view field = rest.substr(0, space);
  rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
  return field;
}

template <typename T>
bool parse_number(std::string_view text, T& value) noexcept {
  if (text.empty() || text.size() > 32) return false;
  if constexpr (std::is_floating_point_v<T>) {
    if (text.find_first_not_of("0123456789.eE+-") != std::string_view::npos) return false;
  } else if (text.find_first_not_of("0123456789") != std::string_view::npos) {
    return false;
  }
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size();
}

std::string_view without_newline(std::string_view line) noexcept {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  return line;
}

/// The reason of an "ERR reason" line, or nullopt-like empty view plus false when it is not one.
bool error_line(std::string_view line, std::string& reason) {
  if (line.substr(0, 4) != "ERR ") return false;
  std::string_view text = line.substr(4, 512);
  reason = "wattprintd: ";
  for (const char c : text) reason += printable(c) ? c : '?';
  return true;
}

}  // namespace

Request parse_request(std::string_view line) {
  Request request;
  if (line.size() + 1 > kMaxRequestLine) {
    request.error = fmt::format("request longer than {} bytes", kMaxRequestLine);
    return request;
  }
  for (const char c : line) {
    if (!printable(c)) {
      request.error = "request is not printable ASCII";
      return request;
    }
  }
  if (line == kRead) {
    request.kind = Request::Kind::Read;
    return request;
  }
  if (line == kServer) {
    request.kind = Request::Kind::Server;
    return request;
  }
  if (line == kPower) {
    request.kind = Request::Kind::Power;
    return request;
  }
  if (line.size() > kHello.size() + 1 && line.substr(0, kHello.size()) == kHello &&
      line[kHello.size()] == ' ') {
    int version = 0;
    if (!parse_number(line.substr(kHello.size() + 1), version) || version < 1) {
      request.error = "HELLO needs a protocol version number";
      return request;
    }
    if (version != kProtocolVersion) {
      request.error = fmt::format("protocol version {} is not supported (this wattprintd speaks {})", version,
                                  kProtocolVersion);
      return request;
    }
    request.kind = Request::Kind::Hello;
    request.version = version;
    return request;
  }
  request.error =
      fmt::format("unknown request (only HELLO {}, READ, SERVER and POWER exist)", kProtocolVersion);
  return request;
}

std::string encode_hello_request() { return fmt::format("{} {}\n", kHello, kProtocolVersion); }
std::string encode_read_request() { return std::string(kRead) + "\n"; }
std::string encode_server_request() { return std::string(kServer) + "\n"; }
std::string encode_power_request() { return std::string(kPower) + "\n"; }

std::string encode_server_response(std::string_view family, std::string_view origin) {
  if (!is_token(family) || !is_origin(origin)) {
    return encode_no_server_response("its server power source has a name that cannot be sent");
  }
  return fmt::format("{} {} {}\n", kServer, family, origin);
}

std::string encode_no_server_response(std::string_view reason) {
  return fmt::format("{} {}\n", kNoServer, reason.empty() ? "no reason given" : sanitised(reason));
}

std::string encode_power_response(double watts, double window_s) {
  if (!std::isfinite(watts) || watts < 0.0 || !std::isfinite(window_s) || window_s < 0.0) {
    return encode_power_failure("the reading is not a finite, non-negative number");
  }
  return fmt::format("{} {:.17g} {:.17g}\n", kPower, watts, window_s);
}

std::string encode_power_failure(std::string_view reason) {
  return fmt::format("{} - {}\n", kPower, reason.empty() ? "no reason given" : sanitised(reason));
}

std::string encode_hello_response(const std::vector<SensorInfo>& sensors) {
  std::string lines;
  std::size_t count = 0;
  for (const SensorInfo& s : sensors) {
    if (count == kMaxSensors || !is_token(s.name) || !is_origin(s.origin)) continue;
    const bool power = s.max_power && std::isfinite(s.max_power->value) && s.max_power->value >= 0.0;
    lines += fmt::format("SENSOR {} {} {} {:.17g} {} {}\n", s.name, component_name(s.component),
                         s.counter_max, s.joules_per_raw_unit,
                         power ? fmt::format("{:.17g}", s.max_power->value) : "-", s.origin);
    ++count;
  }
  return fmt::format("OK {} {}\n", kProtocolVersion, count) + lines;
}

std::string encode_read_response(const std::vector<std::uint64_t>& raw, const std::vector<int>& errors) {
  const std::size_t n = std::min({raw.size(), errors.size(), kMaxSensors});
  std::string line = fmt::format("VALUES {}", n);
  for (std::size_t i = 0; i < n; ++i) fmt::format_to(std::back_inserter(line), " {} {}", raw[i], errors[i]);
  line += '\n';
  return line;
}

std::string encode_error(std::string_view reason) { return "ERR " + sanitised(reason) + "\n"; }

bool parse_component(std::string_view text, Component& component) noexcept {
  for (const Component c : {Component::CpuPackage, Component::Dram, Component::CpuCore, Component::Uncore,
                            Component::Psys, Component::Gpu}) {
    if (text == component_name(c)) {
      component = c;
      return true;
    }
  }
  return false;
}

std::size_t hello_response_length(std::string_view text) noexcept {
  const auto first_end = text.find('\n');
  if (first_end == std::string_view::npos) return 0;
  const std::string_view first = text.substr(0, first_end);
  if (first.substr(0, 3) != "OK ") return first_end + 1;  // ERR or garbage: the first line is the answer
  std::string_view rest = first.substr(3);
  next_field(rest);
  std::size_t count = 0;
  if (!parse_number(rest, count) || count > kMaxSensors) return first_end + 1;
  std::size_t end = first_end + 1;
  for (std::size_t i = 0; i < count; ++i) {
    const auto line_end = text.find('\n', end);
    if (line_end == std::string_view::npos) return 0;
    end = line_end + 1;
  }
  return end;
}

HelloResponse parse_hello_response(std::string_view text) {
  HelloResponse response;
  const auto fail = [&response](std::string why) {
    response.sensors.clear();
    response.error = std::move(why);
    return response;
  };
  const auto first_end = text.find('\n');
  if (first_end == std::string_view::npos) return fail("wattprintd's answer to HELLO has no complete line");
  const std::string_view first = text.substr(0, first_end);
  if (std::string reason; error_line(first, reason)) return fail(reason);
  if (first.empty() || first.back() == ' ') return fail("wattprintd's answer to HELLO ends in a space");
  std::string_view fields = first;
  std::size_t count = 0;
  int version = 0;
  if (next_field(fields) != "OK" || !parse_number(next_field(fields), version) ||
      !parse_number(next_field(fields), count) || !fields.empty()) {
    return fail("wattprintd's answer to HELLO is not \"OK <version> <count>\"");
  }
  if (version != kProtocolVersion) {
    return fail(fmt::format("wattprintd speaks protocol {}, this wattprint {}", version, kProtocolVersion));
  }
  if (count > kMaxSensors)
    return fail(fmt::format("wattprintd announces {} sensors (at most {})", count, kMaxSensors));
  std::string_view rest = text.substr(first_end + 1);
  for (std::size_t i = 0; i < count; ++i) {
    const auto end = rest.find('\n');
    if (end == std::string_view::npos) return fail("wattprintd's sensor list is cut short");
    std::string_view line = rest.substr(0, end);
    rest = rest.substr(end + 1);
    if (line.size() + 1 > kMaxResponseLine) return fail("wattprintd sent an over-long sensor line");
    SensorInfo info;
    info.family = "rapl";
    const std::string_view tag = next_field(line);
    const std::string_view name = next_field(line);
    const std::string_view component = next_field(line);
    const std::string_view counter_max = next_field(line);
    const std::string_view scale = next_field(line);
    const std::string_view max_power = next_field(line);
    const std::string_view origin = line;
    double power = 0.0;
    if (tag != "SENSOR" || !is_token(name) || !parse_component(component, info.component) ||
        !parse_number(counter_max, info.counter_max) || info.counter_max == 0 ||
        !parse_number(scale, info.joules_per_raw_unit) || !std::isfinite(info.joules_per_raw_unit) ||
        info.joules_per_raw_unit <= 0.0 || !is_origin(origin) ||
        (max_power != "-" && (!parse_number(max_power, power) || !std::isfinite(power) || power < 0.0))) {
      return fail(fmt::format("wattprintd's sensor line {} is malformed", i + 1));
    }
    if (max_power != "-") info.max_power = Watts{power};
    info.name = name;
    info.origin = origin;
    response.sensors.push_back(std::move(info));
  }
  if (!rest.empty()) return fail("wattprintd sent more than its sensor list");
  return response;
}

std::string parse_read_response(std::string_view line, std::vector<std::uint64_t>& raw,
                                std::vector<int>& errors) {
  line = without_newline(line);
  if (std::string reason; error_line(line, reason)) return reason;
  if (raw.size() != errors.size()) return "wattprint: reading buffers of different sizes";
  if (line.size() + 1 > kMaxResponseLine) return "wattprintd's reading is over-long";
  if (line.empty() || line.back() == ' ') return "wattprintd's reading is empty or ends in a space";
  std::size_t count = 0;
  if (next_field(line) != "VALUES" || !parse_number(next_field(line), count))
    return "wattprintd's reading is not a VALUES line";
  if (count != raw.size()) return "wattprintd's reading has another number of sensors than its HELLO";
  for (std::size_t i = 0; i < count; ++i) {
    std::uint64_t value = 0;
    int error = 0;
    if (!parse_number(next_field(line), value) || !parse_number(next_field(line), error)) {
      return "wattprintd's reading is malformed";
    }
    raw[i] = value;
    errors[i] = error;
  }
  if (!line.empty()) return "wattprintd's reading has trailing fields";
  return {};
}

ServerResponse parse_server_response(std::string_view line) {
  ServerResponse response;
  line = without_newline(line);
  if (error_line(line, response.error)) return response;
  if (line.size() + 1 > kMaxResponseLine || line.find('\n') != std::string_view::npos) {
    response.error = "wattprintd's answer to SERVER is not one line";
    return response;
  }
  std::string_view rest = line;
  const std::string_view tag = next_field(rest);
  if (tag == kNoServer && is_origin(rest)) {
    response.reason = "wattprintd: " + std::string(rest);
    return response;
  }
  const std::string_view family = next_field(rest);
  if (tag != kServer || !is_token(family) || !is_origin(rest)) {
    response.error =
        R"(wattprintd's answer to SERVER is not "SERVER <family> <origin>" or "NOSERVER <reason>")";
    return response;
  }
  response.served = true;
  response.family = family;
  response.origin = rest;
  return response;
}

PowerResponse parse_power_response(std::string_view line) {
  PowerResponse response;
  line = without_newline(line);
  if (error_line(line, response.error)) return response;
  if (line.size() + 1 > kMaxResponseLine || line.find('\n') != std::string_view::npos) {
    response.error = "wattprintd's answer to POWER is not one line";
    return response;
  }
  std::string_view rest = line;
  const std::string_view tag = next_field(rest);
  const std::string_view first = next_field(rest);
  if (tag == kPower && first == "-" && is_origin(rest)) {
    response.failure = "wattprintd: " + std::string(rest);
    return response;
  }
  if (tag != kPower || !parse_number(first, response.watts) ||
      !parse_number(next_field(rest), response.window_s) || !rest.empty() || !std::isfinite(response.watts) ||
      response.watts < 0.0 || !std::isfinite(response.window_s) || response.window_s < 0.0) {
    response = PowerResponse{};
    response.error =
        R"(wattprintd's answer to POWER is not "POWER <watts> <window_s>" or "POWER - <reason>")";
    return response;
  }
  response.ok = true;
  return response;
}

}  // namespace wattprint::daemon
