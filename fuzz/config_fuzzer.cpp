// Fuzz target: the TOML configuration file (src/config/config_file.hpp, parse_config_text). A bad file must
// give ConfigError (one line naming the file), nothing else.
#include <cstddef>
#include <cstdint>

#include "config/config_file.hpp"
#include "core/error.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  wattprint::ConfigValues values;
  try {
    wattprint::parse_config_text(wattprint::fuzz::as_text(data, size), "fuzz.toml", values);
  } catch (const wattprint::ConfigError&) {
  }
  return 0;
}
