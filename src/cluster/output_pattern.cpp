// Output file names with placeholders, so that every node and task of a job writes its own report.
#include <fmt/format.h>
#include <unistd.h>

#include "cluster/batch_job.hpp"
#include "core/error.hpp"

namespace wattprint {

namespace {

constexpr const char* kPlaceholders =
    "%h short host name, %H full host name, %j job id, %s step id, %t task rank, %n local rank, "
    "%p wattprint's pid, %% a percent sign";

std::string rank_text(const std::optional<int>& rank) { return rank ? std::to_string(*rank) : "norank"; }

}  // namespace

std::string expand_output_pattern(const std::string& pattern, const std::optional<BatchJob>& job,
                                  const std::string& full_hostname) {
  std::string expanded;
  expanded.reserve(pattern.size());
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%') {
      expanded += pattern[i];
      continue;
    }
    if (i + 1 == pattern.size()) {
      throw UsageError(
          fmt::format("'{}' ends with a lone '%': write %% for a percent sign (placeholders: {})", pattern,
                      kPlaceholders));
    }
    const char placeholder = pattern[++i];
    switch (placeholder) {
      case 'h':
        expanded += full_hostname.substr(0, full_hostname.find('.'));
        break;
      case 'H':
        expanded += full_hostname;
        break;
      case 'j':
        expanded += job && !job->job_id.empty() ? job->job_id : "nojob";
        break;
      case 's':
        expanded += job && !job->step_id.empty() ? job->step_id : "nostep";
        break;
      case 't':
        expanded += rank_text(job ? job->task_rank : std::nullopt);
        break;
      case 'n':
        expanded += rank_text(job ? job->local_rank : std::nullopt);
        break;
      case 'p':
        expanded += std::to_string(::getpid());
        break;
      case '%':
        expanded += '%';
        break;
      default:
        throw UsageError(fmt::format("'{}': unknown placeholder %{} (placeholders: {})", pattern, placeholder,
                                     kPlaceholders));
    }
  }
  return expanded;
}

}  // namespace wattprint
