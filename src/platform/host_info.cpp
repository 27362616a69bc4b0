// Host detection from procfs and gethostname.
#include "platform/host_info.hpp"

#include <unistd.h>

#include <array>
#include <set>
#include <sstream>

#include "platform/text_file.hpp"

namespace wattprint {

void parse_cpuinfo(const std::string& text, HostInfo& host) {
  std::istringstream lines(text);
  std::string line;
  std::set<std::string> physical_ids;
  int processors = 0;
  while (std::getline(lines, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key(trim(std::string_view(line).substr(0, colon)));
    const std::string value(trim(std::string_view(line).substr(colon + 1)));
    if (key == "processor") {
      ++processors;
    } else if (key == "model name" && host.cpu_model.empty()) {
      host.cpu_model = value;
    } else if (key == "physical id") {
      physical_ids.insert(value);
    } else if (key == "cpu cores" && host.cores_per_socket == 0) {
      host.cores_per_socket = std::atoi(value.c_str());
    }
  }
  host.logical_cpus = processors;
  host.sockets = physical_ids.empty() ? 1 : static_cast<int>(physical_ids.size());
}

HostInfo detect_host(const ProcFs& procfs) {
  HostInfo host;
  std::array<char, 256> name{};
  if (::gethostname(name.data(), name.size() - 1) == 0) host.hostname = name.data();
  const FileText cpuinfo = read_text_file(procfs.root() / "cpuinfo");
  if (cpuinfo.ok()) parse_cpuinfo(cpuinfo.text, host);
  if (host.logical_cpus == 0) host.logical_cpus = static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
  if (host.cores_per_socket == 0) host.cores_per_socket = host.logical_cpus;
  if (const auto memory = procfs.machine_memory()) {
    host.memory_gb = static_cast<double>(memory->total_bytes) / kBytesPerGigabyte;
  }
  return host;
}

}  // namespace wattprint
