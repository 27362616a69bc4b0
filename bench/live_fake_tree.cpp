// wattprint_live_fake_tree LINK [TICK_MS]: builds a live fake powercap sysfs tree (2 sockets: package, core
// and dram zones each) in a fresh temporary directory, makes LINK a symbolic link to it (pass LINK as
// `wattprint run --sysfs-root`), prints the real root on stdout, and keeps the counters advancing every
// TICK_MS milliseconds (default 5; real RAPL counters move about every 1 ms) until SIGTERM or SIGINT; then
// removes the tree and the link.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <system_error>

#include "fakes/fake_powercap.hpp"
#include "two_socket_zones.hpp"

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: %s LINK [TICK_MS]\n", argv[0]);
    return 2;
  }
  const fs::path link = argv[1];
  long tick_ms = 5;
  if (argc == 3) {
    char* end = nullptr;
    tick_ms = std::strtol(argv[2], &end, 10);
    if (end == argv[2] || *end != '\0' || tick_ms < 1 || tick_ms > 1000) {
      std::fprintf(stderr, "%s: TICK_MS must be an integer from 1 to 1000\n", argv[0]);
      return 2;
    }
  }

  // Block the stop signals before the update thread exists, so that it inherits the mask and only
  // sigwait() below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  if (pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr) != 0) {
    std::perror("pthread_sigmask");
    return 1;
  }

  try {
    wattprint::testing::FakePowercapTree tree(wattprint::bench::two_socket_zones());
    std::error_code ec;
    fs::create_directory_symlink(tree.sysfs_root(), link, ec);
    if (ec) {
      std::fprintf(stderr, "%s: cannot create the link %s: %s\n", argv[0], link.c_str(),
                   ec.message().c_str());
      return 1;
    }
    tree.start(std::chrono::milliseconds(tick_ms));
    std::printf("%s\n", tree.sysfs_root().c_str());
    std::fflush(stdout);

    int received = 0;
    sigwait(&stop_signals, &received);
    tree.stop();
    fs::remove(link, ec);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", argv[0], e.what());
    return 1;
  }
  return 0;
}
