// Sampling cadence and accumulation: counters → joules per sensor → machine totals → the tree's share.
#include "sampling/run_sampler.hpp"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>

#include "attribution/share.hpp"

namespace wattprint {

namespace {
constexpr double kMinCounterPeriodS = 0.001;
}

void FiveSecondPowerSampling::observe(double at_s, Watts power) {
  if (!have_power_) {
    window_power_w_ = power.value;  // the first window starts with the first power seen
    have_power_ = true;
  }
  while (at_s >= next_mark_s_) {
    sampled_j_ += window_power_w_ * kWindowS;
    window_power_w_ = power.value;
    next_mark_s_ += kWindowS;
  }
}

std::optional<Joules> FiveSecondPowerSampling::finish(double duration_s) const {
  if (!have_power_) return std::nullopt;
  const double window_start = next_mark_s_ - kWindowS;
  return Joules{sampled_j_ + window_power_w_ * std::max(0.0, duration_s - window_start)};
}

RunSampler::RunSampler(std::vector<std::unique_ptr<EnergyCounterSource>> sources, ProcessTreeMonitor& tree,
                       const ProcFs& procfs, const Clock& clock, Seconds interval)
    : sources_(std::move(sources)),
      tree_(tree),
      machine_(procfs),
      clock_(clock),
      interval_(interval),
      counter_period_(interval),
      ticks_per_second_(static_cast<double>(::sysconf(_SC_CLK_TCK))) {
  for (auto& source : sources_) {
    const auto& infos = source->sensors();
    raw_.emplace_back(infos.size(), 0);
    errors_.emplace_back(infos.size(), 0);
    auto* gpu_source = dynamic_cast<GpuSource*>(source.get());
    if (gpu_source != nullptr) {
      gpu_sources_.push_back(gpu_source);
      gpu_activity_.emplace_back(gpu_source->devices().size());
    }
    for (std::size_t i = 0; i < infos.size(); ++i) {
      channels_.push_back({source.get(), i, CounterTrack(infos[i]), infos[i].component, 0});
      if (gpu_source != nullptr) {
        channels_.back().gpu = gpus_.size();
        GpuTrack track{};
        track.source = gpu_source;
        track.source_slot = gpu_sources_.size() - 1;
        track.device = i;
        track.result.device = gpu_source->devices().at(i);
        gpus_.push_back(std::move(track));
      }
      const double safe = 0.5 * channels_.back().track.safe_read_period_s();
      counter_period_ = Seconds(std::max(kMinCounterPeriodS, std::min(counter_period_.count(), safe)));
    }
  }
  result_.counter_period_s = counter_period_.count();
}

RunSampler::~RunSampler() {
  if (thread_.joinable()) {
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
}

void RunSampler::read_counters(double at_s) {
  for (std::size_t s = 0; s < sources_.size(); ++s) sources_[s]->read(raw_[s], errors_[s]);
  std::size_t source_index = 0;
  for (Channel& channel : channels_) {
    while (sources_[source_index].get() != channel.source) ++source_index;
    const Joules added =
        channel.track.update(at_s, raw_[source_index][channel.index], errors_[source_index][channel.index]);
    if (channel.component == Component::CpuPackage) pending_package_ += added;
    if (channel.component == Component::Dram) pending_dram_ += added;
    if (channel.component == Component::Gpu) {
      GpuTrack& gpu = gpus_[channel.gpu];
      gpu.pending += added;
      if (at_s > gpu.last_read_s)
        gpu.five_second.observe(at_s, Watts{added.value / (at_s - gpu.last_read_s)});
      gpu.last_read_s = at_s;
    }
  }
  ++result_.counter_reads;
}

void RunSampler::attribute(double at_s) {
  (void)at_s;
  const TreeUsage usage = tree_.sample();
  const auto machine = machine_.cpu_ticks();
  const auto memory = machine_.memory();
  const double machine_busy_s = machine ? static_cast<double>(machine->busy) / ticks_per_second_ : 0.0;

  const double tree_delta = usage.cpu_s - last_tree_cpu_s_;
  const double busy_delta = have_machine_ticks_ ? machine_busy_s - last_machine_busy_s_ : 0.0;
  const double cpu_share = cpu_time_share(tree_delta, busy_delta);
  // Memory held over the interval: the mean of its two ends.
  const std::uint64_t rss_mean = (usage.rss_bytes + last_tree_rss_) / 2U;
  const double mem_share = memory ? memory_share(rss_mean, memory->used_bytes()) : 0.0;

  result_.attributed_package += pending_package_ * cpu_share;
  result_.attributed_dram += pending_dram_ * mem_share;
  for (std::size_t s = 0; s < gpu_sources_.size(); ++s) gpu_sources_[s]->sample_activity(gpu_activity_[s]);
  for (GpuTrack& gpu : gpus_) {
    const GpuActivity& activity = gpu_activity_[gpu.source_slot][gpu.device];
    bool present = false;
    const double share = gpu_share(activity, tree_.last_pids(), present);
    gpu.result.attributed += gpu.pending * share;
    gpu.result.used_by_command = gpu.result.used_by_command || present;
    if (activity.utilisation_percent) {
      gpu.utilisation_sum += *activity.utilisation_percent;
      ++gpu.utilisation_samples;
    }
    gpu.pending = {};
  }
  result_.package += pending_package_;
  result_.dram += pending_dram_;
  pending_package_ = {};
  pending_dram_ = {};

  result_.machine_busy_s += std::max(0.0, busy_delta);
  last_tree_cpu_s_ = std::max(last_tree_cpu_s_, usage.cpu_s);
  last_machine_busy_s_ = machine_busy_s;
  have_machine_ticks_ = machine.has_value();
  last_tree_rss_ = usage.rss_bytes;
  result_.peak_tree_rss_bytes = std::max(result_.peak_tree_rss_bytes, usage.rss_bytes);
  ++result_.intervals;
}

void RunSampler::start() {
  start_ = clock_.steady_now();
  read_counters(0.0);
  attribute(0.0);
  result_.intervals = 0;
  if (server_) server_->start(start_);
  // The sampler thread must not receive the signals meant for the command (they are forwarded by the
  // main thread), so it starts with them blocked.
  sigset_t all;
  sigset_t previous;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &previous);
  thread_ = std::thread([this] { loop(); });
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

void RunSampler::loop() {
  auto next_read = start_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(counter_period_);
  auto next_interval = start_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(interval_);
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const auto deadline = std::min(next_read, next_interval);
    if (wake_.wait_until(lock, deadline, [this] { return stopping_; })) break;
    lock.unlock();
    const SteadyTime now = clock_.steady_now();
    read_counters(since_start(now));
    if (now >= next_interval) {
      attribute(since_start(now));
      while (next_interval <= now) {
        next_interval += std::chrono::duration_cast<std::chrono::steady_clock::duration>(interval_);
      }
    }
    while (next_read <= now) {
      next_read += std::chrono::duration_cast<std::chrono::steady_clock::duration>(counter_period_);
    }
    lock.lock();
  }
}

RunMeasurement RunSampler::finish() {
  if (thread_.joinable()) {
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  const SteadyTime end = clock_.steady_now();
  const double at_s = since_start(end);
  read_counters(at_s);
  attribute(at_s);
  result_.duration_s = at_s;
  if (server_) result_.server = server_->finish(at_s);
  result_.tree_cpu_s = last_tree_cpu_s_;
  result_.peak_tree_rss_bytes = std::max(result_.peak_tree_rss_bytes, tree_.reaped_max_rss_bytes());
  result_.psys = {};
  for (const Channel& channel : channels_) {
    const SensorInfo& info = channel.source->sensors()[channel.index];
    result_.sensors.push_back({info, channel.track.total(), channel.track.degraded_spans()});
    if (channel.component == Component::CpuPackage) result_.have_package = true;
    if (channel.component == Component::Dram) result_.have_dram = true;
    if (channel.component == Component::Psys) result_.psys += channel.track.total();
    if (channel.component == Component::Gpu) {
      GpuTrack& gpu = gpus_[channel.gpu];
      gpu.result.energy = channel.track.total();
      gpu.result.degraded = channel.track.degraded_spans();
      gpu.result.sampled_every_5s = gpu.five_second.finish(at_s);
      if (gpu.utilisation_samples > 0) {
        gpu.result.mean_utilisation_percent =
            gpu.utilisation_sum / static_cast<double>(gpu.utilisation_samples);
      }
      result_.gpus.push_back(gpu.result);
    }
  }
  return result_;
}

}  // namespace wattprint
