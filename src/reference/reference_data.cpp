#include "reference/reference_data.hpp"

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "reference/csv.hpp"

namespace wattprint::reference {

namespace detail {
// Defined in the .cpp files generated from data/*.csv by src/reference/CMakeLists.txt.
std::string_view embedded_cpu_tdp_csv();
std::string_view embedded_gpu_tdp_csv();
std::string_view embedded_carbon_intensity_csv();
std::string_view embedded_named_carbon_intensity_csv();
std::string_view embedded_tz_country_csv();
}  // namespace detail

namespace {

// ---------------------------------------------------------------------------------------------
// Small string helpers (ASCII only: the tables and the names we match are ASCII).

char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return to_lower(x) == to_lower(y); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string> split_whitespace(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    const std::size_t start = i;
    while (i < s.size() && !is_space(s[i])) ++i;
    if (i > start) out.emplace_back(s.substr(start, i - start));
  }
  return out;
}

bool has_digit(std::string_view s) { return std::any_of(s.begin(), s.end(), is_digit); }

// Removes "(R)", "(TM)" (any case), "®" and "™".
std::string strip_marks(std::string_view s) {
  static constexpr std::string_view kMarks[] = {"(r)", "(tm)", "\xC2\xAE", "\xE2\x84\xA2"};
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    bool matched = false;
    for (std::string_view mark : kMarks) {
      if (i + mark.size() <= s.size() && iequals(s.substr(i, mark.size()), mark)) {
        i += mark.size();
        matched = true;
        break;
      }
    }
    if (!matched) out += s[i++];
  }
  return out;
}

// ^([0-9]+|[a-z]+)-cores?$  ("64-Core", "Quad-Core", "64-Cores")
bool is_core_count_token(std::string_view t) {
  const std::size_t dash = t.find('-');
  if (dash == std::string_view::npos || dash == 0) return false;
  const std::string_view head = t.substr(0, dash);
  const std::string_view tail = t.substr(dash + 1);
  if (tail != "core" && tail != "cores") return false;
  return std::all_of(head.begin(), head.end(), is_digit) ||
         std::all_of(head.begin(), head.end(), is_alpha_lower);
}

// ^[0-9]+(\.[0-9]+)?ghz$
bool is_frequency_token(std::string_view t) {
  if (t.size() < 4 || t.substr(t.size() - 3) != "ghz") return false;
  const std::string_view num = t.substr(0, t.size() - 3);
  const std::size_t dot = num.find('.');
  const std::string_view whole = num.substr(0, dot);
  if (whole.empty() || !std::all_of(whole.begin(), whole.end(), is_digit)) return false;
  if (dot == std::string_view::npos) return true;
  const std::string_view frac = num.substr(dot + 1);
  return !frac.empty() && std::all_of(frac.begin(), frac.end(), is_digit);
}

// ^[0-9]+(st|nd|rd|th)$  ("12th" in "12th Gen Intel(R) Core(TM) i7-12700H")
bool is_ordinal_token(std::string_view t) {
  if (t.size() < 3) return false;
  const std::string_view suffix = t.substr(t.size() - 2);
  const std::string_view num = t.substr(0, t.size() - 2);
  return (suffix == "st" || suffix == "nd" || suffix == "rd" || suffix == "th") &&
         std::all_of(num.begin(), num.end(), is_digit);
}

bool is_cpu_vendor(std::string_view t) { return t == "intel" || t == "amd"; }

bool is_optional_gpu_word(std::string_view t) {
  return t == "nvidia" || t == "amd" || t == "tesla" || t == "geforce" || t == "google";
}

