// Fuzz target: what the exporter parses from outside (src/exporter): a scrape's Accept header, and the
// --listen address (UsageError when malformed, nothing else).
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "exporter/exposition.hpp"
#include "exporter/metrics_server.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = wattprint::fuzz::as_text(data, size);
  static_cast<void>(wattprint::exporter::content_type(wattprint::exporter::format_for_accept(text)));
  try {
    static_cast<void>(wattprint::exporter::parse_listen_address("--listen", std::string(text)).text());
  } catch (const wattprint::UsageError&) {
  }
  return 0;
}
