// The LaTeX compute appendix: the same content as the Markdown one, as a paragraph, booktabs tables and a
// list; every text from the report is escaped.
#include <fmt/format.h>

#include "report/report_view.hpp"

namespace wattprint::report_view {

namespace {

std::string cell(const std::optional<double>& value, std::string (*format)(double)) {
  return value ? format(*value) : "--";
}

std::string mean_sd(const std::optional<double>& mean, const std::optional<double>& sd,
                    std::string (*format)(double)) {
  if (!mean) return "--";
  return sd ? fmt::format("{} $\\pm$ {}", format(*mean), format(*sd)) : format(*mean);
}

}  // namespace

std::string render_latex(const View& v) {
  std::string out;
  const auto line = [&out](const std::string& text) { out += text + '\n'; };
  line(fmt::format("% Compute appendix written by wattprint{} from a run report.",
                   v.tool_version.empty() ? "" : " " + latex_escape(v.tool_version)));
  line("% The tables use booktabs: add \\usepackage{booktabs} to the preamble.");
  // The paragraph is escaped as a whole; the command is then set in \texttt.
  std::string paragraph = latex_escape(paragraph_text(v, false));
  const std::string command = latex_escape(v.command_text);
  if (!command.empty()) {
    if (const auto at = paragraph.find(command); at != std::string::npos) {
      paragraph.replace(at, command.size(), "\\texttt{" + command + "}");
    }
  }
  line(paragraph);
  line("");
  line("\\begin{table}[htbp]");
  line("  \\centering");
  line("  \\caption{Energy and emissions of the computation, per method (energy with PUE " +
       latex_escape(format_number(v.pue)) + ").}");
  line("  \\label{tab:wattprint-methods}");
  line("  \\begin{tabular}{llrrr}");
  line("    \\toprule");
  line(R"(    Method & Kind & IT energy (kWh) & Energy with PUE (kWh) & gCO\textsubscript{2}e \\)");
  line("    \\midrule");
  for (const MethodRow& m : v.run.methods) {
    if (!m.available) {
      line(fmt::format(R"(    {} & \multicolumn{{4}}{{l}}{{unavailable (see below)}} \\)",
                       latex_escape(m.name)));
      continue;
    }
    line(fmt::format("    {} & {} & {} & {} & {} \\\\", latex_escape(m.name), latex_escape(m.kind),
                     m.it_energy_j ? format_kwh_value(*m.it_energy_j / 3.6e6) : "--",
                     cell(m.energy_kwh, format_kwh_value), cell(m.co2_g, format_grams_value)));
  }
  line("    \\bottomrule");
  line("  \\end{tabular}");
  line("\\end{table}");
  std::string reasons;
  for (const MethodRow& m : v.run.methods) {
    if (m.available) continue;
    reasons += fmt::format("{}\\textit{{{}}}: {}", reasons.empty() ? "" : "; ", latex_escape(m.name),
                           latex_escape(m.reason));
  }
  if (!reasons.empty()) {
    line("");
    line("\\noindent Methods not computed on this machine: " + reasons + ".");
  }
  if (!v.summary.empty()) {
    line("");
    line("\\begin{table}[htbp]");
    line("  \\centering");
    line(fmt::format(
        "  \\caption{{Per-phase means over {} marked phases (energy with PUE; $\\pm$ sample standard "
        "deviation).}}",
        v.phases.size()));
    line("  \\label{tab:wattprint-phases}");
    line("  \\begin{tabular}{llrrrr}");
    line("    \\toprule");
    line(R"(    Phase & Method & $n$ & Mean duration & Mean kWh & Mean gCO\textsubscript{2}e \\)");
    line("    \\midrule");
    std::string previous;
    for (const SummaryRow& s : v.summary) {
      if (!previous.empty() && s.phase != previous) line("    \\midrule");
      previous = s.phase;
      line(fmt::format("    {} & {} & {} & {} & {} & {} \\\\", latex_escape(s.phase), latex_escape(s.method),
                       s.count,
                       s.mean_duration_s ? latex_escape(format_duration_text(*s.mean_duration_s)) : "--",
                       mean_sd(s.mean_kwh, s.sd_kwh, format_kwh_value),
                       mean_sd(s.mean_co2_g, s.sd_co2_g, format_grams_value)));
    }
    line("    \\bottomrule");
    line("  \\end{tabular}");
    line("\\end{table}");
  }
  if (!v.nodes.empty()) {
    line("");
    line("\\begin{table}[ht]");
    line("  \\centering");
    line(
        fmt::format("  \\caption{{Per node ({} nodes): IT energy in kWh before PUE, as each node's report "
                    "said.}}",
                    v.nodes.size()));
    line("  \\begin{tabular}{llrrrrrrr}");
    line("    \\toprule");
    std::string header = "    Host & Duration & Exit";
    for (const std::string_view name : kMethodOrder) header += " & " + latex_escape(name);
    line(header + " \\\\");
    line("    \\midrule");
    for (const NodeRow& n : v.nodes) {
      std::string row = fmt::format("    {} & {} & {}", latex_escape(n.host),
                                    latex_escape(format_duration_text(n.duration_s)),
                                    n.exit_code ? std::to_string(*n.exit_code) : "--");
      for (const auto& m : n.methods) row += " & " + latex_escape(node_cell(m));
      line(row + " \\\\");
    }
    line("    \\bottomrule");
    line("  \\end{tabular}");
    line("\\end{table}");
  }
  line("");
  line("\\paragraph{Assumptions.}");
  line("\\begin{itemize}");
  for (const auto& [label, value] : v.assumptions) {
    line(fmt::format("  \\item \\textbf{{{}}}: {}", latex_escape(label), latex_escape(value)));
  }
  line("\\end{itemize}");
  if (!v.warnings.empty()) {
    line("");
    line("\\paragraph{Warnings during the run.}");
    line("\\begin{itemize}");
    for (const std::string& w : v.warnings) line("  \\item " + latex_escape(w));
    line("\\end{itemize}");
  }
  return out;
}

}  // namespace wattprint::report_view