// GPU names: strip marks, lower-case, split on space - _ / , ( ), merge "80 GB" -> "80gb", drop
// optional brand words; sorted so that word order does not matter.
std::vector<std::string> gpu_tokens(std::string_view name) {
  std::string s = strip_marks(name);
  for (char& c : s) {
    c = to_lower(c);
    if (c == '-' || c == '_' || c == '/' || c == ',' || c == '(' || c == ')') c = ' ';
  }
  const std::vector<std::string> raw = split_whitespace(s);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const std::string& t = raw[i];
    if (is_optional_gpu_word(t)) continue;
    if (std::all_of(t.begin(), t.end(), is_digit) && i + 1 < raw.size() && raw[i + 1] == "gb") {
      out.push_back(t + "gb");
      ++i;
      continue;
    }
    out.push_back(t);
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool contains(const std::vector<std::string>& haystack, std::string_view needle) {
  return std::find(haystack.begin(), haystack.end(), needle) != haystack.end();
}

// Lower is preferred when two entries are equally specific.
int source_rank(std::string_view source) {
  if (source == "wattprint-compiled") return 0;
  if (source == "codecarbon-intel-ark" || source == "codecarbon-amd") return 1;
  if (source == "green-algorithms-v3.0") return 2;
  if (source == "experiment-impact-tracker") return 3;
  return 4;
}

// ---------------------------------------------------------------------------------------------
// Parsing the embedded tables.

double to_double(std::string_view s, std::string_view what) {
  s = trim(s);
  double v = 0.0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || ptr != s.data() + s.size()) {
    throw std::runtime_error("wattprint reference data: bad number '" + std::string(s) + "' in " +
                             std::string(what));
  }
  return v;
}

int to_int(std::string_view s, std::string_view what) {
  s = trim(s);
  int v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || ptr != s.data() + s.size()) {
    throw std::runtime_error("wattprint reference data: bad integer '" + std::string(s) + "' in " +
                             std::string(what));
  }
  return v;
}

// A parsed table whose columns are looked up by header name.
class Table {
 public:
  Table(std::string_view text, std::string_view name, const std::vector<std::string_view>& required)
      : name_(name), rows_(csv::parse(text)) {
    if (rows_.empty()) throw std::runtime_error("wattprint reference data: empty table " + name_);
    header_ = std::move(rows_.front());
    rows_.erase(rows_.begin());
    for (std::string_view column : required) index(column);
  }

  std::size_t index(std::string_view column) const {
    const auto it = std::find(header_.begin(), header_.end(), column);
    if (it == header_.end()) {
      throw std::runtime_error("wattprint reference data: table " + name_ + " lacks column " +
                               std::string(column));
    }
    return static_cast<std::size_t>(it - header_.begin());
  }

  const std::string& field(const csv::Row& row, std::size_t column) const {
    if (column >= row.size()) {
      throw std::runtime_error("wattprint reference data: short row in table " + name_);
    }
    return row[column];
  }

  const std::vector<csv::Row>& rows() const { return rows_; }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::vector<csv::Row> rows_;
  csv::Row header_;
};

struct IndexedCpu {
  CpuSpec spec;
  std::string normalised;
  std::vector<std::string> tokens;
};

struct IndexedGpu {
  GpuSpec spec;
  std::vector<std::string> tokens;  // sorted
};

std::vector<IndexedCpu> index_cpus(const std::vector<CpuSpec>& table) {
  std::vector<IndexedCpu> out;
  out.reserve(table.size());
  for (const CpuSpec& spec : table) {
    std::string normalised = normalise_model_name(spec.model);
    std::vector<std::string> tokens = split_whitespace(normalised);
    out.push_back(IndexedCpu{spec, std::move(normalised), std::move(tokens)});
  }
  return out;
}

std::vector<IndexedGpu> index_gpus(const std::vector<GpuSpec>& table) {
  std::vector<IndexedGpu> out;
  out.reserve(table.size());
  for (const GpuSpec& spec : table) out.push_back(IndexedGpu{spec, gpu_tokens(spec.model)});
  return out;
}

struct Tables {
  std::vector<CpuSpec> cpus;
  std::vector<GpuSpec> gpus;
  std::vector<GridIntensity> grid;
  std::vector<NamedIntensity> named;
  std::vector<TimezoneCountry> timezones;
  std::vector<IndexedCpu> cpu_index;
  std::vector<IndexedGpu> gpu_index;
};

