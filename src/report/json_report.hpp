// The JSON report (schema_version 1): a stable contract, documented in docs/report-schema.md.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>

#include "report/run_report.hpp"

namespace wattprint {

nlohmann::json to_json(const RunReport& report);

/// Writes the report atomically (temporary file, then rename), so a reader never sees half a report.
/// Throws std::runtime_error with the path and the reason on failure.
void write_json_report(const RunReport& report, const std::filesystem::path& path);

}  // namespace wattprint
