// Text exposition of metric families (Prometheus 0.0.4 and OpenMetrics 1.0).
#include "exporter/exposition.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <string>

namespace wattprint::exporter {

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())) != 0) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) text.remove_suffix(1);
  return text;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// The q parameter of one media range (1 when absent or malformed).
double quality(std::string_view parameters) {
  double q = 1.0;
  while (!parameters.empty()) {
    const std::size_t semicolon = parameters.find(';');
    const std::string_view parameter = trim(parameters.substr(0, semicolon));
    parameters = semicolon == std::string_view::npos ? std::string_view{} : parameters.substr(semicolon + 1);
    if (parameter.size() > 2 && (parameter[0] == 'q' || parameter[0] == 'Q') && parameter[1] == '=') {
      const std::string value(parameter.substr(2));
      char* end = nullptr;
      const double parsed = std::strtod(value.c_str(), &end);
      if (end != value.c_str() && parsed >= 0.0 && parsed <= 1.0) q = parsed;
    }
  }
  return q;
}

std::string sample_name(const MetricFamily& family) {
  switch (family.type) {
    case MetricType::Counter:
      return family.name + "_total";
    case MetricType::Info:
      return family.name + "_info";
    case MetricType::Gauge:
      break;
  }
  return family.name;
}

const char* type_text(MetricType type, ExpositionFormat format) {
  switch (type) {
    case MetricType::Counter:
      return "counter";
    case MetricType::Info:
      return format == ExpositionFormat::OpenMetrics100 ? "info" : "gauge";
    case MetricType::Gauge:
      break;
  }
  return "gauge";
}

}  // namespace

ExpositionFormat format_for_accept(std::string_view accept) {
  double openmetrics_q = -1.0;
  double text_q = -1.0;
  while (!accept.empty()) {
    const std::size_t comma = accept.find(',');
    const std::string_view range = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view{} : accept.substr(comma + 1);
    const std::size_t semicolon = range.find(';');
    const std::string type = lower(trim(range.substr(0, semicolon)));
    const double q =
        quality(semicolon == std::string_view::npos ? std::string_view{} : range.substr(semicolon + 1));
    if (type == "application/openmetrics-text") openmetrics_q = std::max(openmetrics_q, q);
    if (type == "text/plain" || type == "text/*" || type == "*/*") text_q = std::max(text_q, q);
  }
  return openmetrics_q > 0.0 && openmetrics_q >= text_q ? ExpositionFormat::OpenMetrics100
                                                        : ExpositionFormat::Prometheus004;
}

const char* content_type(ExpositionFormat format) {
  return format == ExpositionFormat::OpenMetrics100
             ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
             : "text/plain; version=0.0.4; charset=utf-8";
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view help, ExpositionFormat format) {
  std::string out;
  out.reserve(help.size());
  for (const char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && format == ExpositionFormat::OpenMetrics100) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", value);
}

std::string render_metrics(const std::vector<MetricFamily>& families, ExpositionFormat format) {
  const bool openmetrics = format == ExpositionFormat::OpenMetrics100;
  std::string out;
  for (const MetricFamily& family : families) {
    const std::string described = openmetrics ? family.name : sample_name(family);
    out += fmt::format("# HELP {} {}\n", described, escape_help(family.help, format));
    out += fmt::format("# TYPE {} {}\n", described, type_text(family.type, format));
    if (openmetrics && !family.unit.empty()) out += fmt::format("# UNIT {} {}\n", described, family.unit);
    const std::string name = sample_name(family);
    for (const MetricSample& sample : family.samples) {
      out += name;
      if (!sample.labels.empty()) {
        out += '{';
        bool first = true;
        for (const auto& [label, value] : sample.labels) {
          if (!first) out += ',';
          first = false;
          out += fmt::format("{}=\"{}\"", label, escape_label_value(value));
        }
        out += '}';
      }
      out += ' ';
      out += format_value(sample.value);
      out += '\n';
    }
  }
  if (openmetrics) out += "# EOF\n";
  return out;
}

}  // namespace wattprint::exporter
