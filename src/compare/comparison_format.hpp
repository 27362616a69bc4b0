// Formatting shared by the comparison's two renderers (run_comparison.cpp, render_comparison_html.cpp).
// Internal to src/compare.
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "compare/run_comparison.hpp"

namespace wattprint::compare_format {

/// "×1.00", "×0.80", "×12.3", "×123", "×0.0042" (two significant digits below 0.01).
std::string format_ratio(double ratio);
/// Code points (not bytes) of UTF-8 text: the width of "—" and "×" in a terminal.
std::size_t display_width(std::string_view text);
/// The text cut to at most `max_width` code points, ending with "…" when cut.
std::string shorten(std::string_view text, std::size_t max_width);
/// Methods measured in one run and modelled in another (in any row): their modelled cells are marked "*".
std::set<std::string> mixed_kind_methods(const Comparison& comparison);
/// The kinds of a row's cells: "measured", "modelled", "mixed" (both), "unavailable" (none).
std::string kind_text(const Comparison::Row& row);
/// Indices as ranges: "3–300", "1, 4–6, 9", "2, 3" (a range from three consecutive integers on).
std::string index_ranges(const std::vector<long long>& indices);
/// The ID in the store ("12"), "—" for 0 (none).
std::string id_text(std::int64_t id);
/// The exit status ("0", "1"), "—" when unknown.
std::string exit_text(const Comparison::RunColumn& run);
/// "57.1 (ADEME 2018, FR)", "—" when unknown.
std::string carbon_text(const Comparison::RunColumn& run);

}  // namespace wattprint::compare_format
