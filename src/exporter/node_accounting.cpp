// Accumulation of the exporter's counters and their metric families.
#include "exporter/node_accounting.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "attribution/share.hpp"
#include "platform/host_info.hpp"

namespace wattprint::exporter {

namespace {

std::string job_key(const std::string& scheduler, const std::string& job_id) {
  return scheduler + "/" + job_id;
}

using Labels = std::vector<std::pair<std::string, std::string>>;

Labels job_labels(const JobCgroup& job) {
  return {{"scheduler", job.scheduler}, {"job_id", job.job_id}, {"user", job.user}};
}

Labels with(Labels labels, std::initializer_list<std::pair<std::string, std::string>> more) {
  labels.insert(labels.end(), more.begin(), more.end());
  return labels;
}

MetricFamily family(std::string name, MetricType type, std::string unit, std::string help) {
  MetricFamily f;
  f.name = std::move(name);
  f.type = type;
  f.unit = std::move(unit);
  f.help = std::move(help);
  return f;
}

}  // namespace

NodeAccounting::NodeAccounting(std::vector<NodeSensor> sensors, AccountingSettings settings)
    : sensors_(std::move(sensors)),
      settings_(std::move(settings)),
      sensor_total_(sensors_.size()),
      sensor_power_(sensors_.size()) {
  for (std::size_t i = 0; i < sensors_.size(); ++i) {
    if (sensors_[i].component == "gpu") gpu_sensor_.push_back(i);
  }
}

void NodeAccounting::add(const NodeSample& sample) {
  const bool first = samples_ == 0;
  ++samples_;
  const double dt_s = first ? 0.0 : std::max(0.0, sample.at_s - last_at_s_);
  last_at_s_ = sample.at_s;
  last_wall_s_ = sample.wall_unix_s;
  double busy_delta_s = 0.0;
  if (sample.machine_busy_cpu_s) {
    if (last_busy_s_) busy_delta_s = std::max(0.0, *sample.machine_busy_cpu_s - *last_busy_s_);
    last_busy_s_ = sample.machine_busy_cpu_s;
  }
  busy_cpu_s_ += busy_delta_s;
  memory_used_bytes_ = sample.machine_memory_used_bytes;

  Joules package;
  Joules dram;
  std::vector<Joules> gpu_energy(gpu_sensor_.size());
  for (std::size_t i = 0; i < sensors_.size() && i < sample.sensor_energy.size(); ++i) {
    const Joules delta = sample.sensor_energy[i];
    sensor_total_[i] += delta;
    if (dt_s > 0.0) sensor_power_[i] = Watts{delta.value / dt_s};
    if (sensors_[i].component == "package") package += delta;
    if (sensors_[i].component == "dram") dram += delta;
  }
  for (std::size_t g = 0; g < gpu_sensor_.size(); ++g) {
    if (gpu_sensor_[g] < sample.sensor_energy.size()) gpu_energy[g] = sample.sensor_energy[gpu_sensor_[g]];
  }
  if (sample.server_energy) {
    server_read_ = true;
    server_ += *sample.server_energy;
    if (settings_.idle_server_power) {
      // Per sample, never below zero: a counter only grows.
      const double above_idle = sample.server_energy->value - settings_.idle_server_power->value * dt_s;
      server_minus_idle_ += Joules{std::max(0.0, above_idle)};
    }
  }
  if (sample.server_power) server_power_ = sample.server_power;
  if (dt_s > 0.0) add_estimate(dt_s, busy_delta_s, sample);
  add_jobs(sample, dt_s, busy_delta_s, package, dram, gpu_energy);
}

void NodeAccounting::add_estimate(double dt_s, double busy_delta_s, const NodeSample& sample) {
  EstimateInputs inputs;
  inputs.runtime = Seconds(dt_s);
  inputs.cores_used = busy_delta_s / dt_s;
  inputs.cpu = settings_.cpu;
  inputs.memory_gb = static_cast<double>(sample.machine_memory_used_bytes.value_or(0)) / kBytesPerGigabyte;
  inputs.gpus = static_cast<int>(gpu_sensor_.size());
  inputs.gpu = settings_.gpu;
  double utilisation = 0.0;
  std::size_t with_utilisation = 0;
  for (const GpuActivity& activity : sample.gpu_activity) {
    if (activity.utilisation_percent) {
      utilisation += *activity.utilisation_percent / 100.0;
      ++with_utilisation;
    }
  }
  inputs.gpu_usage = with_utilisation > 0 ? utilisation / static_cast<double>(with_utilisation) : 1.0;
  estimate_ += estimate_method(inputs).it_energy;
}

void NodeAccounting::add_jobs(const NodeSample& sample, double dt_s, double busy_delta_s, Joules package,
                              Joules dram, const std::vector<Joules>& gpu_energy) {
  for (auto& [key, totals] : jobs_) totals.ended_at_s = totals.ended_at_s.value_or(sample.at_s);
  for (const JobObservation& seen : sample.jobs) {
    JobTotals& totals = jobs_[job_key(seen.job.scheduler, seen.job.job_id)];
    const bool new_job = totals.job.job_id.empty();
    totals.job = seen.job;
    totals.ended_at_s.reset();
    totals.memory_bytes = seen.usage.memory_bytes.value_or(0);
    if (new_job || !seen.usage.cpu_s) {
      totals.last_group_cpu_s = seen.usage.cpu_s;
      continue;  // the first sight is the baseline
    }
    const double cpu_delta_s =
        totals.last_group_cpu_s ? std::max(0.0, *seen.usage.cpu_s - *totals.last_group_cpu_s) : 0.0;
    totals.last_group_cpu_s = seen.usage.cpu_s;
    totals.cpu_s += cpu_delta_s;
    totals.package += package * cpu_time_share(cpu_delta_s, busy_delta_s);
    if (sample.machine_memory_used_bytes)
      totals.dram += dram * memory_share(totals.memory_bytes, *sample.machine_memory_used_bytes);
    for (std::size_t g = 0; g < gpu_energy.size() && g < sample.gpu_activity.size(); ++g) {
      bool present = false;
      totals.gpu += gpu_energy[g] * gpu_share(sample.gpu_activity[g], seen.pids, present);
    }
    if (dt_s > 0.0) {
      EstimateInputs inputs;
      inputs.runtime = Seconds(dt_s);
      inputs.cores_used = cpu_delta_s / dt_s;
      inputs.cpu = settings_.cpu;
      inputs.memory_gb = static_cast<double>(totals.memory_bytes) / kBytesPerGigabyte;
      const MethodResult modelled = estimate_method(inputs);
      totals.estimate_cpu += modelled.components.cpu.value_or(Joules{});
      totals.estimate_memory += modelled.components.memory.value_or(Joules{});
    }
  }
  std::erase_if(jobs_, [&](const auto& entry) {
    const auto& ended = entry.second.ended_at_s;
    return ended && sample.at_s - *ended > settings_.keep_ended.count();
  });
}

std::optional<Joules> NodeAccounting::method_energy(const std::string& method) const {
  Joules process;
  Joules gpu;
  bool have_process = false;
  for (std::size_t i = 0; i < sensors_.size(); ++i) {
    const std::string& component = sensors_[i].component;
    if (component == "package" || component == "dram" || component == "gpu") {
      process += sensor_total_[i];
      have_process = true;
    }
    if (component == "gpu") gpu += sensor_total_[i];
  }
  if (method == "estimate") return estimate_;
  if (method == "process") return have_process ? std::optional(process) : std::nullopt;
  if (method == "gpu") return gpu_sensor_.empty() ? std::nullopt : std::optional(gpu);
  if (method == "server") return settings_.server_attached ? std::optional(server_) : std::nullopt;
  if (method == "server-minus-idle") {
    return settings_.server_attached && settings_.idle_server_power ? std::optional(server_minus_idle_)
                                                                    : std::nullopt;
  }
  return std::nullopt;
}

const JobTotals* NodeAccounting::job(const std::string& scheduler, const std::string& job_id) const {
  const auto found = jobs_.find(job_key(scheduler, job_id));
  return found == jobs_.end() ? nullptr : &found->second;
}

std::vector<MetricFamily> NodeAccounting::metrics() const {
  const Footprint& footprint = settings_.footprint;
  std::vector<MetricFamily> out;

  MetricFamily build = family("wattprint_build", MetricType::Info, "", "wattprint's version (value 1).");
  build.samples.push_back({{{"version", settings_.version}}, 1.0});
  out.push_back(std::move(build));

  MetricFamily samples = family("wattprint_exporter_samples", MetricType::Counter, "",
                                "Samples taken since the exporter started (each sample reads every sensor, "
                                "/proc/stat and every job's cgroup; scrapes never sample).");
  samples.samples.push_back({{}, static_cast<double>(samples_)});
  out.push_back(std::move(samples));

  MetricFamily last = family("wattprint_exporter_last_sample_timestamp_seconds", MetricType::Gauge, "seconds",
                             "Unix time of the last sample, which every value here describes.");
  last.samples.push_back({{}, last_wall_s_});
  out.push_back(std::move(last));

  MetricFamily power = family("wattprint_node_power_watts", MetricType::Gauge, "watts",
                              "Measured power of each node sensor over the last sample interval (counters: "
                              "energy delta / interval; server: its last reading).");
  MetricFamily energy =
      family("wattprint_node_energy_joules", MetricType::Counter, "joules",
             "Measured energy of each node sensor since the exporter started (psys includes "
             "the packages, core and uncore lie inside their package: do not add them up).");
  for (std::size_t i = 0; i < sensors_.size(); ++i) {
    const Labels labels{
        {"component", sensors_[i].component}, {"sensor", sensors_[i].name}, {"kind", "measured"}};
    if (sensor_power_[i]) power.samples.push_back({labels, sensor_power_[i]->value});
    energy.samples.push_back({labels, sensor_total_[i].value});
  }
  if (settings_.server_attached) {
    const Labels labels{{"component", "server"}, {"sensor", settings_.server_sensor}, {"kind", "measured"}};
    if (server_power_) power.samples.push_back({labels, server_power_->value});
    if (server_read_) energy.samples.push_back({labels, server_.value});
  }
  out.push_back(std::move(power));
  out.push_back(std::move(energy));

  MetricFamily busy = family("wattprint_node_cpu_busy_seconds", MetricType::Counter, "seconds",
                             "Busy CPU time of the whole machine (all cores, /proc/stat without idle and "
                             "iowait) since the exporter started: the denominator of the jobs' CPU shares.");
  busy.samples.push_back({{}, busy_cpu_s_});
  out.push_back(std::move(busy));
  MetricFamily memory = family("wattprint_node_memory_used_bytes", MetricType::Gauge, "bytes",
                               "Memory in use on the machine (MemTotal - MemAvailable) at the last sample.");
  if (memory_used_bytes_) memory.samples.push_back({{}, static_cast<double>(*memory_used_bytes_)});
  out.push_back(std::move(memory));

  MetricFamily method_energy_family = family(
      "wattprint_method_energy_joules", MetricType::Counter, "joules",
      "IT energy of the whole node by each of wattprint's five methods since the exporter started, without "
      "PUE. estimate is modelled (busy cores x TDP per core + memory GB x 0.3725 W/GB + GPUs x TDP x "
      "utilisation); process (package + dram + gpu counters), gpu, server and server-minus-idle (server "
      "minus the idle baseline, never below 0 per sample) are measured. A method without its sensor or "
      "baseline has no series.");
  MetricFamily method_co2 =
      family("wattprint_method_co2_grams", MetricType::Counter, "grams",
             "CO2e of each method's energy: kWh x PUE x grid intensity (see wattprint_pue "
             "and wattprint_grid_intensity_grams_per_kwh).");
  for (const std::string& method : method_names()) {
    const std::optional<Joules> joules = method_energy(method);
    if (!joules) continue;
    const Labels labels{{"method", method}, {"kind", method == "estimate" ? "modelled" : "measured"}};
    method_energy_family.samples.push_back({labels, joules->value});
    method_co2.samples.push_back({labels, footprint.co2_grams(*joules)});
  }
  out.push_back(std::move(method_energy_family));
  out.push_back(std::move(method_co2));

  MetricFamily job_energy = family(
      "wattprint_job_energy_joules", MetricType::Counter, "joules",
      "IT energy attributed to each job since the exporter first saw it, without PUE. method=process "
      "(kind=measured): measured package energy x the job's share of the machine's busy CPU time, dram x its "
      "share of used memory, gpu x its share of each GPU's processes, per sample. method=estimate "
      "(kind=modelled): the job's cores x TDP per core and memory GB x 0.3725 W/GB.");
  MetricFamily job_co2 = family("wattprint_job_co2_grams", MetricType::Counter, "grams",
                                "CO2e of each job's energy by method: kWh x PUE x grid intensity.");
  MetricFamily job_cpu = family("wattprint_job_cpu_seconds", MetricType::Counter, "seconds",
                                "CPU time of the job's cgroup since the exporter first saw it (measured).");
  MetricFamily job_memory = family("wattprint_job_memory_bytes", MetricType::Gauge, "bytes",
                                   "Memory charged to the job's cgroup at the last sample (measured).");
  MetricFamily job_running =
      family("wattprint_job_running", MetricType::Gauge, "",
             "1 while the job's cgroup exists, 0 once it ended (its series stay for --keep-ended, then go).");
  for (const auto& [key, totals] : jobs_) {
    const Labels labels = job_labels(totals.job);
    const auto component = [&](const char* method, const char* name, Joules joules, const char* kind) {
      job_energy.samples.push_back(
          {with(labels, {{"method", method}, {"component", name}, {"kind", kind}}), joules.value});
    };
    component("process", "package", totals.package, "measured");
    component("process", "dram", totals.dram, "measured");
    component("process", "gpu", totals.gpu, "measured");
    component("estimate", "cpu", totals.estimate_cpu, "modelled");
    component("estimate", "memory", totals.estimate_memory, "modelled");
    job_co2.samples.push_back({with(labels, {{"method", "process"}, {"kind", "measured"}}),
                               footprint.co2_grams(totals.process_energy())});
    job_co2.samples.push_back({with(labels, {{"method", "estimate"}, {"kind", "modelled"}}),
                               footprint.co2_grams(totals.estimate_energy())});
    job_cpu.samples.push_back({labels, totals.cpu_s});
    job_memory.samples.push_back({labels, static_cast<double>(totals.memory_bytes)});
    job_running.samples.push_back({labels, totals.ended_at_s ? 0.0 : 1.0});
  }
  out.push_back(std::move(job_energy));
  out.push_back(std::move(job_co2));
  out.push_back(std::move(job_cpu));
  out.push_back(std::move(job_memory));
  out.push_back(std::move(job_running));

  MetricFamily pue = family("wattprint_pue", MetricType::Gauge, "",
                            "Power usage effectiveness applied to the CO2 counters, and where it came from.");
  pue.samples.push_back({{{"source", footprint.pue_source}}, footprint.pue});
  out.push_back(std::move(pue));
  MetricFamily intensity =
      family("wattprint_grid_intensity_grams_per_kwh", MetricType::Gauge, "grams_per_kwh",
             "Grid carbon intensity (gCO2e per kWh) applied to the CO2 counters, and where it came from.");
  const CarbonIntensity& ci = footprint.carbon_intensity;
  intensity.samples.push_back({{{"source", ci.source}, {"region", ci.region}}, ci.g_per_kwh});
  out.push_back(std::move(intensity));
  if (settings_.idle_server_power) {
    MetricFamily idle = family("wattprint_node_idle_power_watts", MetricType::Gauge, "watts",
                               "The idle server power server-minus-idle subtracts, and where it came from.");
    idle.samples.push_back({{{"source", settings_.idle_source}}, settings_.idle_server_power->value});
    out.push_back(std::move(idle));
  }
  return out;
}

}  // namespace wattprint::exporter
