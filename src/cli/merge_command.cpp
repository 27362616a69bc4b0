// `wattprint merge`: one report for a multi-node job from the report each node wrote (docs/clusters.md).
#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "core/error.hpp"
#include "merge/merge_reports.hpp"
#include "platform/text_file.hpp"
#include "report/json_report.hpp"
#include "report/report_formats.hpp"
#include "report/summary_text.hpp"

namespace wattprint::cli {

namespace {

struct MergeFlags {
  std::vector<std::string> inputs;
  std::optional<std::string> json_path;
  std::optional<std::string> format;
  std::optional<std::string> output;
  FootprintFlags footprint;
};

void write_text(const std::optional<std::string>& path, const std::string& text) {
  if (path) {
    write_file_atomically(*path, text);
    return;
  }
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
    throw std::runtime_error(fmt::format("cannot write to standard output: {}", std::strerror(errno)));
  }
}

int execute(const MergeFlags& flags) {
  std::optional<ReportFormat> format;
  if (flags.format && *flags.format != "text") {
    format = parse_report_format(*flags.format);
    if (!format) {
      throw UsageError(
          fmt::format("--format: '{}' is not a format (text, md, latex, html or csv)", *flags.format));
    }
  }
  if (flags.json_path) check_writable_path("--json", *flags.json_path);
  if (flags.output) check_writable_path("--output", *flags.output);
  // Only what is given here overrides the nodes' footprint: a configuration file does not silently.
  MergeFootprint override;
  if (flags.footprint.pue || flags.footprint.carbon_intensity || flags.footprint.country) {
    const Footprint given = resolve_footprint(flags.footprint, ConfigValues{});
    if (flags.footprint.pue) {
      override.pue = given.pue;
      override.pue_source = given.pue_source + " (wattprint merge)";
    }
    if (flags.footprint.carbon_intensity || flags.footprint.country) {
      override.carbon_intensity = given.carbon_intensity;
    }
  }
  std::vector<NodeReport> nodes;
  for (const std::string& input : flags.inputs) {
    try {
      nodes.push_back({input, read_report_file(input)});
    } catch (const std::exception& e) {
      throw UsageError(fmt::format("merge: {}", e.what()));
    }
  }
  const RunReport merged = merge_node_reports(nodes, override);
  for (const std::string& warning : merged.warnings) {
    if (warning.rfind("merge: ", 0) == 0)
      std::fprintf(stderr, "wattprint: warning: %s\n", warning.c_str() + 7);
  }
  const nlohmann::json json = to_json(merged);
  if (flags.json_path) {
    write_file_atomically(*flags.json_path, json.dump(2) + "\n");
    std::fprintf(stderr, "wattprint: merged report of %zu nodes written to %s\n", merged.nodes.size(),
                 flags.json_path->c_str());
  }
  if (format) {
    write_text(flags.output, render_report(json, *format));
  } else if (flags.output || flags.format || !flags.json_path) {
    write_text(flags.output, render_summary(merged));
  }
  return 0;
}

}  // namespace

Action add_merge_command(CLI::App& app) {
  auto flags = std::make_shared<MergeFlags>();
  CLI::App* cmd = app.add_subcommand(
      "merge",
      "Merge the reports of a multi-node job (one per node, from `srun wattprint run --json 'report-%h.json' "
      "-- CMD`) into one: each method summed over the nodes, with the per-node detail kept.\n"
      "  wattprint merge report-*.json --json job.json\n"
      "  wattprint merge report-*.json --format md --output job.md\n"
      "  wattprint report job.json --format html --output job.html");
  cmd->add_option("REPORT", flags->inputs, "The nodes' JSON reports (one per node)")
      ->required()
      ->type_name("FILE...");
  cmd->add_option("--json", flags->json_path, "Write the merged report as JSON to FILE (kind \"merged\")")
      ->type_name("FILE");
  cmd->add_option(
         "--format,-f", flags->format,
         "text (the summary, default), md, latex, html or csv; printed on standard output or --output")
      ->type_name("FORMAT");
  cmd->add_option("--output,-o", flags->output,
                  "Write the rendered report to FILE instead of standard output")
      ->type_name("FILE");
  const std::string footprint_group = "Footprint (when the nodes' reports disagree)";
  cmd->add_option_function<std::string>(
         "--pue", [flags](const std::string& v) { flags->footprint.pue = v; },
         "Use this PUE for the whole job (needed when the nodes' reports used different ones)")
      ->type_name("P")
      ->group(footprint_group);
  cmd->add_option_function<std::string>(
         "--country", [flags](const std::string& v) { flags->footprint.country = v; },
         "Use this country's grid intensity for the whole job, e.g. FR (needed when the reports differ)")
      ->type_name("CODE")
      ->group(footprint_group);
  cmd->add_option_function<std::string>(
         "--carbon-intensity", [flags](const std::string& v) { flags->footprint.carbon_intensity = v; },
         "Use this grid intensity in gCO2/kWh for the whole job")
      ->type_name("G")
      ->group(footprint_group);
  cmd->footer(
      "A method is summed only where every node has it (else it is unavailable for the job, naming the "
      "nodes); a sum with a modelled part is modelled. Duration: from the first node's start to the last "
      "one's end. Phases: those every node has. The same run given twice counts once. See docs/clusters.md.");
  return [flags] { return execute(*flags); };
}

}  // namespace wattprint::cli
