// The subcommands of the wattprint executable; each registers its flags and returns an exit status.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace wattprint::cli {

/// A subcommand's action, called after parsing; returns the process exit status.
using Action = std::function<int()>;

/// `command_after_separator` holds what followed "--" on the command line (filled before the action runs).
Action add_run_command(CLI::App& app, const std::vector<std::string>& command_after_separator);
Action add_estimate_command(CLI::App& app);
Action add_sensors_command(CLI::App& app);
Action add_demo_command(CLI::App& app);
Action add_idle_command(CLI::App& app);
/// `wattprint exporter`: node and job energy for Prometheus (exporter_command.cpp).
Action add_exporter_command(CLI::App& app);
/// `wattprint mark [--end] NAME`: a phase mark sent to the run's control socket.
Action add_mark_command(CLI::App& app);
/// `wattprint report RUN.json [--format md|latex|html|csv] [--output FILE]`
Action add_report_command(CLI::App& app);
/// `wattprint merge`: one report for a multi-node job (merge_command.cpp).
Action add_merge_command(CLI::App& app);
/// The run history (history_commands.cpp): `runs`, `show ID`, `compare ID...`, `export`, `import FILE...`.
Action add_runs_command(CLI::App& app);
Action add_show_command(CLI::App& app);
Action add_compare_command(CLI::App& app);
Action add_export_command(CLI::App& app);
Action add_import_command(CLI::App& app);

/// Version string of this build.
const char* version();

}  // namespace wattprint::cli
