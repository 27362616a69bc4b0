// CSV: one row per (span, method): the whole run, each phase, each gap between top-level phases.
#include <fmt/format.h>

#include "report/report_view.hpp"

namespace wattprint::report_view {

std::string render_csv_rows(const View& v, std::string_view leading) {
  std::string out;
  const auto cell = [](const std::optional<double>& value) {
    return value ? format_number(*value) : std::string();
  };
  const auto rows = [&](const char* scope, const Span& span, const std::string& index) {
    for (const MethodRow& m : span.methods) {
      out += fmt::format("{}{},{},{},{},{},{},{},{},{},{},{}\r\n", leading, scope, csv_field(span.name),
                         index, format_number(span.start_s), format_number(span.end_s), csv_field(m.name),
                         csv_field(m.kind), m.available ? "true" : "false", cell(m.it_energy_j),
                         cell(m.energy_kwh), cell(m.co2_g));
    }
  };
  rows("run", v.run, "");
  for (const Span& p : v.phases) rows("phase", p, p.index ? fmt::format("{}", *p.index) : "");
  for (std::size_t i = 0; i < v.between.size(); ++i) rows("between", v.between[i], fmt::format("{}", i + 1));
  return out;
}

std::string render_csv(const View& v) { return std::string(kCsvHeader) + "\r\n" + render_csv_rows(v, ""); }

}  // namespace wattprint::report_view
