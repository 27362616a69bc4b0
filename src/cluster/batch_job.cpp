// Slurm and OAR jobs from the environment their tasks get (see docs/clusters.md for the variables read).
#include "cluster/batch_job.hpp"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <set>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace wattprint {

namespace {

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

/// The first of `names` that is set and not empty.
std::optional<std::string> first_set(const EnvironmentLookup& environment,
                                     std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (auto value = environment(name); value && !value->empty()) return value;
  }
  return std::nullopt;
}

std::string value_or_empty(const EnvironmentLookup& environment, std::initializer_list<const char*> names) {
  return first_set(environment, names).value_or(std::string());
}

std::optional<int> parse_count(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  int value = 0;
  const char* end = text->data() + text->size();
  const auto [ptr, ec] = std::from_chars(text->data(), end, value);
  if (ec != std::errc() || ptr != end || value < 0) return std::nullopt;
  return value;
}

/// Slurm's SLURM_*_GPUS lists may carry a type prefix in some versions ("gpu:0,1" or "(null)" when unset).
std::optional<std::string> clean_gpu_list(std::optional<std::string> text) {
  if (!text) return std::nullopt;
  std::string value = trim(*text);
  if (value.empty() || value == "(null)" || value == "N/A") return std::nullopt;
  return value;
}

std::string short_host(const std::string& host) { return host.substr(0, host.find('.')); }

bool same_host(const std::string& a, const std::string& b) { return short_host(a) == short_host(b); }

std::string current_user_name() {
  const uid_t uid = ::getuid();
  std::string buffer(4096, '\0');
  struct passwd entry {};
  struct passwd* result = nullptr;
  if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &result) == 0 && result != nullptr)
    return result->pw_name;
  return std::to_string(uid);
}

/// One line of OAR_RESOURCE_PROPERTIES_FILE: "key = 'value' , key2 = 'value2'" (values may hold commas).
std::vector<std::pair<std::string, std::string>> parse_oar_properties_line(const std::string& line) {
  std::vector<std::pair<std::string, std::string>> fields;
  std::size_t at = 0;
  while (at < line.size()) {
    const auto equals = line.find('=', at);
    if (equals == std::string::npos) break;
    std::string key = trim(std::string_view(line).substr(at, equals - at));
    std::size_t value_start = line.find_first_not_of(' ', equals + 1);
    if (value_start == std::string::npos) break;
    std::string value;
    std::size_t after = 0;
    if (line[value_start] == '\'') {
      const auto close = line.find('\'', value_start + 1);
      if (close == std::string::npos) break;
      value = line.substr(value_start + 1, close - value_start - 1);
      after = close + 1;
    } else {
      const auto comma = line.find(',', value_start);
      after = comma == std::string::npos ? line.size() : comma;
      value = trim(std::string_view(line).substr(value_start, after - value_start));
    }
    if (!key.empty()) fields.emplace_back(std::move(key), std::move(value));
    const auto comma = line.find(',', after);
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return fields;
}

void read_oar_files(const EnvironmentLookup& environment, const std::string& hostname, BatchJob& job) {
  if (auto nodefile = first_set(environment, {"OAR_NODEFILE", "OAR_NODE_FILE", "OAR_FILE_NODES"})) {
    std::ifstream in(*nodefile);
    if (in) {
      std::set<std::string> seen;
      std::string line;
      int lines = 0;
      while (std::getline(in, line)) {
        line = trim(line);
        if (line.empty()) continue;
        ++lines;  // one line per reserved core: the task count mpirun would use
        if (seen.insert(line).second) job.nodes.push_back(line);
      }
      if (lines > 0) job.task_count = lines;
    }
  }
  if (auto properties = first_set(environment, {"OAR_RESOURCE_PROPERTIES_FILE"})) {
    std::ifstream in(*properties);
    std::set<std::string> gpus;  // of this host, deduplicated (one line per core names the same GPU)
    bool any_gpu_field = false;
    std::string line;
    while (in && std::getline(in, line)) {
      std::string host;
      std::string gpu;
      for (auto& [key, value] : parse_oar_properties_line(line)) {
        if (key == "host" || (key == "network_address" && host.empty())) host = value;
        if (key == "gpudevice" || (key == "gpu_device" && gpu.empty())) gpu = value;
      }
      if (!gpu.empty()) any_gpu_field = true;
      if (!gpu.empty() && (host.empty() || same_host(host, hostname))) gpus.insert(gpu);
    }
    if (any_gpu_field) {
      std::vector<std::string> sorted(gpus.begin(), gpus.end());
      std::sort(sorted.begin(), sorted.end(), [](const std::string& a, const std::string& b) {
        return a.size() != b.size() ? a.size() < b.size() : a < b;  // numeric order for indices
      });
      std::string list;
      for (const std::string& gpu : sorted) list += (list.empty() ? "" : ",") + gpu;
      job.gpus = list;
      job.gpus_source = "OAR_RESOURCE_PROPERTIES_FILE (gpudevice of this host's resources)";
    }
  }
}

}  // namespace

EnvironmentLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe): read at start-up
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

