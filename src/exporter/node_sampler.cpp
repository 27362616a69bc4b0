// The exporter's sampling thread and the snapshot it publishes.
#include "exporter/node_sampler.hpp"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>

#include "platform/signal_free_thread.hpp"

namespace wattprint::exporter {

namespace {

constexpr double kMinCounterPeriodS = 0.001;

std::vector<NodeSensor> sensors_of(const std::vector<std::unique_ptr<EnergyCounterSource>>& sources) {
  std::vector<NodeSensor> sensors;
  for (const auto& source : sources) {
    for (const SensorInfo& info : source->sensors())
      sensors.push_back({info.name, component_name(info.component), info.origin});
  }
  return sensors;
}

AccountingSettings with_server(AccountingSettings settings, bool attached, const std::string& sensor) {
  settings.server_attached = attached;
  settings.server_sensor = sensor;
  return settings;
}

double unix_seconds(WallTime t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); }

}  // namespace

std::vector<JobObservation> CgroupJobSource::observe() {
  std::vector<JobObservation> out;
  for (JobCgroup& job : cgroups_.find_jobs(users_)) {
    JobObservation seen;
    seen.usage = cgroups_.usage(job.path);
    seen.pids = cgroups_.processes(job.path);
    std::sort(seen.pids.begin(), seen.pids.end());
    seen.job = std::move(job);
    out.push_back(std::move(seen));
  }
  return out;
}

NodeSampler::NodeSampler(std::vector<std::unique_ptr<EnergyCounterSource>> sources,
                         std::unique_ptr<ServerSampler> server, const std::string& server_sensor,
                         JobSource& jobs, const ProcFs& procfs, const Clock& clock, Seconds interval,
                         AccountingSettings settings)
    : sources_(std::move(sources)),
      sensors_(sensors_of(sources_)),
      server_(std::move(server)),
      jobs_(jobs),
      machine_(procfs),
      clock_(clock),
      interval_(interval),
      counter_period_(interval),
      ticks_per_second_(static_cast<double>(::sysconf(_SC_CLK_TCK))),
      accounting_(sensors_, with_server(std::move(settings), server_ != nullptr, server_sensor)) {
  for (std::size_t s = 0; s < sources_.size(); ++s) {
    EnergyCounterSource* source = sources_[s].get();
    const auto& infos = source->sensors();
    raw_.emplace_back(infos.size(), 0);
    errors_.emplace_back(infos.size(), 0);
    auto* gpu_source = dynamic_cast<GpuSource*>(source);
    if (gpu_source != nullptr) {
      gpu_sources_.push_back(gpu_source);
      gpu_activity_.emplace_back(gpu_source->devices().size());
    }
    for (std::size_t i = 0; i < infos.size(); ++i) {
      channels_.push_back({source, s, i, CounterTrack(infos[i]), Joules{}});
      const double safe = 0.5 * channels_.back().track.safe_read_period_s();
      counter_period_ = Seconds(std::max(kMinCounterPeriodS, std::min(counter_period_.count(), safe)));
    }
  }
}

NodeSampler::~NodeSampler() { stop(); }

void NodeSampler::read_counters(double at_s) {
  for (std::size_t s = 0; s < sources_.size(); ++s) sources_[s]->read(raw_[s], errors_[s]);
  for (Channel& channel : channels_) {
    channel.pending += channel.track.update(at_s, raw_[channel.source_index][channel.index],
                                            errors_[channel.source_index][channel.index]);
  }
}

void NodeSampler::sample(double at_s) {
  read_counters(at_s);
  NodeSample sample;
  sample.at_s = at_s;
  sample.wall_unix_s = unix_seconds(clock_.wall_now());
  for (Channel& channel : channels_) {
    sample.sensor_energy.push_back(channel.pending);
    channel.pending = {};
  }
  for (std::size_t s = 0; s < gpu_sources_.size(); ++s) {
    gpu_sources_[s]->sample_activity(gpu_activity_[s]);
    for (const GpuActivity& activity : gpu_activity_[s]) sample.gpu_activity.push_back(activity);
  }
  if (server_) {
    const ServerNow now = server_->now(at_s);
    if (now.power_w) sample.server_power = Watts{*now.power_w};
    if (now.energy_j) {
      sample.server_energy = Joules{std::max(0.0, *now.energy_j - last_server_j_.value_or(0.0))};
      last_server_j_ = std::max(last_server_j_.value_or(0.0), *now.energy_j);
    }
  }
  if (const auto ticks = machine_.cpu_ticks())
    sample.machine_busy_cpu_s = static_cast<double>(ticks->busy) / ticks_per_second_;
  if (const auto memory = machine_.memory()) sample.machine_memory_used_bytes = memory->used_bytes();
  sample.jobs = jobs_.observe();
  accounting_.add(sample);

  const std::vector<MetricFamily> families = accounting_.metrics();
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->samples = accounting_.samples();
  snapshot->prometheus = render_metrics(families, ExpositionFormat::Prometheus004);
  snapshot->openmetrics = render_metrics(families, ExpositionFormat::OpenMetrics100);
  const std::lock_guard lock(mutex_);
  latest_ = std::move(snapshot);
}

void NodeSampler::start() {
  start_ = clock_.steady_now();
  if (server_) server_->start(start_);
  sample(0.0);
  thread_ = start_thread_without_signals([this] { loop(); });
}

void NodeSampler::sample_now() {
  {
    const std::lock_guard lock(mutex_);
    sample_requested_ = true;
  }
  wake_.notify_all();
}

void NodeSampler::stop() {
  if (!thread_.joinable()) return;
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  if (server_) (void)server_->finish(since_start(clock_.steady_now()));
}

std::shared_ptr<const Snapshot> NodeSampler::latest() const {
  const std::lock_guard lock(mutex_);
  return latest_;
}

void NodeSampler::loop() {
  using Duration = std::chrono::steady_clock::duration;
  const auto period = std::chrono::duration_cast<Duration>(counter_period_);
  const auto interval = std::chrono::duration_cast<Duration>(interval_);
  auto next_read = start_ + period;
  auto next_sample = start_ + interval;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const auto deadline = std::min(next_read, next_sample);
    wake_.wait_until(lock, deadline, [this] { return stopping_ || sample_requested_; });
    if (stopping_) break;
    const bool requested = sample_requested_;
    sample_requested_ = false;
    lock.unlock();
    const SteadyTime now = clock_.steady_now();
    if (requested || now >= next_sample) {
      sample(since_start(now));
      next_sample = now + interval;
    } else {
      read_counters(since_start(now));
    }
    while (next_read <= now) next_read += period;
    lock.lock();
  }
}

}  // namespace wattprint::exporter
