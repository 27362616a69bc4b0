// The wattprint executable: parses the command line and dispatches to one subcommand.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <exception>
#include <regex>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "platform/credentials.hpp"

#ifndef WATTPRINT_VERSION
#define WATTPRINT_VERSION "0.0.0"
#endif

namespace wattprint::cli {
const char* version() { return WATTPRINT_VERSION; }
}  // namespace wattprint::cli

namespace {

/// The "--" that ends wattprint's own options in `wattprint [OPTIONS] run [OPTIONS] -- COMMAND`: the first
/// one met while scanning options and their values. A "--" after the command's first word belongs to the
/// command (`wattprint run git diff -- file`).
std::vector<std::string>::iterator find_command_separator(std::vector<std::string>& words,
                                                          const CLI::App& run) {
  auto it = std::find(words.begin(), words.end(), "run");
  if (it == words.end()) return std::find(words.begin(), words.end(), "--");
  for (++it; it != words.end(); ++it) {
    if (*it == "--") return it;
    if (it->size() < 2 || (*it)[0] != '-') return words.end();  // the command's first word
    if (it->find('=') != std::string::npos) continue;           // --option=value
    const CLI::Option* option = run.get_option_no_throw(*it);
    if (option != nullptr && option->get_expected_min() > 0 && std::next(it) != words.end())
      ++it;  // its value
  }
  return words.end();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace wattprint::cli;
  wattprint::take_secrets_from_environment();
  CLI::App app{
      "wattprint: how much energy a computation used and how much CO2 that meant, measured where the "
      "hardware "
      "allows, estimated where it does not, and always saying which.",
      "wattprint"};
  app.set_version_flag("--version", std::string("wattprint ") + version());
  app.require_subcommand(1);
  app.footer("See `wattprint COMMAND --help` and the README for the methods and their formulas.");
  std::vector<std::string> command_after_separator;
  const Action run = add_run_command(app, command_after_separator);
  const Action estimate = add_estimate_command(app);
  const Action sensors = add_sensors_command(app);
  const Action idle = add_idle_command(app);
  const Action exporter = add_exporter_command(app);
  const Action demo = add_demo_command(app);
  const Action mark = add_mark_command(app);
  const Action report = add_report_command(app);
  const Action merge = add_merge_command(app);
  const Action runs = add_runs_command(app);
  const Action show = add_show_command(app);
  const Action compare = add_compare_command(app);
  const Action export_runs = add_export_command(app);
  const Action import_runs = add_import_command(app);
  // "wattprint run [OPTIONS] -- COMMAND...": everything after the first "--" is the command, untouched.
  std::vector<std::string> words(argv + 1, argv + argc);
  std::vector<std::string> after_separator;
  const auto separator = find_command_separator(words, *app.get_subcommand("run"));
  if (separator != words.end()) {
    after_separator.assign(separator + 1, words.end());
    command_after_separator = after_separator;
    words.erase(separator, words.end());
  }
  std::reverse(words.begin(), words.end());  // CLI11 takes the arguments last-first
  try {
    app.parse(words);
    if (!after_separator.empty() && app.get_subcommands().size() == 1 &&
        app.get_subcommands().front()->get_name() != "run") {
      throw CLI::ExtrasError(after_separator);
    }
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // An unknown "--option=value" may carry a password typed by mistake: the value is not repeated.
    static const std::regex option_value("(--[A-Za-z0-9_-]+)=\\S*");
    const std::string message = std::regex_replace(e.what(), option_value, "$1=…");
    std::fprintf(stderr, "wattprint: error: %s (see wattprint --help)\n", message.c_str());
    return 2;
  }
  try {
    for (CLI::App* sub : app.get_subcommands()) {
      const std::string name = sub->get_name();
      if (name == "run") return run();
      if (name == "estimate") return estimate();
      if (name == "sensors") return sensors();
      if (name == "idle") return idle();
      if (name == "exporter") return exporter();
      if (name == "demo") return demo();
      if (name == "mark") return mark();
      if (name == "report") return report();
      if (name == "merge") return merge();
      if (name == "runs") return runs();
      if (name == "show") return show();
      if (name == "compare") return compare();
      if (name == "export") return export_runs();
      if (name == "import") return import_runs();
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
