#include "reference/csv.hpp"

namespace wattprint::reference::csv {

std::vector<Row> parse(std::string_view text) {
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (text.substr(0, kBom.size()) == kBom) {
    text.remove_prefix(kBom.size());
  }

  std::vector<Row> rows;
  Row row;
  std::string field;
  bool in_quotes = false;
  bool row_has_content = false;  // distinguishes "" (one empty field) from a blank line

  const auto end_field = [&] {
    row.push_back(std::move(field));
    field.clear();
  };
  const auto end_row = [&] {
    if (row_has_content || !row.empty()) {
      end_field();
      rows.push_back(std::move(row));
    }
    row.clear();
    field.clear();
    row_has_content = false;
  };

  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        field += c;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_quotes = true;
        row_has_content = true;
        break;
      case ',':
        end_field();
        row_has_content = true;
        break;
      case '\r':
        if (i + 1 < text.size() && text[i + 1] == '\n') {
          break;  // the '\n' ends the row
        }
        end_row();
        break;
      case '\n':
        end_row();
        break;
      default:
        field += c;
        row_has_content = true;
        break;
    }
  }
  end_row();
  return rows;
}

}  // namespace wattprint::reference::csv
