// `wattprint demo`: a short built-in workload (busy threads and some memory) to try `wattprint run` on.
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <thread>
#include <vector>

#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "wattprint_marker.h"

namespace wattprint::cli {

namespace {

struct DemoFlags {
  std::optional<std::string> seconds;
  std::optional<std::string> threads;
  std::optional<std::string> memory_mb;
  std::optional<std::string> epochs;
};

/// Busy threads until `deadline`; returns the sum of their results (so the work cannot be optimised away).
double burn(unsigned thread_count, std::chrono::steady_clock::time_point deadline) {
  std::atomic<double> checksum{0.0};
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < thread_count; ++t) {
    workers.emplace_back([&checksum, deadline, t] {
      double x = 1.0 + t;
      while (std::chrono::steady_clock::now() < deadline) {
        for (int i = 0; i < 100000; ++i) x = std::sqrt(x * x + 1.0) - 0.5;
      }
      double expected = checksum.load();
      while (!checksum.compare_exchange_weak(expected, expected + x)) {
      }
    });
  }
  for (auto& worker : workers) worker.join();
  return checksum.load();
}

int execute(const DemoFlags& flags) {
  const double seconds = flags.seconds ? parse_number("--seconds", *flags.seconds, 0.0, 3600.0) : 3.0;
  const double threads_wanted = flags.threads
                                    ? parse_number("--threads", *flags.threads, 1.0, 1024.0)
                                    : static_cast<double>(std::max(1U, std::thread::hardware_concurrency()));
  const double memory_mb =
      flags.memory_mb ? parse_number("--memory-mb", *flags.memory_mb, 0.0, 1 << 20) : 256.0;
  const auto thread_count = static_cast<unsigned>(threads_wanted);
  const int epochs =
      flags.epochs ? static_cast<int>(parse_number("--epochs", *flags.epochs, 0.0, 1000.0)) : 0;

  std::fputs(
      fmt::format("demo: {} busy thread(s) for {} s, holding {} MB\n", thread_count, seconds, memory_mb)
          .c_str(),
      stdout);
  std::fflush(stdout);
  // Touch every page so the memory is resident.
  std::vector<unsigned char> memory(static_cast<std::size_t>(memory_mb * 1024.0 * 1024.0));
  for (std::size_t i = 0; i < memory.size(); i += 4096) memory[i] = static_cast<unsigned char>(i);

  double checksum = 0.0;
  if (epochs == 0) {
    checksum = burn(thread_count, std::chrono::steady_clock::now() +
                                      std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                          std::chrono::duration<double>(seconds)));
  }
  // Epochs as a training prints them ("Epoch 1/3", for --mark-regex), each with a busy "train" part on every
  // thread and a lighter one-thread "eval" part marked through the C marker library (a no-op outside a run).
  const double epoch_s = epochs > 0 ? seconds / epochs : 0.0;
  for (int e = 1; e <= epochs; ++e) {
    std::fputs(fmt::format("Epoch {}/{}\n", e, epochs).c_str(), stdout);
    std::fflush(stdout);
    // An output line is marked when wattprint reads it, a moment after it was written: a library mark made
    // in the same millisecond could come first and nest the epoch inside "train". A short pause orders them.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    wattprint_phase_begin("train");
    checksum += burn(thread_count, std::chrono::steady_clock::now() +
                                       std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                           std::chrono::duration<double>(0.7 * epoch_s)));
    wattprint_phase_end("train");
    wattprint_phase_begin("eval");
    checksum += burn(
        1, std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                  std::chrono::duration<double>(0.3 * epoch_s)));
    wattprint_phase_end("eval");
  }
  std::fputs(fmt::format("demo: done (checksum {:.3f})\n", checksum).c_str(), stdout);
  return 0;
}

}  // namespace

Action add_demo_command(CLI::App& app) {
  auto flags = std::make_shared<DemoFlags>();
  CLI::App* cmd = app.add_subcommand(
      "demo", "A short built-in workload to try wattprint on: wattprint run -- wattprint demo");
  add_text_option(*cmd, "--seconds", flags->seconds, "How long to run (default 3)")->type_name("S");
  add_text_option(*cmd, "--threads", flags->threads, "Busy threads (default: one per CPU)")->type_name("N");
  add_text_option(*cmd, "--memory-mb", flags->memory_mb, "Memory to hold, in MB (default 256)")
      ->type_name("MB");
  add_text_option(
      *cmd, "--epochs", flags->epochs,
      "Split the time into N epochs printed as \"Epoch i/N\" (for --mark-regex), each with a "
      "\"train\" and an \"eval\" phase marked through the C marker library (default 0: no epochs)")
      ->type_name("N");
  return [flags] { return execute(*flags); };
}

}  // namespace wattprint::cli