std::optional<BatchJob> detect_batch_job(const EnvironmentLookup& environment, const std::string& hostname) {
  if (auto job_id = first_set(environment, {"SLURM_JOB_ID", "SLURM_JOBID"})) {
    BatchJob job;
    job.scheduler = "slurm";
    job.job_id = *job_id;
    job.step_id = value_or_empty(environment, {"SLURM_STEP_ID", "SLURM_STEPID"});
    job.array_job_id = value_or_empty(environment, {"SLURM_ARRAY_JOB_ID"});
    job.array_task_id = value_or_empty(environment, {"SLURM_ARRAY_TASK_ID"});
    job.name = value_or_empty(environment, {"SLURM_JOB_NAME"});
    job.user = value_or_empty(environment, {"SLURM_JOB_USER"});
    job.account = value_or_empty(environment, {"SLURM_JOB_ACCOUNT"});
    job.partition = value_or_empty(environment, {"SLURM_JOB_PARTITION"});
    if (auto nodelist = first_set(environment, {"SLURM_JOB_NODELIST", "SLURM_NODELIST"})) {
      try {
        job.nodes = expand_hostlist(*nodelist);
      } catch (const std::invalid_argument&) {
        job.nodes = {*nodelist};  // kept as written rather than lost
      }
    }
    job.task_count = parse_count(first_set(environment, {"SLURM_NTASKS", "SLURM_NPROCS"}));
    job.task_rank = parse_count(first_set(environment, {"SLURM_PROCID"}));
    job.local_rank = parse_count(first_set(environment, {"SLURM_LOCALID"}));
    // A step's own GPUs first (srun), then the job's (batch script), then the ordinal Slurm sets for gres.
    for (const char* name : {"SLURM_STEP_GPUS", "SLURM_JOB_GPUS", "GPU_DEVICE_ORDINAL"}) {
      if (auto gpus = clean_gpu_list(environment(name))) {
        job.gpus = gpus;
        job.gpus_source = name;
        break;
      }
    }
    if (job.user.empty()) job.user = current_user_name();
    return job;
  }
  if (auto job_id = first_set(environment, {"OAR_JOB_ID", "OAR_JOBID"})) {
    BatchJob job;
    job.scheduler = "oar";
    job.job_id = *job_id;
    job.array_job_id = value_or_empty(environment, {"OAR_ARRAY_ID", "OAR_ARRAYID"});
    job.array_task_id = value_or_empty(environment, {"OAR_ARRAY_INDEX", "OAR_ARRAYINDEX"});
    job.name = value_or_empty(environment, {"OAR_JOB_NAME", "OAR_JOBNAME"});
    job.user = value_or_empty(environment, {"OAR_USER"});
    job.account = value_or_empty(environment, {"OAR_PROJECT_NAME"});
    read_oar_files(environment, hostname, job);
    if (job.user.empty()) job.user = current_user_name();
    return job;
  }
  return std::nullopt;
}

std::vector<std::string> expand_hostlist(const std::string& hostlist) {
  std::vector<std::string> hosts;
  // Split at the commas outside brackets.
  std::vector<std::string> items;
  std::string current;
  int depth = 0;
  for (char c : hostlist) {
    if (c == '[') ++depth;
    if (c == ']' && --depth < 0) throw std::invalid_argument("unbalanced ']' in hostlist '" + hostlist + "'");
    if (c == ',' && depth == 0) {
      items.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  if (depth != 0) throw std::invalid_argument("unbalanced '[' in hostlist '" + hostlist + "'");
  items.push_back(current);

  constexpr std::size_t kMaxHosts = 1'000'000;
  for (std::string& raw_item : items) {
    const std::string item = trim(raw_item);
    if (item.empty()) continue;
    // Expand the first bracket group, then the rest of the item recursively (n[1-2]-ib[0-1]).
    const auto open = item.find('[');
    if (open == std::string::npos) {
      hosts.push_back(item);
      continue;
    }
    const auto close = item.find(']', open);
    const std::string prefix = item.substr(0, open);
    const std::string suffix = item.substr(close + 1);
    const std::vector<std::string> rest =
        suffix.find('[') == std::string::npos ? std::vector<std::string>{suffix} : expand_hostlist(suffix);
    std::string_view ranges(item.data() + open + 1, close - open - 1);
    while (!ranges.empty()) {
      const auto comma = ranges.find(',');
      const std::string_view range = ranges.substr(0, comma);
      ranges = comma == std::string_view::npos ? std::string_view() : ranges.substr(comma + 1);
      const auto dash = range.find('-');
      const std::string_view low_text = range.substr(0, dash);
      const std::string_view high_text = dash == std::string_view::npos ? low_text : range.substr(dash + 1);
      unsigned long low = 0;
      unsigned long high = 0;
      const auto parse = [&](std::string_view text, unsigned long& out) {
        const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
        if (text.empty() || ec != std::errc() || ptr != text.data() + text.size())
          throw std::invalid_argument("bad range '" + std::string(range) + "' in hostlist '" + hostlist +
                                      "'");
      };
      parse(low_text, low);
      parse(high_text, high);
      if (high < low || high - low >= kMaxHosts)
        throw std::invalid_argument("bad range '" + std::string(range) + "' in hostlist '" + hostlist + "'");
      const std::size_t width = low_text.size();  // zero padding as written ("01-10")
      for (unsigned long n = low; n <= high; ++n) {
        std::string number = std::to_string(n);
        if (number.size() < width) number.insert(0, width - number.size(), '0');
        for (const std::string& tail : rest) {
          std::string host = prefix;
          host.append(number).append(tail);
          hosts.push_back(std::move(host));
        }
        if (hosts.size() > kMaxHosts) throw std::invalid_argument("hostlist '" + hostlist + "' is too long");
      }
    }
  }
  return hosts;
}

}  // namespace wattprint
