// `wattprint compare` (src/compare/run_comparison.hpp): the model against the fixtures' own numbers, the
// notes, the text (golden files and alignment) and the HTML page's properties.
//
// Fixtures: tests/golden/compare/{t4,rtx6000,rtx6000_crash}.json
// (tests/golden/compare/make_compare_fixtures.py: the ResNet run of report_phases.json on a Tesla T4; the
// same on a Quadro RTX 6000 with each method's kWh and gCO2e × estimate 1.25, process 0.8, gpu 1.5, server
// 0.9, server-minus-idle 0.85; the RTX 6000 run that crashed in epoch 3, with PUE 1.2, 300 gCO2e/kWh and its
// gpu method modelled). The golden text files tests/golden/compare_two_runs.txt and compare_by_epoch.txt are
// compared byte for byte; after an intended change of the output, rewrite them with
//   WATTPRINT_UPDATE_GOLDEN=1 build/tests/compare_tests --gtest_filter='CompareGolden*'
// and review the diff before committing.
//
// With WATTPRINT_COMPARE_HTML_DIR set, CompareHtml.WritePagesForBrowser writes the pages that
// tests/browser/compare_browser_test.py opens in chromium.
#include "compare/run_comparison.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>

#include "compare/comparison_format.hpp"
#include "report/report_view.hpp"

