// Fuzz target: the numbers of sysfs attributes and /proc entries (src/platform/text_file.hpp).
#include <cstddef>
#include <cstdint>

#include "fuzz_input.hpp"
#include "platform/text_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = wattprint::fuzz::as_text(data, size);
  static_cast<void>(wattprint::parse_first_u64(text));
  static_cast<void>(wattprint::parse_double(text));
  static_cast<void>(wattprint::trim(text));
  return 0;
}
