// The Markdown compute appendix: a paragraph, the methods table, per-phase means, the assumptions.
#include <fmt/format.h>

#include "report/report_view.hpp"

namespace wattprint::report_view {

namespace {

std::string or_dash(const std::optional<double>& value, std::string (*format)(double)) {
  return value ? format(*value) : "–";
}

std::string mean_sd(const std::optional<double>& mean, const std::optional<double>& sd,
                    std::string (*format)(double)) {
  if (!mean) return "–";
  return sd ? fmt::format("{} ± {}", format(*mean), format(*sd)) : format(*mean);
}

std::string kwh(double joules) { return format_kwh_value(joules / 3.6e6); }

}  // namespace

std::string render_markdown(const View& v) {
  std::string out;
  const auto line = [&out](const std::string& text) { out += text + '\n'; };
  line("## Energy and emissions of the computation");
  line("");
  line(paragraph_text(v, true));
  line("");
  line("| Method | Kind | IT energy (kWh) | Energy with PUE (kWh) | gCO2e |");
  line("| --- | --- | ---: | ---: | ---: |");
  for (const MethodRow& m : v.run.methods) {
    if (!m.available) {
      line(fmt::format("| {} | unavailable (see below) | – | – | – |", markdown_cell(m.name)));
      continue;
    }
    line(fmt::format("| {} | {} | {} | {} | {} |", markdown_cell(m.name), markdown_cell(m.kind),
                     m.it_energy_j ? kwh(*m.it_energy_j) : "–", or_dash(m.energy_kwh, format_kwh_value),
                     or_dash(m.co2_g, format_grams_value)));
  }
  bool reasons_header = false;
  for (const MethodRow& m : v.run.methods) {
    if (m.available) continue;
    if (!reasons_header) {
      line("");
      line("Methods not computed on this machine:");
      line("");
      reasons_header = true;
    }
    line(fmt::format("- `{}`: {}", m.name, markdown_cell(m.reason)));
  }
  if (!v.summary.empty()) {
    line("");
    line(fmt::format("Per-phase means ({} phases marked; energy with PUE; ± sample standard deviation):",
                     v.phases.size()));
    line("");
    line("| Phase | Method | n | Mean duration | Mean kWh ± sd | Mean gCO2e ± sd |");
    line("| --- | --- | ---: | ---: | ---: | ---: |");
    for (const SummaryRow& s : v.summary) {
      line(fmt::format("| {} | {} | {} | {} | {} | {} |", markdown_cell(s.phase), markdown_cell(s.method),
                       s.count, s.mean_duration_s ? format_duration_text(*s.mean_duration_s) : "–",
                       mean_sd(s.mean_kwh, s.sd_kwh, format_kwh_value),
                       mean_sd(s.mean_co2_g, s.sd_co2_g, format_grams_value)));
    }
  } else if (!v.phases.empty()) {
    line("");
    line(fmt::format("{} phases were marked; no per-phase summary in this report.", v.phases.size()));
  }
  line("");
  line("Assumptions:");
  line("");
  for (const auto& [label, value] : v.assumptions) line(fmt::format("- **{}**: {}", label, value));
  if (!v.warnings.empty()) {
    line("");
    line("Warnings during the run:");
    line("");
    for (const std::string& w : v.warnings) line("- " + w);
  }
  return out;
}

std::string paragraph_text(const View& v, bool markdown) {
  std::string command = v.command_text;
  if (markdown) {
    const std::string fence = command.find('`') == std::string::npos ? "`" : "`` ";
    const std::string close = fence == "`" ? "`" : " ``";
    command = fence + command + close;
  }
  std::string text;
  std::string on;
  if (!v.hostname.empty() && !v.hardware.empty()) {
    on = fmt::format(" on {} ({})", v.hostname, v.hardware);
  } else if (!v.hostname.empty() || !v.hardware.empty()) {
    on = " on " + v.hostname + v.hardware;
  }
  const std::string tool = v.tool_version.empty() ? "wattprint" : "wattprint " + v.tool_version;
  if (v.kind == "estimate") {
    text = fmt::format("We estimated the energy of a computation of {}{} with {} (Green Algorithms model).",
                       format_duration_text(v.duration_s), on, tool);
  } else {
    text = fmt::format("We measured the energy of {}{} over {}{} with {}.", command, on,
                       format_duration_text(v.duration_s),
                       v.started_at.empty() ? "" : fmt::format(" (started {})", v.started_at), tool);
  }
  if (!v.job.empty()) {
    text += fmt::format(" The run was part of batch job {}", v.job);
    text += v.job_attribution.empty()
                ? "."
                : fmt::format("; energy was attributed through the {}.", v.job_attribution);
  }
  const auto names = [](const std::vector<std::string>& list) {
    std::string joined;
    for (std::size_t i = 0; i < list.size(); ++i) {
      joined += i == 0 ? "" : (i + 1 == list.size() ? " and " : ", ");
      joined += list[i];
    }
    return joined;
  };
  if (!v.measured_methods.empty()) {
    text +=
        fmt::format(" The {} figure{} {} measured", names(v.measured_methods),
                    v.measured_methods.size() > 1 ? "s" : "", v.measured_methods.size() > 1 ? "are" : "is");
    text += v.modelled_methods.empty()
                ? "."
                : fmt::format("; the {} figure{} {} modelled.", names(v.modelled_methods),
                              v.modelled_methods.size() > 1 ? "s" : "",
                              v.modelled_methods.size() > 1 ? "are" : "is");
  } else if (!v.modelled_methods.empty()) {
    text += fmt::format(" The {} figure{} modelled, not measured.", names(v.modelled_methods),
                        v.modelled_methods.size() > 1 ? "s are" : " is");
  }
  if (!v.unavailable_methods.empty()) {
    text += fmt::format(" The {} method{} could not be computed on this machine (reasons below).",
                        names(v.unavailable_methods), v.unavailable_methods.size() > 1 ? "s" : "");
  }
  text += v.pue == 1.0
              ? fmt::format(" Energies are IT equipment only (PUE 1.0, {})", v.pue_source)
              : fmt::format(" Energies include a PUE of {} ({})", format_number(v.pue), v.pue_source);
  if (v.carbon_g_per_kwh) {
    text += fmt::format("; emissions use a carbon intensity of {} gCO2e/kWh{}.",
                        format_number(*v.carbon_g_per_kwh),
                        v.carbon_source.empty() ? "" : fmt::format(" ({})", v.carbon_source));
  } else {
    text += ".";
  }
  return text;
}

}  // namespace wattprint::report_view
