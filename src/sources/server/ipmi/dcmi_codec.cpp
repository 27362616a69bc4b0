// DCMI Get Power Reading request and response bytes (docs/sensors.md section 7.1), and the choice between the
// BMC's rolling average and its current power.
#include "sources/server/ipmi/dcmi_codec.hpp"

#include <fmt/format.h>

namespace wattprint::dcmi {

namespace {

std::uint16_t le16(std::span<const std::uint8_t> bytes, std::size_t at) noexcept {
  return static_cast<std::uint16_t>(bytes[at] | (bytes[at + 1] << 8U));
}

std::uint32_t le32(std::span<const std::uint8_t> bytes, std::size_t at) noexcept {
  return static_cast<std::uint32_t>(bytes[at]) | (static_cast<std::uint32_t>(bytes[at + 1]) << 8U) |
         (static_cast<std::uint32_t>(bytes[at + 2]) << 16U) |
         (static_cast<std::uint32_t>(bytes[at + 3]) << 24U);
}

/// What a user can do about a completion code, or "" when there is nothing specific to say.
const char* completion_code_hint(std::uint8_t code) noexcept {
  switch (code) {
    case 0xC1:
      return "BMC does not support DCMI power reading";
    case 0xD4:
      return "the session's privilege is too low: use privilege admin";
    case 0xC0:
    case 0xC3:
    case 0xCE:
    case 0xD2:
    case 0xFF:
      return "the BMC may be busy or polled too fast; a later read may succeed";
    case 0xC7:
    case 0xC9:
    case 0xCC:
      return "the BMC rejected the request (DCMI power reading mode 1 unsupported?)";
    case 0xD5:
    case 0xD6:
      return "power reading is disabled or not available in the BMC's present state";
    default:
      return "";
  }
}

}  // namespace

std::array<std::uint8_t, 4> power_reading_request() noexcept {
  return {kGroupId, kModeSystemPowerStatistics, 0x00, 0x00};
}

const char* completion_code_name(std::uint8_t code) noexcept {
  switch (code) {
    case 0x00:
      return "success";
    case 0xC0:
      return "node busy";
    case 0xC1:
      return "invalid command";
    case 0xC2:
      return "command invalid for given LUN";
    case 0xC3:
      return "timeout while processing command";
    case 0xC4:
      return "out of space";
    case 0xC5:
      return "reservation canceled or invalid reservation ID";
    case 0xC6:
      return "request data truncated";
    case 0xC7:
      return "request data length invalid";
    case 0xC8:
      return "request data field length limit exceeded";
    case 0xC9:
      return "parameter out of range";
    case 0xCA:
      return "cannot return number of requested data bytes";
    case 0xCB:
      return "requested sensor, data, or record not present";
    case 0xCC:
      return "invalid data field in request";
    case 0xCD:
      return "command illegal for specified sensor or record type";
    case 0xCE:
      return "command response could not be provided";
    case 0xCF:
      return "cannot execute duplicated request";
    case 0xD0:
      return "SDR repository in update mode";
    case 0xD1:
      return "device in firmware update mode";
    case 0xD2:
      return "BMC initialization in progress";
    case 0xD3:
      return "destination unavailable";
    case 0xD4:
      return "insufficient privilege level";
    case 0xD5:
      return "command not supported in present state";
    case 0xD6:
      return "command sub-function disabled or unavailable";
    case 0xFF:
      return "unspecified error";
    default:
      break;
  }
  if (code >= 0x01 && code <= 0x7E) return "device-specific (OEM) completion code";
  if (code >= 0x80 && code <= 0xBE) return "command-specific completion code";
  return "reserved completion code";
}

DecodedResponse decode_power_reading(std::span<const std::uint8_t> response) {
  DecodedResponse out;
  if (response.empty()) {
    out.error = "empty DCMI power reading response (no completion code)";
    return out;
  }
  out.completion_code = response[0];
  if (out.completion_code != 0x00) {
    const char* hint = completion_code_hint(out.completion_code);
    out.error = fmt::format("BMC answered DCMI Get Power Reading with completion code 0x{:02X} ({}){}{}",
                            out.completion_code, completion_code_name(out.completion_code),
                            *hint != '\0' ? ": " : "", hint);
    return out;
  }
  if (response.size() < kResponseSize) {
    out.error = fmt::format("short DCMI power reading response: {} bytes, expected {}", response.size(),
                            kResponseSize);
    return out;
  }
  if (response[1] != kGroupId) {
    out.error = fmt::format("DCMI power reading response has group id 0x{:02X}, expected 0x{:02X}",
                            response[1], kGroupId);
    return out;
  }
  PowerReading r;
  r.current_w = le16(response, 2);
  r.minimum_w = le16(response, 4);
  r.maximum_w = le16(response, 6);
  r.average_w = le16(response, 8);
  r.timestamp_s = le32(response, 10);
  r.period_ms = le32(response, 14);
  r.measurement_active = (response[18] & kStateMeasurementActive) != 0;
  out.reading = r;
  return out;
}

ServerRead to_server_reading(const PowerReading& reading) {
  ServerRead out;
  if (!reading.measurement_active) {
    out.error = "BMC reports power measurement not active (DCMI power reading state)";
    return out;
  }
  const bool average = reading.period_ms > 0 && reading.period_ms <= kMaxAveragePeriodMs;
  const std::uint16_t watts = average ? reading.average_w : reading.current_w;
  const char* which = average ? "average" : "current";
  if (watts == 0) {
    out.error = fmt::format("implausible DCMI {} power 0 W (the BMC has no reading)", which);
    return out;
  }
  if (watts == 0xFFFF) {
    out.error = fmt::format("implausible DCMI {} power 65535 W (0xFFFF: the BMC has no reading)", which);
    return out;
  }
  ServerPowerReading value;
  value.power = Watts{static_cast<double>(watts)};
  value.window = average ? Seconds{static_cast<double>(reading.period_ms) / 1000.0} : Seconds{0.0};
  out.reading = value;
  return out;
}

}  // namespace wattprint::dcmi
