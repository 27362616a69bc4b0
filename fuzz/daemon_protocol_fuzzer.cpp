// Fuzz target: wattprintd's line protocol (src/daemon/protocol.hpp), both sides. The daemon parses what any
// local user sends (parse_request); the client parses what the socket answers (hello_response_length,
// parse_hello_response, parse_read_response). A HELLO response that parses must also survive the daemon's
// own encoding: encode_hello_response of its sensors parses back without error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "daemon/protocol.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace daemon = wattprint::daemon;
  const std::string_view text = wattprint::fuzz::as_text(data, size);
  for (const auto line : wattprint::fuzz::lines_of(text)) {
    const daemon::Request request = daemon::parse_request(line);
    // An accepted request is exactly one of the two the daemon serves.
    if (request.kind != daemon::Request::Kind::Invalid && line != "READ" && line.rfind("HELLO ", 0) != 0)
      std::abort();
    std::vector<std::uint64_t> raw(line.size() % 5);
    std::vector<int> errors(raw.size());
    static_cast<void>(daemon::parse_read_response(line, raw, errors));
  }
  const std::size_t complete = daemon::hello_response_length(text);
  if (complete > text.size()) std::abort();
  const daemon::HelloResponse hello = daemon::parse_hello_response(text.substr(0, complete));
  if (hello.error.empty()) {
    const daemon::HelloResponse again =
        daemon::parse_hello_response(daemon::encode_hello_response(hello.sensors));
    if (!again.error.empty() || again.sensors.size() > hello.sensors.size()) std::abort();
  }
  return 0;
}
