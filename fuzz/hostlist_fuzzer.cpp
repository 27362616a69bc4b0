// Fuzz target: Slurm hostlists (src/cluster/batch_job.hpp, expand_hostlist): std::invalid_argument for
// malformed text, nothing else.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "cluster/batch_job.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    static_cast<void>(wattprint::expand_hostlist(std::string(wattprint::fuzz::as_text(data, size))));
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
