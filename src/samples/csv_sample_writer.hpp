// --csv FILE: every sample row as it is taken, streamed (constant memory), flushed at least every second.
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "samples/sample_row.hpp"

namespace wattprint {

/// Columns: time_s, interval_s, for each series "<name>_power_w" and "<name>_energy_j", cpu_share,
/// cpu_cores, phase. RFC 4180 quoting; numbers with '.' whatever the locale; empty cell for "no value".
/// The file is created (truncated) by the constructor; write errors are kept and reported by error().
class CsvSampleWriter final : public SampleSink {
 public:
  /// Throws std::runtime_error "cannot write PATH: reason" when the file cannot be created.
  explicit CsvSampleWriter(const std::filesystem::path& path);
  ~CsvSampleWriter() override;
  CsvSampleWriter(const CsvSampleWriter&) = delete;
  CsvSampleWriter& operator=(const CsvSampleWriter&) = delete;
  void begin(const std::vector<SampleSeries>& series) override;
  void add(const SampleRow& row) override;
  void end() override;
  /// Empty, or the first write error ("cannot write PATH: No space left on device").
  [[nodiscard]] const std::string& error() const;

 private:
  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
  std::string error_;
  double last_flush_s_ = 0.0;
  std::size_t series_ = 0;
};

}  // namespace wattprint