Tables load_tables() {
  Tables t;
  {
    const Table table(detail::embedded_cpu_tdp_csv(), "cpu_tdp.csv", {"model", "tdp_w", "cores", "source"});
    const std::size_t model = table.index("model"), tdp = table.index("tdp_w"), cores = table.index("cores"),
                      source = table.index("source");
    for (const csv::Row& row : table.rows()) {
      t.cpus.push_back(CpuSpec{table.field(row, model), to_double(table.field(row, tdp), table.name()),
                               to_int(table.field(row, cores), table.name()), table.field(row, source)});
    }
  }
  {
    const Table table(detail::embedded_gpu_tdp_csv(), "gpu_tdp.csv", {"model", "tdp_w", "source"});
    const std::size_t model = table.index("model"), tdp = table.index("tdp_w"),
                      source = table.index("source");
    for (const csv::Row& row : table.rows()) {
      t.gpus.push_back(GpuSpec{table.field(row, model), to_double(table.field(row, tdp), table.name()),
                               table.field(row, source)});
    }
  }
  {
    const Table table(detail::embedded_carbon_intensity_csv(), "carbon_intensity.csv",
                      {"code", "name", "g_per_kwh", "year", "source"});
    const std::size_t code = table.index("code"), name = table.index("name"), g = table.index("g_per_kwh"),
                      year = table.index("year"), source = table.index("source");
    for (const csv::Row& row : table.rows()) {
      t.grid.push_back(GridIntensity{table.field(row, code), table.field(row, name),
                                     to_double(table.field(row, g), table.name()),
                                     to_int(table.field(row, year), table.name()), table.field(row, source)});
    }
  }
  {
    const Table table(detail::embedded_named_carbon_intensity_csv(), "named_carbon_intensity.csv",
                      {"name", "code", "g_per_kwh", "year", "source", "description"});
    const std::size_t name = table.index("name"), code = table.index("code"), g = table.index("g_per_kwh"),
                      year = table.index("year"), source = table.index("source"),
                      description = table.index("description");
    for (const csv::Row& row : table.rows()) {
      const std::string& c = table.field(row, code);
      // The place name comes from the grid table when the code is known there.
      std::string place = c;
      for (const GridIntensity& gi : t.grid) {
        if (iequals(gi.code, c)) {
          place = gi.name;
          break;
        }
      }
      t.named.push_back(NamedIntensity{
          table.field(row, name),
          GridIntensity{c, std::move(place), to_double(table.field(row, g), table.name()),
                        to_int(table.field(row, year), table.name()), table.field(row, source)},
          table.field(row, description)});
    }
  }
  {
    const Table table(detail::embedded_tz_country_csv(), "tz_country.csv", {"timezone", "country"});
    const std::size_t tz = table.index("timezone"), country = table.index("country");
    for (const csv::Row& row : table.rows()) {
      t.timezones.push_back(TimezoneCountry{table.field(row, tz), table.field(row, country)});
    }
  }
  t.cpu_index = index_cpus(t.cpus);
  t.gpu_index = index_gpus(t.gpus);
  return t;
}

const Tables& tables() {
  static const Tables instance = load_tables();  // thread-safe initialisation (C++11 magic static)
  return instance;
}

// ---------------------------------------------------------------------------------------------
// Matchers.

std::optional<CpuSpec> match_cpu(const std::vector<IndexedCpu>& index, std::string_view query) {
  const std::string normalised = normalise_model_name(query);
  if (normalised.empty()) return std::nullopt;
  for (const IndexedCpu& entry : index) {
    if (entry.normalised == normalised) return entry.spec;
  }

  const std::vector<std::string> query_tokens = split_whitespace(normalised);
  const IndexedCpu* best = nullptr;
  std::size_t best_score = 0;
  for (const IndexedCpu& entry : index) {
    std::size_t score = 0;
    bool ok = true;
    bool entry_has_number = false;
    for (const std::string& t : entry.tokens) {
      if (is_cpu_vendor(t)) continue;  // vendor word optional in the query
      if (!contains(query_tokens, t)) {
        ok = false;
        break;
      }
      entry_has_number = entry_has_number || has_digit(t);
      ++score;
    }
    if (!ok || !entry_has_number) continue;
    // Every number-bearing query word must be part of the entry: "4110" never matches "4110T",
    // "E5-2680 v3" never matches "E5-2680".
    for (const std::string& t : query_tokens) {
      if (has_digit(t) && !contains(entry.tokens, t)) {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    if (best == nullptr || score > best_score ||
        (score == best_score && source_rank(entry.spec.source) < source_rank(best->spec.source))) {
      best = &entry;
      best_score = score;
    }
  }
  if (best == nullptr) return std::nullopt;
  return best->spec;
}

std::optional<GpuSpec> match_gpu(const std::vector<IndexedGpu>& index, std::string_view query) {
  const std::vector<std::string> query_tokens = gpu_tokens(query);
  if (query_tokens.empty()) return std::nullopt;
  for (const IndexedGpu& entry : index) {
    if (entry.tokens == query_tokens) return entry.spec;
  }
  const IndexedGpu* best = nullptr;
  for (const IndexedGpu& entry : index) {
    if (entry.tokens.empty()) continue;
    const bool subset = std::all_of(entry.tokens.begin(), entry.tokens.end(),
                                    [&](const std::string& t) { return contains(query_tokens, t); });
    if (!subset) continue;
    if (best == nullptr || entry.tokens.size() > best->tokens.size() ||
        (entry.tokens.size() == best->tokens.size() &&
         source_rank(entry.spec.source) < source_rank(best->spec.source))) {
      best = &entry;
    }
  }
  if (best == nullptr) return std::nullopt;
  return best->spec;
}

}  // namespace

std::string normalise_model_name(std::string_view name) {
  std::string s = strip_marks(name);
  for (char& c : s) c = to_lower(c);
  if (const std::size_t at = s.find('@'); at != std::string::npos) s.erase(at);
  if (const std::size_t with = s.find(" with "); with != std::string::npos) s.erase(with);
  std::replace(s.begin(), s.end(), ',', ' ');

  const std::vector<std::string> tokens = split_whitespace(s);
  std::string out;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::string& t = tokens[i];
    if (is_ordinal_token(t) && i + 1 < tokens.size() && tokens[i + 1] == "gen") {
      ++i;
      continue;
    }
    if (t == "cpu" || t == "processor" || t == "apu" || t == "0" || is_core_count_token(t) ||
        is_frequency_token(t)) {
      continue;
    }
    if (!out.empty()) out += ' ';
    out += t;
  }
  return out;
}

