// Fuzz target: nvidia-smi's CSV output (src/sources/nvml/nvidia_smi.hpp), each line of the input given to the
// looping query's parser, the device query's parser and the timestamp parser.
#include <cstddef>
#include <cstdint>

#include "fuzz_input.hpp"
#include "sources/nvml/nvidia_smi.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  for (const auto line : wattprint::fuzz::lines_of(wattprint::fuzz::as_text(data, size))) {
    static_cast<void>(wattprint::parse_nvidia_smi_csv_line(line));
    static_cast<void>(wattprint::parse_nvidia_smi_device_line(line));
    static_cast<void>(wattprint::parse_nvidia_smi_timestamp(line));
  }
  return 0;
}
