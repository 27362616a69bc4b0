// Fuzz target: wattprintd's line protocol (src/daemon/protocol.hpp), both sides. The daemon parses what any
// local user sends (parse_request); the client parses what the socket answers (hello_response_length,
// parse_hello_response, parse_read_response, parse_server_response, parse_power_response). A HELLO, SERVER or
// POWER answer that parses must also survive the daemon's own encoding: encoded again, it parses back the
// same.
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
    // An accepted request is exactly one of the four the daemon serves.
    if (request.kind != daemon::Request::Kind::Invalid && line != "READ" && line != "SERVER" &&
        line != "POWER" && line.rfind("HELLO ", 0) != 0)
      std::abort();
    const daemon::ServerResponse server = daemon::parse_server_response(line);
    if (server.served) {
      const daemon::ServerResponse again =
          daemon::parse_server_response(daemon::encode_server_response(server.family, server.origin));
      if (!again.served || again.family != server.family || again.origin != server.origin) std::abort();
    }
    const daemon::PowerResponse power = daemon::parse_power_response(line);
    if (power.ok) {
      const daemon::PowerResponse again =
          daemon::parse_power_response(daemon::encode_power_response(power.watts, power.window_s));
      if (!again.ok || again.watts != power.watts || again.window_s != power.window_s) std::abort();
    }
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
