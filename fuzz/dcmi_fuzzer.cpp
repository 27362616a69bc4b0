// Fuzz target: the BMC's reply to DCMI Get Power Reading (src/sources/server/ipmi/dcmi_codec.hpp): the raw
// response bytes from the completion code on, then the choice of the value reported.
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz_input.hpp"
#include "sources/server/ipmi/dcmi_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto decoded = wattprint::dcmi::decode_power_reading(std::span<const std::uint8_t>(data, size));
  static_cast<void>(wattprint::dcmi::completion_code_name(decoded.completion_code));
  if (decoded.reading) static_cast<void>(wattprint::dcmi::to_server_reading(*decoded.reading));
  return 0;
}
