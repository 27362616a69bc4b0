// fuzz_replay NAME PATH...: feeds each file (a directory: each file in it, in name order) to fuzz target
// NAME, as libFuzzer would, without libFuzzer: the GCC sanitizer build replays the seed corpus and the
// regression inputs this way (CTest tests fuzz_replay_NAME). A missing directory is skipped
// (fuzz/regressions/NAME/ exists only once a crash was found); at least one input must be replayed. Files
// named README* are not inputs.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "replay.hpp"

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> inputs_in(const fs::path& path) {
  std::error_code error;
  if (!fs::is_directory(path, error)) return {path};
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(path)) {
    if (entry.is_regular_file() && !entry.path().filename().string().starts_with("README"))
      files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: fuzz_replay NAME FILE_OR_DIRECTORY...\n");
    return 2;
  }
  const auto& targets = wattprint::fuzz::targets();
  const auto target = std::find_if(targets.begin(), targets.end(), [&](const wattprint::fuzz::Target& t) {
    return std::strcmp(t.name, argv[1]) == 0;
  });
  if (target == targets.end()) {
    std::fprintf(stderr, "fuzz_replay: no fuzz target '%s' (see fuzz/CMakeLists.txt)\n", argv[1]);
    return 2;
  }
  std::size_t replayed = 0;
  for (int i = 2; i < argc; ++i) {
    const fs::path path(argv[i]);
    std::error_code error;
    if (!fs::exists(path, error)) {
      std::printf("%s: absent, skipped\n", path.c_str());
      continue;
    }
    for (const fs::path& file : inputs_in(path)) {
      std::ifstream in(file, std::ios::binary);
      if (!in) {
        std::fprintf(stderr, "fuzz_replay: cannot read %s\n", file.c_str());
        return 1;
      }
      const std::vector<char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
      std::printf("%s (%zu bytes)\n", file.c_str(), bytes.size());
      std::fflush(stdout);  // the input is named before a crash in it
      target->run(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
      ++replayed;
    }
  }
  if (replayed == 0) {
    std::fprintf(stderr, "fuzz_replay: no input replayed for '%s'\n", argv[1]);
    return 1;
  }
  std::printf("fuzz_replay %s: %zu inputs replayed without a finding\n", argv[1], replayed);
  return 0;
}
