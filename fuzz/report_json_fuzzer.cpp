// Fuzz target: report JSON as `wattprint report`, `show`, `merge` and `import` read it: the text parsed
// (parse_json_text), the reports in it (one report or an export's runs, reports_of), each turned back into
// a RunReport and its summary (`show`), rendered in every format (`report`), and merged with itself
// (`merge`). Each step may reject the input with std::runtime_error (one line naming what is wrong); any
// other exception is a finding.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "fuzz_input.hpp"
#include "merge/merge_reports.hpp"
#include "report/report_formats.hpp"
#include "report/report_from_json.hpp"
#include "report/summary_text.hpp"

namespace {

void read_back(const nlohmann::json& report) {
  try {
    static_cast<void>(wattprint::render_summary(wattprint::run_report_from_json(report)));
  } catch (const std::runtime_error&) {
  }
  for (const auto format : {wattprint::ReportFormat::Markdown, wattprint::ReportFormat::Latex,
                            wattprint::ReportFormat::Html, wattprint::ReportFormat::Csv}) {
    static_cast<void>(wattprint::render_report(report, format));
  }
  try {
    const std::vector<wattprint::NodeReport> nodes{{"a.json", report}, {"b.json", report}};
    static_cast<void>(wattprint::merge_node_reports(nodes, wattprint::MergeFootprint{}));
  } catch (const std::runtime_error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<nlohmann::json> reports;
  try {
    reports = wattprint::reports_of(
        wattprint::parse_json_text(wattprint::fuzz::as_text(data, size), "fuzz.json"), "fuzz.json");
  } catch (const std::runtime_error&) {
    return 0;
  }
  for (const nlohmann::json& report : reports) read_back(report);
  return 0;
}