std::optional<CpuSpec> find_cpu(std::string_view model_name) {
  return match_cpu(tables().cpu_index, model_name);
}

std::optional<GpuSpec> find_gpu(std::string_view name) { return match_gpu(tables().gpu_index, name); }

std::optional<CpuSpec> find_cpu_in(const std::vector<CpuSpec>& table, std::string_view model_name) {
  return match_cpu(index_cpus(table), model_name);
}

std::optional<GpuSpec> find_gpu_in(const std::vector<GpuSpec>& table, std::string_view name) {
  return match_gpu(index_gpus(table), name);
}

std::optional<GridIntensity> find_grid_intensity(std::string_view code) {
  code = trim(code);
  for (const GridIntensity& gi : tables().grid) {
    if (iequals(gi.code, code)) return gi;
  }
  return std::nullopt;
}

std::optional<NamedIntensity> find_named_intensity(std::string_view name) {
  name = trim(name);
  for (const NamedIntensity& ni : tables().named) {
    if (iequals(ni.name, name)) return ni;
  }
  return std::nullopt;
}

const std::vector<NamedIntensity>& named_intensities() { return tables().named; }

GridIntensity world_average() {
  if (auto world = find_grid_intensity("WORLD")) return *world;
  // Unreachable with the shipped data (a unit test checks the row); same figure as the table.
  return GridIntensity{"WORLD", "World", 475.0, 2019, "green-algorithms-v3.0"};
}

std::optional<std::string> country_for_timezone(std::string_view iana_name) {
  std::string_view tz = trim(iana_name);
  if (!tz.empty() && tz.front() == ':') tz.remove_prefix(1);
  if (const std::size_t pos = tz.rfind("zoneinfo/"); pos != std::string_view::npos) {
    tz.remove_prefix(pos + std::string_view("zoneinfo/").size());
  }
  for (std::string_view prefix : {std::string_view("posix/"), std::string_view("right/")}) {
    if (tz.substr(0, prefix.size()) == prefix) tz.remove_prefix(prefix.size());
  }
  if (tz.empty()) return std::nullopt;
  const auto& zones = tables().timezones;
  for (const TimezoneCountry& z : zones) {
    if (z.timezone == tz) return z.country;
  }
  for (const TimezoneCountry& z : zones) {
    if (iequals(z.timezone, tz)) return z.country;
  }
  return std::nullopt;
}

const std::vector<CpuSpec>& cpu_specs() { return tables().cpus; }
const std::vector<GpuSpec>& gpu_specs() { return tables().gpus; }
const std::vector<GridIntensity>& grid_intensities() { return tables().grid; }
const std::vector<TimezoneCountry>& timezone_countries() { return tables().timezones; }

}  // namespace wattprint::reference
