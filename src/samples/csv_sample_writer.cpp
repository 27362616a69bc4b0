#include "samples/csv_sample_writer.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <exception>
#include <iterator>
#include <stdexcept>
#include <string_view>

namespace wattprint {
namespace {

// Writes one cell as RFC 4180 wants it: quoted (quotes doubled) when it holds a comma, a quote or a line
// break.
void append_text_cell(fmt::memory_buffer& out, std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(text);
    return;
  }
  out.push_back('"');
  for (const char c : text) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

// Shortest text that reads back as the same double; fmt ignores the locale unless asked ('.' always).
// Empty for "no value" (nullopt, and the non-finite values no sensor gives).
void append_number_cell(fmt::memory_buffer& out, double value) {
  if (std::isfinite(value)) fmt::format_to(std::back_inserter(out), "{}", value);
}

void append_number_cell(fmt::memory_buffer& out, const std::optional<double>& value) {
  if (value) append_number_cell(out, *value);
}

// The first write error, kept: "cannot write PATH: No space left on device".
void record_error(std::string& error, const std::filesystem::path& path, const char* reason) {
  if (error.empty()) error = fmt::format("cannot write {}: {}", path.string(), reason);
}

void write_text(std::FILE* file, std::string& error, const std::filesystem::path& path,
                const fmt::memory_buffer& text) {
  if (file == nullptr || !error.empty()) return;
  if (std::fwrite(text.data(), 1, text.size(), file) != text.size()) {
    record_error(error, path, std::strerror(errno));
  }
}

void flush_file(std::FILE* file, std::string& error, const std::filesystem::path& path) {
  if (file == nullptr || !error.empty()) return;
  if (std::fflush(file) != 0) record_error(error, path, std::strerror(errno));
}

}  // namespace

CsvSampleWriter::CsvSampleWriter(const std::filesystem::path& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "w");
  if (file_ == nullptr) {
    throw std::runtime_error(fmt::format("cannot write {}: {}", path.string(), std::strerror(errno)));
  }
  // Fewer write calls at high sampling rates; the flush rule below keeps the file at most a second behind.
  std::setvbuf(file_, nullptr, _IOFBF, std::size_t{1} << 16U);
}

CsvSampleWriter::~CsvSampleWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

void CsvSampleWriter::begin(const std::vector<SampleSeries>& series) {
  series_ = series.size();
  fmt::memory_buffer line;
  line.append(std::string_view("time_s,interval_s"));
  for (const SampleSeries& s : series) {
    line.push_back(',');
    append_text_cell(line, s.name + "_power_w");
    line.push_back(',');
    append_text_cell(line, s.name + "_energy_j");
  }
  line.append(std::string_view(",cpu_share,cpu_cores,phase\n"));
  write_text(file_, error_, path_, line);
  // The header is visible at once: whoever tails the file knows the columns from the start.
  flush_file(file_, error_, path_);
}

void CsvSampleWriter::add(const SampleRow& row) {
  if (file_ == nullptr || !error_.empty()) return;
  try {
    fmt::memory_buffer line;
    append_number_cell(line, row.t_s);
    line.push_back(',');
    append_number_cell(line, row.interval_s);
    for (std::size_t i = 0; i < series_; ++i) {
      line.push_back(',');
      if (i < row.power_w.size()) append_number_cell(line, row.power_w[i]);
      line.push_back(',');
      if (i < row.energy_j.size()) append_number_cell(line, row.energy_j[i]);
    }
    line.push_back(',');
    append_number_cell(line, row.cpu_share);
    line.push_back(',');
    append_number_cell(line, row.cpu_cores);
    line.push_back(',');
    append_text_cell(line, row.phase);
    line.push_back('\n');
    write_text(file_, error_, path_, line);
    // At least once per second of the run: a reader (or a crash) sees rows at most a second old.
    if (row.t_s - last_flush_s_ >= 1.0 || row.t_s < last_flush_s_) {
      last_flush_s_ = row.t_s;
      flush_file(file_, error_, path_);
    }
  } catch (const std::exception& e) {  // fmt's buffer can only fail to allocate; the sampler must go on
    record_error(error_, path_, e.what());
  }
}

void CsvSampleWriter::end() {
  if (file_ == nullptr) return;
  flush_file(file_, error_, path_);
  if (std::fclose(file_) != 0 && error_.empty()) record_error(error_, path_, std::strerror(errno));
  file_ = nullptr;
}

const std::string& CsvSampleWriter::error() const { return error_; }

}  // namespace wattprint
