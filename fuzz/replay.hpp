// The replay executable (fuzz_replay, built by the ordinary test build): the fuzz targets it holds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace wattprint::fuzz {

struct Target {
  const char* name;
  int (*run)(const std::uint8_t* data, std::size_t size);
};

/// Every target of fuzz/CMakeLists.txt (the table is generated there).
const std::vector<Target>& targets();

}  // namespace wattprint::fuzz
