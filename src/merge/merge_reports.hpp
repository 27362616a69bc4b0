// `wattprint merge`: one report for a multi-node job, summed from the report each node wrote
// (docs/clusters.md).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "footprint/carbon_intensity.hpp"
#include "report/run_report.hpp"

namespace wattprint {

/// One node's report, as read from its file.
struct NodeReport {
  std::string source;   ///< the file it came from (named in warnings and kept in `nodes`)
  nlohmann::json json;  ///< the report (checked with check_report)
};

/// What the user gave to recompute the footprint when the nodes' reports disagree (--pue, --country...).
struct MergeFootprint {
  std::optional<double> pue;
  std::string pue_source;
  std::optional<CarbonIntensity> carbon_intensity;
};

/// Sums the nodes' runs into one report of kind "merged" (rules in docs/clusters.md):
/// - each method is summed over the nodes (IT energy and each component); it is measured only when measured
///   on every node, otherwise "modelled" with a basis that says which nodes were measured and which modelled;
///   a method unavailable on any node is unavailable for the whole job, the reason naming those nodes;
/// - duration is the wall span from the earliest start to the latest end, CPU time the sum;
/// - phases are merged by their path ("epoch 3"), only those every node has (the others are named in a
///   warning); time between phases and the power timeline are left out (the nodes' clocks differ);
/// - every node's warnings are kept, prefixed with its host;
/// - the same run given twice (same run_id) is counted once, with a warning; different job ids warn.
/// Throws UsageError (one line, with the remedy) when there is no report, when a report is not a run, or when
/// the nodes used different PUEs or grid intensities and `footprint` does not set them.
RunReport merge_node_reports(const std::vector<NodeReport>& nodes, const MergeFootprint& footprint);

}  // namespace wattprint
