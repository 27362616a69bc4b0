// Facts about the host for reports: name, CPU model and topology from /proc/cpuinfo, memory from meminfo.
#pragma once

#include <string>

#include "attribution/procfs.hpp"

namespace wattprint {

struct HostInfo {
  std::string hostname;
  std::string cpu_model;  ///< first "model name" of /proc/cpuinfo
  int logical_cpus = 0;
  int sockets = 0;           ///< distinct "physical id" values (1 when absent)
  int cores_per_socket = 0;  ///< "cpu cores"
  double memory_gb = 0.0;    ///< MemTotal in GB (2^30 bytes)
};

/// Parses the text of /proc/cpuinfo into `host` (model, logical CPUs, sockets, cores per socket).
void parse_cpuinfo(const std::string& text, HostInfo& host);

HostInfo detect_host(const ProcFs& procfs);

inline constexpr double kBytesPerGigabyte = 1024.0 * 1024.0 * 1024.0;

}  // namespace wattprint
