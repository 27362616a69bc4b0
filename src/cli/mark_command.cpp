// `wattprint mark [--end] NAME`: marks a phase of the run this process is part of, through the C marker
// library (capi/wattprint_marker.h) and the run's control socket. A mark never fails a training script:
// outside a run, or when the run cannot be reached, it warns and exits 0.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <system_error>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "phases/control_socket.hpp"
#include "phases/phase_mark.hpp"
#include "wattprint_marker.h"

namespace wattprint::cli {

namespace {

struct MarkFlags {
  std::string name;
  bool end = false;
};

int execute(const MarkFlags& flags) {
  if (!valid_phase_name(flags.name)) {
    throw UsageError("invalid phase name '" + flags.name +
                     "': use 1 to 64 characters from A-Z a-z 0-9 _ . : / - (no spaces)");
  }
  const int result =
      flags.end ? wattprint_phase_end(flags.name.c_str()) : wattprint_phase_begin(flags.name.c_str());
  if (result == 0) return 0;
  if (result == 1) {
    std::fprintf(stderr, "wattprint mark: not inside `wattprint run` (%s is not set); nothing marked\n",
                 kControlSocketVariable);
    return 0;
  }
  const char* path = std::getenv(kControlSocketVariable);  // NOLINT(concurrency-mt-unsafe): one thread
  const std::string reason = std::error_code(-result, std::generic_category()).message();
  std::fprintf(stderr,
               "wattprint mark: cannot reach the run's control socket %s (%s): has the run ended? nothing "
               "marked\n",
               path != nullptr ? path : "", reason.c_str());
  return 0;
}

}  // namespace

Action add_mark_command(CLI::App& app) {
  auto flags = std::make_shared<MarkFlags>();
  CLI::App* mark = app.add_subcommand(
      "mark", "Mark where a phase (an epoch, a step, a stage) of the measured command begins or ends.");
  mark->description(
      "Mark where a phase (an epoch, a step, a stage) of the measured command begins or ends, so that the "
      "report of `wattprint run` gives the energy and CO2 of each phase. Run it from anywhere inside the "
      "command (a script, a child, a grandchild): it finds the run through the environment variable "
      "WATTPRINT_CONTROL_SOCKET. A begin of a phase that is still open ends it, so repeating `wattprint mark "
      "epoch` gives consecutive epochs; --end closes the innermost open phase of that name and anything "
      "nested in it; phases still open end with the run. Outside a run it warns and does nothing (exit 0), "
      "so a script never fails because of a mark.");
  mark->add_option("NAME", flags->name, "Phase name: 1 to 64 characters from A-Z a-z 0-9 _ . : / -")
      ->required();
  mark->add_flag("--end", flags->end, "End the phase NAME instead of beginning one");
  mark->footer(
      "Example:\n"
      "  wattprint run -- sh -c 'for e in 1 2 3; do wattprint mark epoch; ./train-one-epoch; done'\n"
      "  wattprint run -- sh -c 'wattprint mark setup; ./prepare; wattprint mark --end setup; ./train'\n"
      "From programs: the C library (wattprint_marker.h) and the Python module (`with "
      "wattprint.phase(\"epoch\"):`); see docs/markers.md.");
  return [flags] { return execute(*flags); };
}

}  // namespace wattprint::cli
