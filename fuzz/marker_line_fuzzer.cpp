// Fuzz target: the control socket's marker protocol (src/phases/control_socket.hpp): each line of the input
// given to parse_marker_line (longer than kMaxMarkerLineBytes too: the parser must not rely on the limit).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_input.hpp"
#include "phases/control_socket.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string origin = "fuzz";
  for (const auto line : wattprint::fuzz::lines_of(wattprint::fuzz::as_text(data, size)))
    static_cast<void>(wattprint::parse_marker_line(line, origin));
  return 0;
}
