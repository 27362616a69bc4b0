// The bytes of IPMI DCMI "Get Power Reading" (NetFn 0x2C, command 0x02, docs/sensors.md section 7.1): the
// request, the decoding of the response, and the choice of the value reported. Pure functions, no I/O, so
// every transport (in-band, lanplus) and every test shares them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "sources/server/server_power_source.hpp"

namespace wattprint::dcmi {

inline constexpr std::uint8_t kNetFnGroupExtension = 0x2C;  ///< request NetFn of every DCMI command
inline constexpr std::uint8_t kCmdGetPowerReading = 0x02;
inline constexpr std::uint8_t kGroupId = 0xDC;  ///< DCMI group extension identification
inline constexpr std::uint8_t kModeSystemPowerStatistics = 0x01;
inline constexpr std::uint8_t kStateMeasurementActive = 0x40;  ///< bit 6 of the power reading state
inline constexpr std::size_t kResponseSize = 19;               ///< completion code through state byte
/// Longest statistics reporting period still taken as a rolling average; longer ones (often "since the
/// BMC was reset") say nothing about the last sampling interval.
inline constexpr std::uint32_t kMaxAveragePeriodMs = 60'000;

/// The request data after the command byte: group 0xDC, mode 0x01 (system power statistics), mode
/// attributes 0x00, reserved 0x00.
std::array<std::uint8_t, 4> power_reading_request() noexcept;

/// One decoded Get Power Reading response (all power values in watts, as the BMC sent them).
struct PowerReading {
  std::uint16_t current_w = 0;
  std::uint16_t minimum_w = 0;  ///< over the statistics reporting period
  std::uint16_t maximum_w = 0;
  std::uint16_t average_w = 0;
  std::uint32_t timestamp_s = 0;  ///< IPMI timestamp: seconds since 1970, or since BMC init when small
  std::uint32_t period_ms = 0;    ///< statistics reporting time period, milliseconds
  bool measurement_active = false;
};

/// The outcome of decoding: the reading, or a one-line error. `completion_code` is the BMC's (0 when the
/// response was too short to hold one).
struct DecodedResponse {
  std::optional<PowerReading> reading;
  std::uint8_t completion_code = 0;
  std::string error;
};

/// Decodes the response data starting at the completion code (`00 dc fa 00 …`, 19 bytes; longer responses
/// are accepted, the extra bytes ignored). Errors: empty or short response, non-zero completion code (with
/// its IPMI name and what to do), wrong group id. Does not judge the values (see to_server_reading).
DecodedResponse decode_power_reading(std::span<const std::uint8_t> response);

/// The IPMI name of a completion code ("invalid command" for 0xC1), or a class for codes without a
/// generic name ("command-specific completion code").
const char* completion_code_name(std::uint8_t code) noexcept;

/// The value wattprint reports for a decoded reading: the average with window = period when
/// 0 < period <= 60 s, else the current power as instantaneous (window 0). Errors (one line): measurement
/// not active, or an implausible value (0 W or 65535 W, which BMCs send when they have no reading).
ServerRead to_server_reading(const PowerReading& reading);

}  // namespace wattprint::dcmi
