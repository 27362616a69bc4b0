# Precompiled headers. The heavy third-party headers (nlohmann/json, fmt, GoogleTest, CLI11) take more time to
# parse than most of our sources take to compile; precompiled once per group of targets, they cut the
# unoptimised sanitizer build that CI runs (docs/benchmarks.md, "Build time"). Off by default: with
# optimisation, GCC 12 then reports -Warray-bounds false positives inside <string> that a normal build does
# not. The headers are forced into every C++ source of those targets, which could hide a missing #include:
# clang-tidy (build.sh test) reads a compile database configured with WATTPRINT_PCH=OFF, where such a source
# fails to parse.
option(WATTPRINT_PCH "Precompile the heavy third-party headers (faster unoptimised builds)" OFF)

set(WATTPRINT_PCH_HEADERS
  <algorithm> <cstdint> <filesystem> <functional> <map> <memory> <optional> <string> <string_view> <vector>
  <nlohmann/json.hpp> <fmt/format.h>)

# wattprint_precompile(TARGET [EXTRA_HEADER...]): TARGET gets its own precompiled header.
function(wattprint_precompile target)
  if(WATTPRINT_PCH)
    target_precompile_headers(${target} PRIVATE ${WATTPRINT_PCH_HEADERS} ${ARGN})
  endif()
endfunction()

# wattprint_reuse_precompiled(TARGET FROM): TARGET uses FROM's precompiled header (same compile options).
function(wattprint_reuse_precompiled target from)
  if(WATTPRINT_PCH)
    target_precompile_headers(${target} REUSE_FROM ${from})
  endif()
endfunction()