namespace wattprint {
namespace {

using nlohmann::json;

const std::filesystem::path kGolden = WATTPRINT_GOLDEN_DIR;

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

json fixture(const std::string& name) { return json::parse(read_text(kGolden / name)); }

ComparedRun run(std::int64_t id, const std::string& name) {
  return {.id = id, .report = fixture("compare/" + name)};
}

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
  std::istringstream a(actual);
  std::istringstream e(expected);
  std::string line_a;
  std::string line_e;
  for (int line = 1;; ++line) {
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

const Comparison::Row& row(const Comparison& c, const std::string& scope, const std::string& method) {
  const auto it = std::find_if(c.rows.begin(), c.rows.end(), [&](const Comparison::Row& r) {
    return r.scope == scope && r.method == method;
  });
  if (it == c.rows.end()) throw std::runtime_error("no row " + scope + " / " + method);
  return *it;
}

bool has_row(const Comparison& c, const std::string& scope, const std::string& method) {
  return std::any_of(c.rows.begin(), c.rows.end(),
                     [&](const Comparison::Row& r) { return r.scope == scope && r.method == method; });
}

bool has_note(const Comparison& c, const std::string& part) {
  return std::any_of(c.notes.begin(), c.notes.end(),
                     [&](const std::string& n) { return n.find(part) != std::string::npos; });
}

std::string notes_text(const Comparison& c) {
  std::string out;
  for (const auto& n : c.notes) out += n + "\n";
  return out;
}

// ---- the model ----

TEST(CompareModel, WholeRunValuesAndRatiosAreTheFixturesNumbers) {
  const Comparison c = make_comparison({run(12, "t4.json"), run(13, "rtx6000.json")}, {});
  ASSERT_EQ(c.runs.size(), 2U);
  EXPECT_EQ(c.runs[0].label, "#1");
  EXPECT_EQ(c.runs[1].label, "#2");
  EXPECT_EQ(c.runs[0].id, 12);
  EXPECT_EQ(c.runs[1].hostname, "node12");
  EXPECT_EQ(c.runs[0].tags_text, "gpu=t4 model=resnet50");
  EXPECT_EQ(c.runs[1].tags_text, "gpu=rtx6000 model=resnet50");
  EXPECT_EQ(c.runs[0].pue, 1.65);
  EXPECT_EQ(c.runs[0].carbon_g_per_kwh, 57.1);
  EXPECT_EQ(c.runs[0].carbon_source, "ADEME 2018, FR");
  EXPECT_EQ(c.runs[1].exit_code, 0);
  EXPECT_DOUBLE_EQ(c.runs[1].duration_s, 1383.375);  // 1844.5 × 0.75
  EXPECT_NE(c.runs[1].hardware.find("1 × Quadro RTX 6000"), std::string::npos) << c.runs[1].hardware;

  // The five methods, in order, first.
  const char* methods[] = {"estimate", "process", "gpu", "server", "server-minus-idle"};
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(c.rows[i].scope, "run");
    EXPECT_EQ(c.rows[i].method, methods[i]);
  }
  // t4.json and rtx6000.json: methods.gpu.energy_kwh / co2_g.
  const Comparison::Row& gpu = row(c, "run", "gpu");
  ASSERT_EQ(gpu.cells.size(), 2U);
  EXPECT_EQ(gpu.cells[0].energy_kwh, 0.05203686285);
  EXPECT_EQ(gpu.cells[1].energy_kwh, 0.0780552943);
  EXPECT_EQ(gpu.cells[0].co2_g, 2.971304869);
  EXPECT_EQ(gpu.cells[1].co2_g, 4.4569573035);
  EXPECT_EQ(gpu.cells[0].kind, "measured");
  EXPECT_DOUBLE_EQ(*gpu.cells[0].ratio_kwh, 1.0);
  EXPECT_DOUBLE_EQ(*gpu.cells[1].ratio_kwh, 0.0780552943 / 0.05203686285);
  EXPECT_NEAR(*gpu.cells[1].ratio_kwh, 1.5, 1e-9);
  EXPECT_DOUBLE_EQ(*gpu.cells[1].ratio_co2, 4.4569573035 / 2.971304869);
  const Comparison::Row& process = row(c, "run", "process");
  EXPECT_DOUBLE_EQ(*process.cells[1].ratio_kwh, 0.1492087306 / 0.1865109132);
  EXPECT_NEAR(*process.cells[1].ratio_kwh, 0.8, 1e-9);
  EXPECT_EQ(row(c, "run", "estimate").cells[1].kind, "modelled");
  EXPECT_DOUBLE_EQ(*row(c, "run", "server-minus-idle").cells[1].ratio_kwh, 0.1951338965 / 0.22956929);

  // Same PUE, same carbon intensity, same kinds, both exited 0: nothing to say.
  EXPECT_TRUE(c.notes.empty()) << notes_text(c);
}

TEST(CompareModel, PerPhaseMeansForTheNamesAllRunsHave) {
  const Comparison c = make_comparison({run(1, "t4.json"), run(2, "rtx6000.json")}, {});
  // phase_summary.epoch.gpu.mean_kwh of each fixture.
  const Comparison::Row& epoch = row(c, "mean epoch", "gpu");
  EXPECT_EQ(epoch.cells[0].energy_kwh, 0.01718967762);
  EXPECT_EQ(epoch.cells[1].energy_kwh, 0.0257845164);
  EXPECT_DOUBLE_EQ(*epoch.cells[1].ratio_kwh, 0.0257845164 / 0.01718967762);
  EXPECT_DOUBLE_EQ(*epoch.cells[1].ratio_co2, 1.472295888 / 0.981530592);
  EXPECT_DOUBLE_EQ(*epoch.cells[0].duration_s, 603.1);
  EXPECT_EQ(epoch.cells[0].kind, "measured");
  EXPECT_TRUE(has_row(c, "mean train", "process"));
  EXPECT_TRUE(has_row(c, "mean eval", "server-minus-idle"));
  // Means follow the whole run; no per-index rows without `by`.
  EXPECT_EQ(c.rows.size(), 5U + 3U * 5U);
  EXPECT_EQ(c.rows[5].scope, "mean epoch");
}

TEST(CompareModel, ByEpochMatchesIndicesAndLeavesMissingCellsEmpty) {
  const Comparison c = make_comparison(
      {run(1, "t4.json"), run(3, "rtx6000_crash.json"), run(2, "rtx6000.json")}, {.by = "epoch"});
  // phases[name=epoch].methods.gpu.energy_kwh of each fixture; the crashed run has epochs 1 and 2 only.
  const Comparison::Row& e1 = row(c, "epoch 1", "gpu");
  EXPECT_EQ(e1.cells[0].energy_kwh, 0.01718240655);
  EXPECT_EQ(e1.cells[1].energy_kwh, 0.0187444435);
  EXPECT_EQ(e1.cells[2].energy_kwh, 0.0257736098);
  EXPECT_DOUBLE_EQ(*e1.cells[2].ratio_kwh, 0.0257736098 / 0.01718240655);
  EXPECT_DOUBLE_EQ(*e1.cells[1].ratio_co2, 5.6233330524 / 0.9811154139);
  EXPECT_NEAR(*e1.cells[0].duration_s, 602.6, 1e-9);
  EXPECT_EQ(e1.cells[1].kind, "modelled");
  const Comparison::Row& e3 = row(c, "epoch 3", "gpu");
  EXPECT_EQ(e3.cells[0].energy_kwh, 0.01729819178);
  EXPECT_FALSE(e3.cells[1].energy_kwh.has_value());
  EXPECT_FALSE(e3.cells[1].co2_g.has_value());
  EXPECT_FALSE(e3.cells[1].ratio_kwh.has_value());
  EXPECT_TRUE(e3.cells[1].kind.empty());
  EXPECT_EQ(e3.cells[2].energy_kwh, 0.0259472877);
  EXPECT_TRUE(has_note(c, "#2 has no epoch 3")) << notes_text(c);
  // Per-index rows come last, by method then index.
  std::vector<std::string> scopes;
  for (const auto& r : c.rows) {
    if (r.method == "gpu" && r.scope.rfind("epoch ", 0) == 0) scopes.push_back(r.scope);
  }
  EXPECT_EQ(scopes, (std::vector<std::string>{"epoch 1", "epoch 2", "epoch 3"}));
  EXPECT_EQ(c.rows.back().scope, "epoch 3");
  EXPECT_EQ(c.rows.back().method, "server-minus-idle");
}

TEST(CompareModel, SaysWhatChangesTheMeaning) {
  const Comparison c = make_comparison(
      {run(1, "t4.json"), run(2, "rtx6000.json"), run(3, "rtx6000_crash.json")}, {.by = "epoch"});
  const std::string notes = notes_text(c);
  EXPECT_TRUE(has_note(c, "PUE differs between runs (#1 1.65, #2 1.65, #3 1.2)")) << notes;
  EXPECT_TRUE(has_note(c, "Carbon intensity differs between runs (#1 57.1, #2 57.1, #3 300 gCO2e/kWh)"))
      << notes;
  EXPECT_TRUE(has_note(c, "gpu is measured in #1, #2 and modelled in #3")) << notes;
  EXPECT_TRUE(has_note(c, "#3 exited with status 1")) << notes;
  // Only gpu mixes kinds: estimate is modelled everywhere.
  EXPECT_FALSE(has_note(c, "estimate is measured")) << notes;
  EXPECT_EQ(compare_format::mixed_kind_methods(c), (std::set<std::string>{"gpu"}));
}

TEST(CompareModel, KindMismatchIsMarkedInTheText) {
  const Comparison c = make_comparison({run(1, "t4.json"), run(3, "rtx6000_crash.json")}, {});
  const std::string text = render_comparison_text(c);
  // The gpu line of the whole-run kWh table: #2's cell ends with "*", #1's does not.
  std::istringstream lines(text);
  std::string line;
  bool seen = false;
  while (std::getline(lines, line)) {
    if (line.rfind("  gpu ", 0) != 0) continue;
    EXPECT_NE(line.find("mixed"), std::string::npos) << line;
    EXPECT_EQ(line.back(), '*') << line;
    EXPECT_EQ(std::count(line.begin(), line.end(), '*'), 1) << line;
    seen = true;
  }
  EXPECT_TRUE(seen) << text;
  EXPECT_NE(text.find("  - * gpu is measured in #1 and modelled in #2"), std::string::npos) << text;
}

TEST(CompareModel, MissingByNameIsANote) {
  // report_v1.json: schema 1, no phases at all.
  std::vector<ComparedRun> runs = {run(1, "t4.json"), {.id = 2, .report = fixture("report_v1.json")}};
  const Comparison c = make_comparison(runs, {.by = "epoch"});
  EXPECT_TRUE(has_note(c, "#2 has no phase named epoch.")) << notes_text(c);
  // Its epoch cells are empty; #1's are there.
  const Comparison::Row& e2 = row(c, "epoch 2", "process");
  EXPECT_TRUE(e2.cells[0].energy_kwh.has_value());
  EXPECT_FALSE(e2.cells[1].energy_kwh.has_value());
  // No mean rows: #2 has no phase_summary; the other names are said to be in #1 only.
  EXPECT_FALSE(has_row(c, "mean epoch", "gpu"));
  EXPECT_TRUE(has_note(c, "Phase train is only in #1")) << notes_text(c);

  const Comparison none = make_comparison(runs, {.by = "step"});
  EXPECT_TRUE(has_note(none, "No run has a phase named step")) << notes_text(none);
  EXPECT_FALSE(std::any_of(none.rows.begin(), none.rows.end(),
                           [](const Comparison::Row& r) { return r.scope.rfind("step", 0) == 0; }));
}

TEST(CompareModel, OneRun) {
  const Comparison c = make_comparison({run(7, "t4.json")}, {.by = "epoch"});
  ASSERT_EQ(c.runs.size(), 1U);
  for (const auto& r : c.rows) {
    ASSERT_EQ(r.cells.size(), 1U);
    if (r.cells[0].energy_kwh) {
      EXPECT_DOUBLE_EQ(*r.cells[0].ratio_kwh, 1.0) << r.scope << " " << r.method;
    }
  }
  EXPECT_TRUE(has_row(c, "epoch 3", "server"));
  EXPECT_TRUE(c.notes.empty()) << notes_text(c);
  const std::string text = render_comparison_text(c);
  EXPECT_EQ(text.rfind("wattprint compare: 1 run (ratios to #1)\n", 0), 0U) << text;
}

TEST(CompareModel, InvalidInput) {
  EXPECT_THROW(make_comparison({}, {}), std::invalid_argument);
  // Reports that are not reports compare as unknown values: every method row, no value, no ratio.
  const Comparison c = make_comparison(
      {{.id = 0, .report = json()}, {.id = 0, .report = json("text")}, {.id = 0, .report = json::array()}},
      {.by = "epoch"});
  ASSERT_EQ(c.rows.size(), 5U);
  for (const auto& r : c.rows) {
    for (const auto& cell : r.cells) {
      EXPECT_FALSE(cell.energy_kwh || cell.co2_g || cell.ratio_kwh || cell.ratio_co2);
      EXPECT_TRUE(cell.kind.empty());
    }
  }
  EXPECT_TRUE(has_note(c, "No run has a phase named epoch")) << notes_text(c);
  const std::string text = render_comparison_text(c);
  EXPECT_NE(text.find("unavailable  —   —   —"), std::string::npos) << text;
  // #1 without a value: no ratios for the others, and the note says why.
  const Comparison d = make_comparison({{.id = 0, .report = json::object()}, run(1, "t4.json")}, {});
  EXPECT_FALSE(row(d, "run", "gpu").cells[1].ratio_kwh.has_value());
  EXPECT_TRUE(has_note(d, "No ratios for estimate, process, gpu, server, server-minus-idle"))
      << notes_text(d);
}

TEST(CompareModel, TagsAreReadFromTheReport) {
  json report = fixture("compare/t4.json");
  report["tags"] = {{"lr", 0.1}, {"batch", 64}, {"name", "a b"}};
  const Comparison c = make_comparison({{.id = 0, .report = report}}, {});
  EXPECT_EQ(c.runs[0].tags_text, "batch=64 lr=0.1 name=a b");
}

/// `report` with its epoch phases replaced by `epochs` copies of its first one, indices 1…epochs, each
/// 10 s long, except the indices in `skip`; each epoch's gpu kWh is 0.001 × its index.
json with_epochs(json report, long long epochs, const std::set<long long>& skip = {}) {
  json first;
  json others = json::array();
  for (const json& p : report["phases"]) {
    if (p["name"] == "epoch") {
      if (first.is_null()) first = p;
    } else {
      others.push_back(p);
    }
  }
  for (long long i = 1; i <= epochs; ++i) {
    if (skip.count(i) != 0) continue;
    json p = first;
    p["index"] = i;
    p["label"] = fmt::format("epoch {}", i);
    p["path"] = p["label"];
    p["start_s"] = 10.0 * static_cast<double>(i);
    p["end_s"] = 10.0 * static_cast<double>(i + 1);
    p["duration_s"] = 10.0;
    p["methods"]["gpu"]["energy_kwh"] = 0.001 * static_cast<double>(i);
    others.push_back(p);
  }
  report["phases"] = others;
  return report;
}

TEST(CompareModel, CarbonNoteSaysWhatTheKwhRatiosStillInclude) {
  // Carbon intensity differs, PUE the same: the kWh ratios are free of the grid, and nothing more to add.
  json greener = fixture("compare/rtx6000.json");
  greener["carbon_intensity"]["g_per_kwh"] = 20.0;
  const Comparison grid_only = make_comparison({run(1, "t4.json"), {.id = 2, .report = greener}}, {});
  EXPECT_TRUE(has_note(grid_only,
                       "Carbon intensity differs between runs (#1 57.1, #2 20 gCO2e/kWh): gCO2e "
                       "ratios mix the grids with the hardware; the kWh ratios are free of the "
                       "grid."))
      << notes_text(grid_only);
  EXPECT_FALSE(has_note(grid_only, "PUE")) << notes_text(grid_only);
  // Both differ (#2: PUE 1.2, 300 gCO2e/kWh): every kWh shown includes PUE, so "compare kWh for the runs
  // alone" would be wrong; the note says where the IT energy before PUE is.
  const Comparison both = make_comparison({run(1, "t4.json"), run(2, "rtx6000_crash.json")}, {});
  EXPECT_TRUE(has_note(both,
                       "the kWh ratios are free of the grid, but include the PUE difference: the IT "
                       "energy (before PUE) is in `wattprint show ID` and the reports."))
      << notes_text(both);
  EXPECT_FALSE(has_note(both, "for the runs alone")) << notes_text(both);
}

TEST(CompareModel, MissingIndicesAreSaidAsRanges) {
  EXPECT_EQ(compare_format::index_ranges({3}), "3");
  EXPECT_EQ(compare_format::index_ranges({2, 3}), "2, 3");
  EXPECT_EQ(compare_format::index_ranges({9, 1, 4, 5, 6}), "1, 4–6, 9");
  EXPECT_EQ(compare_format::index_ranges({-1, 0, 1, 7, 7}), "-1–1, 7");
  EXPECT_EQ(compare_format::index_ranges({}), "");
  // 300 epochs against a run that stopped after epoch 2, and one that lacks 1, 4, 5, 6 and 9.
  const json full = with_epochs(fixture("compare/t4.json"), 300);
  const json stopped = with_epochs(fixture("compare/t4.json"), 2);
  const json holes = with_epochs(fixture("compare/t4.json"), 300, {1, 4, 5, 6, 9});
  const Comparison c = make_comparison(
      {{.id = 1, .report = full}, {.id = 2, .report = stopped}, {.id = 3, .report = holes}}, {.by = "epoch"});
  EXPECT_TRUE(has_note(c, "#2 has no epoch 3–300 (—).")) << notes_text(c);
  EXPECT_TRUE(has_note(c, "#3 has no epoch 1, 4–6, 9 (—).")) << notes_text(c);
  EXPECT_LT(notes_text(c).size(), 2000U) << notes_text(c);
  EXPECT_EQ(row(c, "epoch 300", "gpu").cells[0].energy_kwh, 0.3);
}

TEST(CompareModel, TheSameRunTwiceIsANote) {
  // `compare 4 4`: the same store ID (and run_id).
  const Comparison twice = make_comparison({run(4, "t4.json"), run(4, "t4.json")}, {});
  EXPECT_TRUE(has_note(twice, "#2 is the same run as #1 (run_id 20261120-091403-node07)."))
      << notes_text(twice);
  // Two exports of one run: no store ID, the same run_id; #3 is the same as #1, not as #2.
  const Comparison exports =
      make_comparison({run(0, "t4.json"), run(0, "rtx6000.json"), run(0, "t4.json")}, {});
  EXPECT_TRUE(has_note(exports, "#3 is the same run as #1 (run_id 20261120-091403-node07)."))
      << notes_text(exports);
  EXPECT_FALSE(has_note(exports, "#2 is the same run")) << notes_text(exports);
  // A report without run_id, given twice by its store ID.
  json bare = fixture("compare/t4.json");
  bare.erase("run_id");
  const Comparison by_id = make_comparison({{.id = 7, .report = bare}, {.id = 7, .report = bare}}, {});
  EXPECT_TRUE(has_note(by_id, "#2 is the same run as #1 (ID 7).")) << notes_text(by_id);
  // Different runs, or reports with no run_id and no ID: nothing said.
  EXPECT_FALSE(has_note(make_comparison({run(1, "t4.json"), run(2, "rtx6000.json")}, {}), "same run"));
  EXPECT_FALSE(
      has_note(make_comparison({{.id = 0, .report = bare}, {.id = 0, .report = bare}}, {}), "same run"));
}

// ---- formatting ----

TEST(CompareFormat, RatiosWidthsAndShortening) {
  EXPECT_EQ(compare_format::format_ratio(1.0), "×1.00");
  EXPECT_EQ(compare_format::format_ratio(0.8), "×0.80");
  EXPECT_EQ(compare_format::format_ratio(9.994), "×9.99");
  EXPECT_EQ(compare_format::format_ratio(12.34), "×12.3");
  EXPECT_EQ(compare_format::format_ratio(123.4), "×123");
  EXPECT_EQ(compare_format::format_ratio(0.0042), "×0.0042");
  EXPECT_EQ(compare_format::display_width("×1.00"), 5U);
  EXPECT_EQ(compare_format::display_width("—"), 1U);
  EXPECT_EQ(compare_format::shorten("abcdef", 4), "abc…");
  EXPECT_EQ(compare_format::shorten("abcd", 4), "abcd");
  EXPECT_EQ(compare_format::shorten("××××××", 4), "×××…");
  const std::string long_command(70, 'x');
  json report = fixture("compare/t4.json");
  report["command"] = {long_command};
  const std::string text = render_comparison_text(make_comparison({{.id = 0, .report = report}}, {}));
  EXPECT_NE(text.find(std::string(59, 'x') + "…\n"), std::string::npos) << text;
  EXPECT_EQ(text.find(std::string(60, 'x')), std::string::npos) << text;
}

TEST(CompareFormat, SmallValuesKeepThreeSignificantDigits) {
  EXPECT_EQ(report_view::format_kwh_value(0.0), "0");
  EXPECT_EQ(report_view::format_kwh_value(0.11570357), "0.1157");
  EXPECT_EQ(report_view::format_kwh_value(0.0123456), "0.0123");
  EXPECT_EQ(report_view::format_kwh_value(0.0012341), "0.001234");
  EXPECT_EQ(report_view::format_kwh_value(0.000579), "5.79e-04");
  EXPECT_EQ(report_view::format_kwh_value(5.79e-6), "5.79e-06");
  EXPECT_EQ(report_view::format_kwh_value(6.43e-6), "6.43e-06");
  EXPECT_EQ(report_view::format_kwh_value(-5.79e-6), "-5.79e-06");
  EXPECT_EQ(report_view::format_grams_value(0.0), "0");
  EXPECT_EQ(report_view::format_grams_value(123.44), "123.4");
  EXPECT_EQ(report_view::format_grams_value(6.60671), "6.6067");
  EXPECT_EQ(report_view::format_grams_value(0.0012341), "0.001234");
  EXPECT_EQ(report_view::format_grams_value(3.31e-4), "3.31e-04");
  // Two runs 11 % apart at a few Wh·10⁻³: the table must show two different numbers.
  json a = fixture("compare/t4.json");
  json b = a;
  a["methods"]["gpu"]["energy_kwh"] = 5.79e-6;
  b["methods"]["gpu"]["energy_kwh"] = 6.43e-6;
  const std::string text =
      render_comparison_text(make_comparison({{.id = 1, .report = a}, {.id = 2, .report = b}}, {}));
  EXPECT_NE(text.find("5.79e-06  ×1.00  6.43e-06  ×1.11"), std::string::npos) << text;
}

/// Code points before the byte offset `bytes` of `line`.
std::size_t column_of(const std::string& line, std::size_t bytes) {
  return compare_format::display_width(std::string_view(line).substr(0, bytes));
}

TEST(CompareFormat, ColumnsAlignInCodePoints) {
  // #2 (the crashed run) has no epoch 3: "—" in the middle column, and #3's ratios must still line up.
  const Comparison c = make_comparison(
      {run(1, "t4.json"), run(3, "rtx6000_crash.json"), run(2, "rtx6000.json")}, {.by = "epoch"});
  const std::string text = render_comparison_text(c);
  const std::size_t start = text.find("per index: energy with PUE (kWh)\n");
  ASSERT_NE(start, std::string::npos) << text;
  std::istringstream lines(text.substr(start));
  std::string line;
  std::getline(lines, line);  // title
  std::getline(lines, line);  // header
  const std::size_t header_col = column_of(line, line.find("#3"));
  std::set<std::size_t> last_ratio_columns;
  int rows_with_dash = 0;
  while (std::getline(lines, line) && !line.empty()) {
    last_ratio_columns.insert(column_of(line, line.rfind("×")));
    if (line.find("—") != std::string::npos) ++rows_with_dash;
  }
  EXPECT_GT(rows_with_dash, 0) << text;
  EXPECT_EQ(last_ratio_columns.size(), 1U) << text;
  EXPECT_GT(*last_ratio_columns.begin(), header_col);
}

// ---- golden text ----

TEST(CompareGolden, TwoRuns) {
  expect_golden(render_comparison_text(make_comparison({run(12, "t4.json"), run(13, "rtx6000.json")}, {})),
                "compare_two_runs.txt");
}

TEST(CompareGolden, ByEpoch) {
  expect_golden(
      render_comparison_text(make_comparison(
          {run(12, "t4.json"), run(13, "rtx6000.json"), run(14, "rtx6000_crash.json")}, {.by = "epoch"})),
      "compare_by_epoch.txt");
}

// ---- HTML ----

std::size_t count(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++n;
  return n;
}

std::vector<ComparedRun> six_runs() {
  std::vector<ComparedRun> runs;
  const char* names[] = {"t4.json", "rtx6000.json", "rtx6000_crash.json"};
  for (std::int64_t i = 0; i < 6; ++i) runs.push_back(run(i + 1, names[i % 3]));
  return runs;
}

TEST(CompareHtml, SelfContainedEscapedWithBarsAndLines) {
  std::vector<ComparedRun> runs = {run(1, "t4.json"), run(2, "rtx6000.json"), run(3, "rtx6000_crash.json")};
  runs[1].report["tags"]["note"] = "<script>alert(1)</script> & \"quotes\"";
  const std::string html = render_comparison_html(make_comparison(runs, {.by = "epoch"}));
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;"), std::string::npos);
  EXPECT_EQ(html.find("http"), std::string::npos) << "no external resource";
  EXPECT_EQ(html.find(" src="), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_NE(html.find("<style>"), std::string::npos);
  // 5 methods × 3 runs, each available in every run: 15 bars per chart.
  EXPECT_EQ(count(html, "data-chart=\"compare-kwh\""), 1U);
  EXPECT_EQ(count(html, "data-chart=\"compare-co2\""), 1U);
  EXPECT_EQ(count(html, "<rect class=\"bar\""), 30U);
  // One line chart per method; 3 + 2 + 3 epoch points per method.
  for (const char* m : {"estimate", "process", "gpu", "server", "server-minus-idle"})
    EXPECT_EQ(count(html, fmt::format("data-chart=\"by-{}\"", m)), 1U) << m;
  EXPECT_EQ(count(html, "<circle class=\"point\""), 5U * 8U);
  EXPECT_EQ(count(html, "<polyline class=\"line\""), 5U * 3U);
  // The values label the bars: #1's whole-run gpu kWh is written on the page.
  EXPECT_NE(html.find(">0.0520<"), std::string::npos);
  EXPECT_NE(html.find("gpu is measured in #1, #2 and modelled in #3"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"num\" title=\"modelled\">"), std::string::npos);
}

TEST(CompareHtml, EdgeCasesRender) {
  const std::string one = render_comparison_html(make_comparison({run(1, "t4.json")}, {}));
  EXPECT_EQ(count(one, "<rect class=\"bar\""), 10U);
  EXPECT_EQ(count(one, "data-chart=\"by-"), 0U);
  const std::string six = render_comparison_html(make_comparison(six_runs(), {.by = "epoch"}));
  EXPECT_EQ(count(six, "<rect class=\"bar\""), 60U);
  EXPECT_NE(six.find("rotate(-90)\" text-anchor=\"start\" font-size=\"10\""), std::string::npos);
  const std::string none = render_comparison_html(
      make_comparison({{.id = 0, .report = json::object()}, {.id = 0, .report = json()}}, {.by = "epoch"}));
  EXPECT_EQ(count(none, "<svg"), 0U);
  EXPECT_EQ(count(none, "No method has a value in any run"), 2U);
  EXPECT_NE(none.find("</html>\n"), std::string::npos);
  const std::string v1 = render_comparison_html(make_comparison(
      {{.id = 0, .report = fixture("report_v1.json")}, {.id = 0, .report = fixture("report_v1.json")}},
      {.by = "epoch"}));
  EXPECT_EQ(count(v1, "data-chart=\"compare-kwh\""), 1U);
  EXPECT_EQ(count(v1, "<rect class=\"bar\""), 12U);  // estimate, process, gpu × 2 runs × 2 charts
  EXPECT_EQ(count(v1, "data-chart=\"by-"), 0U);
  EXPECT_NE(v1.find("unavailable</text>"), std::string::npos)
      << "report_v1 has the server methods unavailable";
}

TEST(CompareHtml, KindIsVisibleInTablesAndCharts) {
  const std::string html = render_comparison_html(make_comparison(
      {run(1, "t4.json"), run(2, "rtx6000.json"), run(3, "rtx6000_crash.json")}, {.by = "epoch"}));
  // The ratio tables have a kind column, as the text has: gpu is mixed, estimate modelled.
  EXPECT_EQ(count(html, "<th>method</th><th>kind</th>"), 2U);
  EXPECT_NE(html.find("gpu</td><td class=\"kind\">mixed</td>"), std::string::npos);
  EXPECT_NE(html.find("estimate</td><td class=\"kind\">modelled</td>"), std::string::npos);
  EXPECT_NE(html.find("mixed: measured in some runs, modelled in others."), std::string::npos);
  // Bars: estimate is modelled in the 3 runs, gpu in #3: 4 hatched bars per chart, in the run's colours
  // (each chart its own patterns), the other 11 solid; the legend says what hatched means.
  EXPECT_EQ(count(html, "<rect class=\"bar\" data-kind=\"modelled\""), 8U);
  EXPECT_EQ(count(html, "<rect class=\"bar\" data-kind=\"measured\""), 22U);
  EXPECT_EQ(count(html, "fill=\"url(#compare-kwh-modelled-2)\" stroke=\"#228833\""), 2U);
  EXPECT_EQ(count(html, "<pattern id=\"compare-kwh-modelled-2\""), 1U);
  EXPECT_EQ(count(html, "<pattern id=\"compare-co2-modelled-2\""), 1U);
  EXPECT_NE(html.find("<rect width=\"3\" height=\"6\" fill=\"#228833\"/>"), std::string::npos);
  EXPECT_EQ(count(html, "<li class=\"modelled\">"), 3U);  // the two bar charts, the per-epoch charts
  EXPECT_NE(html.find("modelled (hatched, outlined)</li>"), std::string::npos);
  // Lines: #3's gpu epochs are modelled (open dots, dashed), as is every estimate point.
  EXPECT_EQ(count(html, "<circle class=\"point\" data-kind=\"modelled\""), 8U + 2U);
  EXPECT_EQ(count(html, "<polyline class=\"line\" data-kind=\"modelled\""), 3U + 1U);
  EXPECT_NE(html.find("modelled (dashed line, open dots)</li>"), std::string::npos);
  // All measured: no hatch, no legend entry.
  const std::string measured = render_comparison_html(make_comparison({run(1, "t4.json")}, {}));
  json all_measured = fixture("compare/t4.json");
  all_measured["methods"]["estimate"]["kind"] = "measured";
  const std::string none = render_comparison_html(make_comparison({{.id = 1, .report = all_measured}}, {}));
  EXPECT_EQ(count(none, "<pattern"), 0U);
  EXPECT_EQ(count(none, "<li class=\"modelled\">"), 0U);
  EXPECT_EQ(count(measured, "<li class=\"modelled\">"), 2U);  // the two bar charts' legends
}

TEST(CompareHtml, ManyIndicesThinTheLabelsAndDropTheDots) {
  const json full = with_epochs(fixture("compare/t4.json"), 300);
  const json stopped = with_epochs(fixture("compare/t4.json"), 2);
  const std::string html = render_comparison_html(
      make_comparison({{.id = 1, .report = full}, {.id = 2, .report = stopped}}, {.by = "epoch"}));
  // 5 charts, at most 12 labels each: epochs 50, 100, … 300 (the multiples of 50; 20 would give 15).
  EXPECT_EQ(count(html, "class=\"x-label\""), 5U * 6U);
  for (const int epoch : {50, 100, 150, 200, 250, 300})
    EXPECT_EQ(count(html, fmt::format("text-anchor=\"middle\" fill=\"#333\">{}</text>", epoch)), 5U) << epoch;
  EXPECT_EQ(count(html, "text-anchor=\"middle\" fill=\"#333\">1</text>"), 0U);
  // 300 indices: lines only, no dot per value.
  EXPECT_EQ(count(html, "<circle class=\"point\""), 0U);
  EXPECT_EQ(count(html, "<polyline class=\"line\""), 5U * 2U);
  EXPECT_NE(html.find("modelled (dashed line)</li>"), std::string::npos);
  // 60 indices keep their dots, 13 get thinned labels (multiples of 2: 6 labels), 12 keep all.
  const auto labels_and_dots = [](long long epochs) {
    const std::string page = render_comparison_html(make_comparison(
        {{.id = 1, .report = with_epochs(fixture("compare/t4.json"), epochs)}}, {.by = "epoch"}));
    return std::pair{count(page, "class=\"x-label\"") / 5, count(page, "<circle class=\"point\"") / 5};
  };
  EXPECT_EQ(labels_and_dots(60), (std::pair<std::size_t, std::size_t>{12, 60}));  // multiples of 5
  EXPECT_EQ(labels_and_dots(61), (std::pair<std::size_t, std::size_t>{12, 0}));
  EXPECT_EQ(labels_and_dots(13), (std::pair<std::size_t, std::size_t>{6, 13}));
  EXPECT_EQ(labels_and_dots(12), (std::pair<std::size_t, std::size_t>{12, 12}));
}

TEST(CompareHtml, MethodHeadingsHaveNoColour) {
  const std::string html =
      render_comparison_html(make_comparison({run(1, "t4.json"), run(2, "rtx6000.json")}, {.by = "epoch"}));
  EXPECT_EQ(count(html, "<h3 class=\"method\">"), 5U);
  EXPECT_NE(html.find("<h3 class=\"method\">gpu</h3>"), std::string::npos);
  EXPECT_EQ(count(html, "<h3><span class=\"swatch\""), 0U);
}

/// For tests/browser/compare_browser_test.py: the pages it checks, written to $WATTPRINT_COMPARE_HTML_DIR.
TEST(CompareHtml, WritePagesForBrowser) {
  const char* dir = std::getenv("WATTPRINT_COMPARE_HTML_DIR");
  if (dir == nullptr || *dir == '\0') GTEST_SKIP() << "WATTPRINT_COMPARE_HTML_DIR is not set";
  const std::filesystem::path out = dir;
  std::filesystem::create_directories(out);
  const auto write = [&](const char* name, const Comparison& c) {
    std::ofstream(out / name, std::ios::binary | std::ios::trunc) << render_comparison_html(c);
  };
  write("by-epoch.html",
        make_comparison({run(12, "t4.json"), run(13, "rtx6000.json"), run(14, "rtx6000_crash.json")},
                        {.by = "epoch"}));
  write("one-run.html", make_comparison({run(12, "t4.json")}, {}));
  write("six-runs.html", make_comparison(six_runs(), {.by = "epoch"}));
  write("all-unavailable.html",
        make_comparison({{.id = 0, .report = json::object()}, {.id = 0, .report = json()}}, {.by = "epoch"}));
  write("no-phases.html", make_comparison({{.id = 0, .report = fixture("report_v1.json")},
                                           {.id = 0, .report = fixture("report_v1.json")}},
                                          {.by = "epoch"}));
  write("many-epochs.html",
        make_comparison({{.id = 1, .report = with_epochs(fixture("compare/t4.json"), 300)},
                         {.id = 2, .report = with_epochs(fixture("compare/t4.json"), 120, {50})}},
                        {.by = "epoch"}));
  for (const char* name : {"by-epoch.html", "one-run.html", "six-runs.html", "all-unavailable.html",
                           "no-phases.html", "many-epochs.html"})
    EXPECT_TRUE(std::filesystem::exists(out / name)) << name;
}

}  // namespace
}  // namespace wattprint
