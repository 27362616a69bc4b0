// Fuzz target: the /proc parsers (src/attribution/procfs.hpp): /proc/PID/stat, /proc/stat, /proc/meminfo and
// /proc/PID/task/TID/children, each given the whole input.
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "attribution/procfs.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = wattprint::fuzz::as_text(data, size);
  static_cast<void>(wattprint::parse_process_stat(text));
  static_cast<void>(wattprint::parse_machine_cpu_ticks(text));
  if (const auto memory = wattprint::parse_meminfo(text)) static_cast<void>(memory->used_bytes());
  std::vector<pid_t> children;
  wattprint::parse_children(text, children);
  return 0;
}
