// The way back from a report's JSON (docs/report-schema.md, schema 1 and 2) to the RunReport it was written
// from, so that `wattprint show ID` prints a stored or imported run exactly as the summary at the end of the
// run did: render_summary(run_report_from_json(to_json(r))) == render_summary(r).
#pragma once

#include <nlohmann/json.hpp>

#include "report/run_report.hpp"

namespace wattprint {

/// Throws std::runtime_error "report: FIELD: what is wrong" when a field the summary needs has the wrong
/// type; fields that are absent or null read as unknown (as an older schema leaves them).
RunReport run_report_from_json(const nlohmann::json& report);

/// The `job` object of a report (same rules and errors, fields prefixed "job.").
BatchJob batch_job_from_json(const nlohmann::json& job);

}  // namespace wattprint
