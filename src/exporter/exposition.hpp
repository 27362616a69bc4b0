// The Prometheus text format 0.0.4 and OpenMetrics 1.0 text format: metric families rendered to text, the
// format chosen from a scraper's Accept header.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wattprint::exporter {

enum class ExpositionFormat { Prometheus004, OpenMetrics100 };

/// The format a scraper asked for: OpenMetrics when its Accept header ranks application/openmetrics-text at
/// least as high as text/plain (quality values honoured), else the Prometheus text format 0.0.4.
ExpositionFormat format_for_accept(std::string_view accept);
/// The Content-Type header of a response in `format`.
const char* content_type(ExpositionFormat format);

/// Gauge, counter, or info (OpenMetrics info; a gauge of value 1 in the Prometheus format).
enum class MetricType { Gauge, Counter, Info };

struct MetricSample {
  std::vector<std::pair<std::string, std::string>> labels;  ///< (name, value), rendered in this order
  double value = 0.0;
};

/// One metric family. `name` is the family name, without the `_total` (counters) or `_info` (info)
/// suffix the samples carry; when `unit` is set the name ends with "_" + unit (OpenMetrics' rule).
struct MetricFamily {
  std::string name;
  MetricType type = MetricType::Gauge;
  std::string unit;
  std::string help;
  std::vector<MetricSample> samples;
};

/// A label value with \ " and newline escaped (both formats).
std::string escape_label_value(std::string_view value);
/// A HELP text escaped for `format` (0.0.4: \ and newline; OpenMetrics: also ").
std::string escape_help(std::string_view help, ExpositionFormat format);
/// A sample value: shortest text that reads back to the same double; +Inf, -Inf, NaN.
std::string format_value(double value);

/// The whole exposition; OpenMetrics ends with "# EOF". Families without samples are still described.
std::string render_metrics(const std::vector<MetricFamily>& families, ExpositionFormat format);

}  // namespace wattprint::exporter
