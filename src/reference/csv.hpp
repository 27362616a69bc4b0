#pragma once

// Minimal RFC 4180 CSV reader for the embedded reference tables: comma separator, optional
// double-quoted fields with "" escapes (commas and newlines allowed inside quotes), LF or CRLF
// line ends, blank lines skipped, a leading UTF-8 BOM ignored.

#include <string>
#include <string_view>
#include <vector>

namespace wattprint::reference::csv {

using Row = std::vector<std::string>;

// Parses the whole text. Never throws on malformed input: an unterminated quote runs to the end.
std::vector<Row> parse(std::string_view text);

}  // namespace wattprint::reference::csv
