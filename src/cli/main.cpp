// The wattprint executable: parses the command line and dispatches to one subcommand.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string>

#include "cli/commands.hpp"
#include "core/error.hpp"

#ifndef WATTPRINT_VERSION
#define WATTPRINT_VERSION "0.0.0"
#endif

namespace wattprint::cli {
const char* version() { return WATTPRINT_VERSION; }
}  // namespace wattprint::cli

int main(int argc, char** argv) {
  using namespace wattprint::cli;
  CLI::App app{
      "wattprint: how much energy a computation used and how much CO2 that meant, measured where the hardware "
      "allows, estimated where it does not, and always saying which.",
      "wattprint"};
  app.set_version_flag("--version", std::string("wattprint ") + version());
  app.require_subcommand(1);
  app.footer("See `wattprint COMMAND --help` and the README for the methods and their formulas.");
  const Action run = add_run_command(app);
  const Action estimate = add_estimate_command(app);
  const Action sensors = add_sensors_command(app);
  const Action demo = add_demo_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "wattprint: error: %s (see wattprint --help)\n", e.what());
    return 2;
  }
  try {
    for (CLI::App* sub : app.get_subcommands()) {
      const std::string name = sub->get_name();
      if (name == "run") return run();
      if (name == "estimate") return estimate();
      if (name == "sensors") return sensors();
      if (name == "demo") return demo();
    }
  } catch (const wattprint::UsageError& e) {
    std::fprintf(stderr, "wattprint: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wattprint: error: %s\n", e.what());
    return 1;
  }
  return 2;
}
