// The human summary printed on stderr at the end of a run or an estimate.
#pragma once

#include <string>

#include "report/run_report.hpp"

namespace wattprint {

/// A readable table: duration, CPU time, each method's IT energy, energy with PUE (kWh), gCO2e and whether
/// it is measured or modelled; PUE and carbon intensity with their sources; sensors not usable, with
/// remedies.
std::string render_summary(const RunReport& report);

/// One line on the batch job a run was part of: `slurm 4242.0 "train" user alice, task 0 of 8 on n01
/// (nodes n01,n02)` (the parts the scheduler gave; array jobs as "array 4200_3"; the job's GPUs when
/// the scheduler listed them).
std::string job_description(const BatchJob& job, const std::string& hostname);

/// "1h 02m 03s", "4.2 s"
std::string format_duration(double seconds);

/// The warning about one suspend of the machine during a run (said on stderr and kept in the report).
std::string suspend_warning(const SuspendSpan& span);

/// kWh with enough digits to be read for short runs ("0.3279", "0.000123", "1.2e-08").
std::string format_kwh(double kwh);

}  // namespace wattprint
