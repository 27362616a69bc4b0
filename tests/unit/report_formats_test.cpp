// The report renderers (src/report/report_formats.hpp): golden files, escaping, reading errors, and the
// properties of the HTML page.
//
// Golden files: tests/golden/report_phases.{md,tex,csv} and report_v1.md are the expected renderings of the
// hand-made fixtures report_phases.json / report_v1.json (written by tests/golden/make_fixture.py), compared
// byte for byte. After an intended change of the output, rewrite them with
//   WATTPRINT_UPDATE_GOLDEN=1 build/tests/report_format_tests --gtest_filter='Golden*'
// and review the diff before committing.
#include "report/report_formats.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>

#include "report/report_view.hpp"
#include "unit/test_dir.hpp"

namespace wattprint {
namespace {

using nlohmann::json;
namespace rv = report_view;

const std::filesystem::path kGolden = WATTPRINT_GOLDEN_DIR;

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

json fixture(const char* name) { return read_report_file(kGolden / name); }

void expect_golden(const std::string& actual, const char* golden_name) {
  const std::filesystem::path path = kGolden / golden_name;
  const char* update = std::getenv("WATTPRINT_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << actual;
    GTEST_SKIP() << "rewrote " << path;
  }
  ASSERT_TRUE(std::filesystem::exists(path)) << path << " is missing: run with WATTPRINT_UPDATE_GOLDEN=1";
  const std::string expected = read_text(path);
  if (actual == expected) return;
  // Point at the first line that differs.
  std::istringstream a(actual);
  std::istringstream e(expected);
  std::string line_a;
  std::string line_e;
  int line = 0;
  while (true) {
    ++line;
    const bool more_a = static_cast<bool>(std::getline(a, line_a));
    const bool more_e = static_cast<bool>(std::getline(e, line_e));
    if (!more_a && !more_e) break;
    if (line_a != line_e || more_a != more_e) {
      ADD_FAILURE() << golden_name << " differs at line " << line << "\n expected: " << line_e
                    << "\n   actual: " << line_a << "\n(WATTPRINT_UPDATE_GOLDEN=1 rewrites the golden files)";
      return;
    }
  }
  ADD_FAILURE() << golden_name << " differs (line endings or trailing bytes)";
}

TEST(GoldenTest, PhasesMarkdown) {
  expect_golden(render_report(fixture("report_phases.json"), ReportFormat::Markdown), "report_phases.md");
}
TEST(GoldenTest, PhasesLatex) {
  expect_golden(render_report(fixture("report_phases.json"), ReportFormat::Latex), "report_phases.tex");
}
TEST(GoldenTest, PhasesCsv) {
  expect_golden(render_report(fixture("report_phases.json"), ReportFormat::Csv), "report_phases.csv");
}
TEST(GoldenTest, SchemaOneMarkdown) {
  expect_golden(render_report(fixture("report_v1.json"), ReportFormat::Markdown), "report_v1.md");
}

// ---- content that the golden files rest on, checked against the fixture's own numbers ----

TEST(MarkdownTest, SaysWhatWasMeasuredAndModelledWithTheSources) {
  const std::string md = render_report(fixture("report_phases.json"), ReportFormat::Markdown);
  EXPECT_NE(
      md.find("We measured the energy of `python train.py` on node07 (2 × Intel(R) Xeon(R) Silver 4110"),
      std::string::npos)
      << md;
  EXPECT_NE(md.find("1 × Tesla T4"), std::string::npos);
  EXPECT_NE(md.find("with wattprint 0.2.0"), std::string::npos);
  EXPECT_NE(md.find("PUE of 1.65 (--pue)"), std::string::npos);
  EXPECT_NE(md.find("57.1 gCO2e/kWh (ADEME 2018, FR)"), std::string::npos);
  EXPECT_NE(md.find("the estimate figure is modelled"), std::string::npos);
  // The whole-run server row: energy_kwh and co2_g from the fixture, formatted.
  const json report = fixture("report_phases.json");
  const double kwh = report["methods"]["server"]["energy_kwh"].get<double>();
  EXPECT_NE(md.find(fmt::format("| server | measured | {:.4f} | {:.4f} | {:.4f} |",
                                report["methods"]["server"]["it_energy_j"].get<double>() / 3.6e6, kwh,
                                report["methods"]["server"]["co2_g"].get<double>())),
            std::string::npos)
      << md;
  // One per-phase row per (name, method) in phase_summary: 3 names × 5 methods.
  std::size_t rows = 0;
  for (const char* name : {"| epoch |", "| train |", "| eval |"}) {
    for (std::size_t at = md.find(name); at != std::string::npos; at = md.find(name, at + 1)) ++rows;
  }
  EXPECT_EQ(rows, 15U);
  EXPECT_NE(md.find("| epoch | gpu | 3 | 10m 03s | 0.0172 ± 1.05e-04 | 0.9815 ± 0.005999 |"),
            std::string::npos)
      << md;
}

TEST(MarkdownTest, UnavailableMethodsShowTheirReasonAndNoPhaseTable) {
  const std::string md = render_report(fixture("report_v1.json"), ReportFormat::Markdown);
  // The table says "unavailable"; the reasons follow it (a long reason would break the table's layout).
  EXPECT_NE(md.find("| server | unavailable (see below) |"), std::string::npos) << md;
  EXPECT_NE(md.find("- `server`: no server power source"), std::string::npos) << md;
  EXPECT_NE(md.find("- `server-minus-idle`: needs the server's energy"), std::string::npos);
  EXPECT_NE(md.find("The server and server-minus-idle methods could not be computed"), std::string::npos);
  EXPECT_EQ(md.find("Per-phase"), std::string::npos);
}

TEST(MarkdownTest, SuspendsAreListedWithTheAssumptions) {
  json report = fixture("report_phases.json");
  report["suspended"] = json::array({{{"at_s", 61.25}, {"duration_s", 1800.0}}});
  const std::string expected = "1800.0 s at t=61.2 s (not counted as running; energy not billed)";
  const std::string md = render_report(report, ReportFormat::Markdown);
  EXPECT_NE(md.find("- **Machine suspended**: " + expected), std::string::npos) << md;
  const std::string tex = render_report(report, ReportFormat::Latex);
  EXPECT_NE(tex.find("\\item \\textbf{Machine suspended}: " + expected), std::string::npos) << tex;
  // Without suspends, no such line.
  EXPECT_EQ(render_report(fixture("report_phases.json"), ReportFormat::Markdown).find("Machine suspended"),
            std::string::npos);
}

TEST(CsvTest, OneRowPerSpanAndMethodWithEmptyCellsForNull) {
  const json report = fixture("report_phases.json");
  const std::string csv = render_report(report, ReportFormat::Csv);
  std::istringstream lines(csv);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "scope,name,index,start_s,end_s,method,kind,available,it_energy_j,energy_kwh,co2_g\r");
  std::size_t run = 0;
  std::size_t phase = 0;
  std::size_t between = 0;
  while (std::getline(lines, line)) {
    ASSERT_FALSE(line.empty());
    EXPECT_EQ(line.back(), '\r') << "RFC 4180 lines end with CRLF";
    if (line.rfind("run,", 0) == 0) ++run;
    if (line.rfind("phase,", 0) == 0) ++phase;
    if (line.rfind("between,", 0) == 0) ++between;
  }
  EXPECT_EQ(run, 5U);
  EXPECT_EQ(phase, 5 * report["phases"].size());
  EXPECT_EQ(between, 5 * report["between_phases"].size());
  EXPECT_NE(csv.find(fmt::format("phase,train,2,{},{},gpu,measured,true,{},{},{}\r\n",
                                 report["phases"][4]["start_s"].get<double>(),
                                 report["phases"][4]["end_s"].get<double>(),
                                 report["phases"][4]["methods"]["gpu"]["it_energy_j"].get<double>(),
                                 report["phases"][4]["methods"]["gpu"]["energy_kwh"].get<double>(),
                                 report["phases"][4]["methods"]["gpu"]["co2_g"].get<double>())),
            std::string::npos)
      << csv;
  const std::string v1 = render_report(fixture("report_v1.json"), ReportFormat::Csv);
  EXPECT_NE(v1.find("run,run,,0,300,server,,false,,,\r\n"), std::string::npos) << v1;
}

TEST(CsvTest, QuotesFieldsWithCommasAndQuotes) {
  json report = fixture("report_phases.json");
  report["phases"][0]["name"] = "warm, \"up\"";
  const std::string csv = render_report(report, ReportFormat::Csv);
  EXPECT_NE(csv.find("phase,\"warm, \"\"up\"\"\",1,"), std::string::npos);
  EXPECT_EQ(rv::csv_field("plain"), "plain");
  EXPECT_EQ(rv::csv_field("a\nb"), "\"a\nb\"");
  EXPECT_EQ(rv::csv_field("x\r"), "\"x\r\"");
}

// ---- escaping ----

TEST(EscapeTest, LatexEscapesEverySpecialCharacter) {
  EXPECT_EQ(rv::latex_escape(R"(a\b)"), R"(a\textbackslash{}b)");
  EXPECT_EQ(rv::latex_escape("_%&#$"), R"(\_\%\&\#\$)");
  EXPECT_EQ(rv::latex_escape("{x}"), R"(\{x\})");
  EXPECT_EQ(rv::latex_escape("~^"), R"(\textasciitilde{}\textasciicircum{})");
  EXPECT_EQ(rv::latex_escape("<>"), R"(\textless{}\textgreater{})");
  EXPECT_EQ(rv::latex_escape("2 × 85 W − 3 ± 1"), R"(2 \texttimes{} 85 W \textminus{} 3 \textpm{} 1)");
  EXPECT_EQ(rv::latex_escape("a\tb\nc"), "a b c");
  EXPECT_EQ(rv::latex_escape("--pue a-b ---"), "-{}-pue a-b -{}-{}-");
  EXPECT_EQ(rv::latex_escape("café"), "café");  // other UTF-8 passes through (inputenc utf8)
  // A command with every special character, through the renderer.
  json report = fixture("report_phases.json");
  report["command"] = {"./run_50%.sh", "--out=$HOME/a_b", "#1", "{x}", "~/y^2", "a&b", R"(c\d)"};
  const std::string tex = render_report(report, ReportFormat::Latex);
  EXPECT_NE(
      tex.find(
          R"(\texttt{./run\_50\%.sh '-{}-out=\$HOME/a\_b' \#1 \{x\} \textasciitilde{}/y\textasciicircum{}2 )"
          R"(a\&b 'c\textbackslash{}d'})"),
      std::string::npos)
      << tex;
}

TEST(EscapeTest, LatexTablesUseBooktabsAndEscapeTheReasons) {
  json report = fixture("report_v1.json");
  report["methods"]["server"]["reason"] = "no BMC at 10.0.0.1 (50% of _tries_ failed) & gave up";
  const std::string tex = render_report(report, ReportFormat::Latex);
  EXPECT_NE(tex.find("\\usepackage{booktabs}"), std::string::npos);
  for (const char* rule : {"\\toprule", "\\midrule", "\\bottomrule", "\\begin{tabular}", "\\begin{table}"}) {
    EXPECT_NE(tex.find(rule), std::string::npos) << rule;
  }
  EXPECT_NE(tex.find(R"(\textit{server}: no BMC at 10.0.0.1 (50\% of \_tries\_ failed) \& gave up)"),
            std::string::npos)
      << tex;
  // Outside comments and commands, no unescaped special character is left in the text of the report.
  EXPECT_EQ(tex.find(" & gave"), std::string::npos);
}

TEST(EscapeTest, HtmlAndMarkdown) {
  EXPECT_EQ(rv::html_escape(R"(<a href="x">'&'</a>)"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(rv::markdown_cell("a|b\\c\nd"), "a\\|b\\\\c d");
}

// ---- reading ----

TEST(ReadReportTest, ReadsBothSchemas) {
  EXPECT_EQ(fixture("report_phases.json")["schema_version"], 2);
  EXPECT_EQ(fixture("report_v1.json")["schema_version"], 1);
}

std::string read_error(const std::filesystem::path& path) {
  try {
    read_report_file(path);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

TEST(ReadReportTest, ErrorsNameTheFileAndTheRemedy) {
  const testing::TestDir dir;
  const std::filesystem::path missing = dir.path() / "missing.json";
  EXPECT_EQ(read_error(missing).rfind("cannot read " + missing.string() + ": No such file or directory", 0),
            0U)
      << read_error(missing);

  const std::filesystem::path broken = dir.path() / "broken.json";
  std::ofstream(broken) << "{\n  \"schema_version\": 2,\n  \"kind\": \"run\",\n  oops\n}\n";
  const std::string not_json = read_error(broken);
  EXPECT_EQ(not_json.rfind(broken.string() + " is not JSON (line 4): ", 0), 0U) << not_json;

  // Found by the report_json fuzz target: a number beyond double's range escaped as nlohmann's out_of_range,
  // which `wattprint import` does not catch (one such file stopped the whole import).
  const std::filesystem::path overflow = dir.path() / "overflow.json";
  std::ofstream(overflow) << R"({"schema_version": 2, "kind": "run", "duration_s": 1e400})";
  EXPECT_EQ(read_error(overflow), overflow.string() +
                                      " cannot be read: number overflow parsing '1e400' (give the file "
                                      "`wattprint run --json FILE` wrote)");

  const std::filesystem::path other = dir.path() / "other.json";
  std::ofstream(other) << R"({"name": "something else"})";
  EXPECT_EQ(read_error(other), other.string() +
                                   " is not a wattprint report (no schema_version/kind): give the file "
                                   "`wattprint run --json FILE` wrote");
  std::ofstream(other, std::ios::trunc) << "[1, 2]";
  EXPECT_NE(read_error(other).find("is not a wattprint report (no schema_version/kind)"), std::string::npos);

  const std::filesystem::path newer = dir.path() / "newer.json";
  std::ofstream(newer) << R"({"schema_version": 3, "kind": "run"})";
  EXPECT_EQ(read_error(newer),
            newer.string() +
                " was written by a newer wattprint (schema_version 3; this one reads up to 2): "
                "upgrade wattprint");
  EXPECT_NE(read_error(dir.path()).find("cannot read"), std::string::npos);
}

TEST(ReadReportTest, ParsesFormatNames) {
  EXPECT_EQ(parse_report_format("md"), ReportFormat::Markdown);
  EXPECT_EQ(parse_report_format("markdown"), ReportFormat::Markdown);
  EXPECT_EQ(parse_report_format("latex"), ReportFormat::Latex);
  EXPECT_EQ(parse_report_format("tex"), ReportFormat::Latex);
  EXPECT_EQ(parse_report_format("html"), ReportFormat::Html);
  EXPECT_EQ(parse_report_format("csv"), ReportFormat::Csv);
  EXPECT_EQ(parse_report_format("pdf"), std::nullopt);
  EXPECT_EQ(parse_report_format(""), std::nullopt);
}

TEST(RenderTest, MissingSectionsAreRenderedNotThrown) {
  const json bare = {{"schema_version", 2}, {"kind", "run"}};
  for (const ReportFormat format :
       {ReportFormat::Markdown, ReportFormat::Latex, ReportFormat::Html, ReportFormat::Csv}) {
    EXPECT_NO_THROW((void)render_report(bare, format));
  }
  json odd = fixture("report_phases.json");
  odd["timeline"]["mean_w"][0] = "not numbers";
  odd["phases"][1]["methods"] = nullptr;
  odd["host"] = 7;
  for (const ReportFormat format :
       {ReportFormat::Markdown, ReportFormat::Latex, ReportFormat::Html, ReportFormat::Csv}) {
    EXPECT_NO_THROW((void)render_report(odd, format));
  }
}

// ---- HTML ----

std::vector<std::string> attribute_values(const std::string& html, const std::string& element,
                                          const std::string& attribute) {
  // A plain scan: std::regex recurses once per character and overflows the stack on a long `points`
  // attribute under AddressSanitizer.
  std::vector<std::string> values;
  const std::string open = "<" + element;
  const std::string key = " " + attribute + "=\"";
  for (std::size_t at = html.find(open); at != std::string::npos; at = html.find(open, at + 1)) {
    const char next = at + open.size() < html.size() ? html[at + open.size()] : '>';
    if (next != ' ' && next != '>' && next != '/' && next != '\n') continue;  // <polyline vs <polylines
    const std::size_t tag_end = html.find('>', at);
    const std::size_t value = html.find(key, at);
    if (value == std::string::npos || value > tag_end) continue;
    const std::size_t begin = value + key.size();
    values.push_back(html.substr(begin, html.find('"', begin) - begin));
  }
  return values;
}

std::size_t point_count(const std::string& points) {
  std::istringstream in(points);
  std::size_t n = 0;
  std::string pair;
  while (in >> pair) ++n;
  return n;
}

TEST(HtmlTest, SelfContainedWithEveryChart) {
  const std::string html = render_report(fixture("report_phases.json"), ReportFormat::Html);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0U);
  const std::regex external(R"((src|href)\s*=\s*["']?\s*(https?:)?//)", std::regex::icase);
  EXPECT_FALSE(std::regex_search(html, external));
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos) << "the charts must draw without a script";
  for (const char* chart : {"power", "phase-kwh", "phase-co2", "components"}) {
    const std::regex svg(std::string("<svg data-chart=\"") + chart + "\" role=\"img\" aria-label=\"[^\"]+\"");
    EXPECT_TRUE(std::regex_search(html, svg)) << chart;
  }
  // Six series: six mean lines; three top-level phases: three bands; 3 epochs × 5 methods bars per chart.
  EXPECT_EQ(attribute_values(html, "polyline", "points").size(), 6U);
  const std::regex band(
      "<rect x=\"[^\"]+\" y=\"[^\"]+\" width=\"[^\"]+\" height=\"[^\"]+\" fill=\"#(e8eef6|f4f1e8)\"");
  EXPECT_EQ(std::distance(std::sregex_iterator(html.begin(), html.end(), band), std::sregex_iterator()), 3);
  const std::regex bar("<rect class=\"bar\"");
  // 2 phase charts × 3 epochs × 5 methods + components: estimate 3 parts, process 3, gpu 1, server 1, smi 1.
  EXPECT_EQ(std::distance(std::sregex_iterator(html.begin(), html.end(), bar), std::sregex_iterator()),
            30 + 9);
  for (const char* section :
       {"id=\"methods\"", "id=\"assumptions\"", "id=\"warnings\"", "id=\"phase-summary\""}) {
    EXPECT_NE(html.find(section), std::string::npos) << section;
  }
  EXPECT_NE(html.find("<dt>tool</dt><dd>wattprint 0.2.0"), std::string::npos);
  EXPECT_NE(html.find("<dt>duration</dt><dd>30m 45s</dd>"), std::string::npos);
}

TEST(HtmlTest, TextIsEscaped) {
  json report = fixture("report_phases.json");
  report["command"] = {"<script>alert(1)</script>", "a&b"};
  report["phases"][0]["label"] = "<b>epoch</b>";
  report["warnings"] = {"<img src=x onerror=alert(2)>"};
  report["host"]["cpu_model"] = "\"><svg onload=alert(3)>";
  const std::string html = render_report(report, ReportFormat::Html);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  EXPECT_EQ(html.find("<svg onload"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt; a&amp;b"), std::string::npos);
  EXPECT_NE(html.find("&lt;b&gt;epoch&lt;/b&gt;"), std::string::npos);
}

TEST(HtmlTest, LongTimelinesAreMergedToAtMostTwoThousandPointsKeepingTheirShape) {
  json report = fixture("report_phases.json");
  constexpr int kBuckets = 100000;
  json starts = json::array();
  json ends = json::array();
  json mean = json::array();
  json low = json::array();
  json high = json::array();
  for (int i = 0; i < kBuckets; ++i) {
    starts.push_back(i * 0.01);
    ends.push_back((i + 1) * 0.01);
    // A step: 100 W in the first half, 300 W in the second; 100 buckets merge into one, none straddles.
    mean.push_back(i < kBuckets / 2 ? 100.0 : 300.0);
    low.push_back(i < kBuckets / 2 ? 90.0 : 290.0);
    high.push_back(i == 12345 ? 400.0 : (i < kBuckets / 2 ? 110.0 : 310.0));
  }
  report["duration_s"] = kBuckets * 0.01;
  report["phases"] = json::array();
  report["timeline"] = {{"series", {{{"name", "server"}, {"component", "server"}, {"kind", "measured"}}}},
                        {"start_s", starts},
                        {"end_s", ends},
                        {"mean_w", {mean}},
                        {"min_w", {low}},
                        {"max_w", {high}},
                        {"cpu_cores", json::array()}};
  const std::string html = render_report(report, ReportFormat::Html);
  const auto lines = attribute_values(html, "polyline", "points");
  ASSERT_EQ(lines.size(), 1U);
  EXPECT_LE(point_count(lines[0]), 2000U);
  EXPECT_GE(point_count(lines[0]), 500U);
  std::set<std::string> ys;
  std::istringstream in(lines[0]);
  std::string pair;
  while (in >> pair) ys.insert(pair.substr(pair.find(',') + 1));
  EXPECT_EQ(ys.size(), 2U) << "the merged means keep the two levels of the step";
  const auto bands = attribute_values(html, "polygon", "points");
  ASSERT_EQ(bands.size(), 1U);
  EXPECT_LE(point_count(bands[0]), 2000U);
  // The one 400 W reading survives the merge as the band's top: the y axis reaches 400.
  EXPECT_NE(html.find(">400</text>"), std::string::npos);
}

TEST(HtmlTest, ManyPhasesShowOneGroupPerNameWithWhiskers) {
  json report = fixture("report_phases.json");
  json phases = json::array();
  for (int i = 0; i < 80; ++i) {
    json p = report["phases"][0];
    p["name"] = i % 2 == 0 ? "train" : "eval";
    p["index"] = i / 2 + 1;
    p["label"] = fmt::format("{} {}", p["name"].get<std::string>(), i / 2 + 1);
    p["start_s"] = i * 10.0;
    p["end_s"] = i * 10.0 + 10.0;
    phases.push_back(p);
  }
  report["phases"] = phases;
  const std::string html = render_report(report, ReportFormat::Html);
  EXPECT_NE(html.find("80 top-level phases: the mean per phase name"), std::string::npos);
  // phase_summary of the fixture has train and eval for all five methods: 2 names × 5 methods per chart.
  const std::regex whisker("<path class=\"whisker\"");
  EXPECT_EQ(std::distance(std::sregex_iterator(html.begin(), html.end(), whisker), std::sregex_iterator()),
            20);
}

TEST(HtmlTest, NoPhasesNoTimeline) {
  const std::string html = render_report(fixture("report_v1.json"), ReportFormat::Html);
  EXPECT_NE(html.find("has no power timeline"), std::string::npos);
  EXPECT_NE(html.find("No phases were marked: the whole run."), std::string::npos);
  EXPECT_NE(html.find("data-chart=\"phase-kwh\""), std::string::npos);
  EXPECT_NE(html.find("data-chart=\"components\""), std::string::npos);
  EXPECT_NE(html.find("server (unavailable)"), std::string::npos);
}

}  // namespace
}  // namespace wattprint

// ---- `wattprint report` through the real binary ----
#ifdef WATTPRINT_BIN
namespace wattprint {
namespace {

struct Result {
  int status = -1;
  std::string out;
};

/// Runs the binary through the shell with stderr merged into stdout.
Result run_wattprint(const std::string& arguments) {
  Result result;
  const std::string command = std::string("'") + WATTPRINT_BIN + "' " + arguments + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.out.append(buffer, n);
  const int status = ::pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

TEST(ReportCommandTest, FormatsFromTheFlagOrTheExtension) {
  const testing::TestDir dir;
  const std::string input = (kGolden / "report_phases.json").string();
  const Result md = run_wattprint("report '" + input + "'");
  EXPECT_EQ(md.status, 0) << md.out;
  EXPECT_EQ(md.out, read_text(kGolden / "report_phases.md"));
  const Result tex = run_wattprint("report '" + input + "' --format latex");
  EXPECT_EQ(tex.status, 0);
  EXPECT_EQ(tex.out, read_text(kGolden / "report_phases.tex"));
  for (const char* name : {"out.html", "out.csv", "out.tex", "out.txt"}) {
    const std::filesystem::path output = dir.path() / name;
    const Result written = run_wattprint("report '" + input + "' --output '" + output.string() + "'");
    EXPECT_EQ(written.status, 0) << written.out;
    EXPECT_EQ(written.out, "") << "nothing on stdout with --output";
    const std::string text = read_text(output);
    const std::string extension = output.extension().string();
    if (extension == ".html") {
      EXPECT_EQ(text.rfind("<!DOCTYPE html>", 0), 0U);
    } else if (extension == ".csv") {
      EXPECT_EQ(text, read_text(kGolden / "report_phases.csv"));
    } else if (extension == ".tex") {
      EXPECT_EQ(text, read_text(kGolden / "report_phases.tex"));
    } else {
      EXPECT_EQ(text, read_text(kGolden / "report_phases.md")) << "an unknown extension gives Markdown";
    }
  }
  // No temporary file is left next to the output.
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 4U);
  // --format wins over the extension.
  const std::filesystem::path csv_named_md = dir.path() / "table.md";
  EXPECT_EQ(run_wattprint("report '" + input + "' -f csv -o '" + csv_named_md.string() + "'").status, 0);
  EXPECT_EQ(read_text(csv_named_md), read_text(kGolden / "report_phases.csv"));
}

TEST(ReportCommandTest, ErrorsAreOneLineWithTheRightStatus) {
  const testing::TestDir dir;
  const std::string input = (kGolden / "report_phases.json").string();
  const Result bad_format = run_wattprint("report '" + input + "' --format pdf");
  EXPECT_EQ(bad_format.status, 2);
  EXPECT_EQ(bad_format.out,
            "wattprint: error: --format: 'pdf' is not a report format (md, latex, html or csv)\n");
  const Result no_input = run_wattprint("report");
  EXPECT_EQ(no_input.status, 2) << no_input.out;
  const std::string missing = (dir.path() / "nope.json").string();
  const Result unreadable = run_wattprint("report '" + missing + "'");
  EXPECT_EQ(unreadable.status, 1);
  EXPECT_EQ(
      unreadable.out.rfind("wattprint: error: cannot read " + missing + ": No such file or directory", 0), 0U)
      << unreadable.out;
  EXPECT_EQ(std::count(unreadable.out.begin(), unreadable.out.end(), '\n'), 1);
  const std::filesystem::path newer = dir.path() / "newer.json";
  std::ofstream(newer) << R"({"schema_version": 9, "kind": "run"})";
  const Result too_new = run_wattprint("report '" + newer.string() + "'");
  EXPECT_EQ(too_new.status, 1);
  EXPECT_NE(too_new.out.find("upgrade wattprint"), std::string::npos);
  const Result no_directory =
      run_wattprint("report '" + input + "' -o '" + (dir.path() / "no/such/dir/x.md").string() + "'");
  EXPECT_EQ(no_directory.status, 1);
  EXPECT_NE(no_directory.out.find("cannot write"), std::string::npos) << no_directory.out;
  const Result help = run_wattprint("report --help");
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("wattprint report run.json --format latex > appendix.tex"), std::string::npos)
      << help.out;
}

}  // namespace
}  // namespace wattprint
#endif  // WATTPRINT_BIN
