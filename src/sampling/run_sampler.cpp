// Sampling cadence and accumulation: counters → joules per sensor → machine totals → the tree's share.
#include "sampling/run_sampler.hpp"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>

#include "attribution/share.hpp"
#include "platform/signal_free_thread.hpp"

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

RunCheckpoint interpolate(const RunCheckpoint& a, const RunCheckpoint& b, double at_s) {
  const double span = b.at_s - a.at_s;
  const double f = span > 0.0 ? std::clamp((at_s - a.at_s) / span, 0.0, 1.0) : 1.0;
  const auto mix = [f](double x, double y) { return x + (y - x) * f; };
  const auto mix_j = [&](Joules x, Joules y) { return Joules{mix(x.value, y.value)}; };
  RunCheckpoint c;
  c.at_s = at_s;
  c.tree_cpu_s = mix(a.tree_cpu_s, b.tree_cpu_s);
  c.machine_busy_s = mix(a.machine_busy_s, b.machine_busy_s);
  c.package = mix_j(a.package, b.package);
  c.dram = mix_j(a.dram, b.dram);
  c.psys = mix_j(a.psys, b.psys);
  c.attributed_package = mix_j(a.attributed_package, b.attributed_package);
  c.attributed_dram = mix_j(a.attributed_dram, b.attributed_dram);
  for (std::size_t i = 0; i < a.gpu_energy.size() && i < b.gpu_energy.size(); ++i) {
    c.gpu_energy.push_back(mix_j(a.gpu_energy[i], b.gpu_energy[i]));
    c.gpu_attributed.push_back(mix_j(a.gpu_attributed[i], b.gpu_attributed[i]));
  }
  return c;
}

RunMeasurement span_measurement(const RunMeasurement& run, const RunCheckpoint& from,
                                const RunCheckpoint& to) {
  RunMeasurement m;
  m.duration_s = std::max(0.0, to.at_s - from.at_s);
  m.tree_cpu_s = std::max(0.0, to.tree_cpu_s - from.tree_cpu_s);
  m.peak_tree_rss_bytes = run.peak_tree_rss_bytes;
  m.have_package = run.have_package;
  m.have_dram = run.have_dram;
  m.package = to.package - from.package;
  m.dram = to.dram - from.dram;
  m.psys = to.psys - from.psys;
  m.attributed_package = to.attributed_package - from.attributed_package;
  m.attributed_dram = to.attributed_dram - from.attributed_dram;
  m.machine_busy_s = std::max(0.0, to.machine_busy_s - from.machine_busy_s);
  m.counter_period_s = run.counter_period_s;
  m.group = run.group;  // how the run attributed (the whole run's counts)
  for (std::size_t i = 0; i < run.gpus.size(); ++i) {
    GpuEnergy gpu = run.gpus[i];
    // A checkpoint without GPU entries is the run's start: zero.
    const auto at = [i](const std::vector<Joules>& values) {
      return i < values.size() ? values[i] : Joules{};
    };
    gpu.energy = at(to.gpu_energy) - at(from.gpu_energy);
    gpu.attributed = at(to.gpu_attributed) - at(from.gpu_attributed);
    gpu.sampled_every_5s.reset();  // the 5-s replay is a whole-run figure
    gpu.degraded.clear();
    m.gpus.push_back(std::move(gpu));
  }
  if (run.server) {
    // Field by field: the run's per-boundary energies (one per phase mark) are not the span's.
    ServerEnergy server;
    server.family = run.server->family;
    server.origin = run.server->origin;
    server.readings = run.server->readings;
    server.failures = run.server->failures;
    server.last_error = run.server->last_error;
    server.min_power = run.server->min_power;
    server.max_power = run.server->max_power;
    server.mean_window = run.server->mean_window;
    server.period = run.server->period;
    if (to.server && (from.server || from.at_s == 0.0)) {
      const double before = from.server ? from.server->value : 0.0;
      server.energy = Joules{std::max(0.0, to.server->value - before)};
    }
    m.server = std::move(server);
  }
  return m;
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

bool RunSampler::resume_check(double at_s, double asleep_before_s) {
  const double asleep_after_s = clock_.suspended_total().count();
  const double slept_s = asleep_after_s - last_asleep_s_;
  const bool slept = slept_s > kSuspendThresholdS;
  // A suspend during the reading itself may fall between two counters' reads: the next reading starts
  // afresh too.
  const bool resync = slept || resync_next_;
  resync_next_ = asleep_after_s - asleep_before_s > kSuspendThresholdS;
  if (slept) {
    if (result_.suspended.size() < kMaxSuspendSpans) {
      result_.suspended.push_back({last_read_s_, slept_s});
    } else {
      result_.suspended.back().duration_s += slept_s;
    }
  }
  last_asleep_s_ = asleep_after_s;
  last_read_s_ = at_s;
  return resync;
}

void RunSampler::read_counters(double at_s) {
  const double asleep_before_s = clock_.suspended_total().count();
  for (std::size_t s = 0; s < sources_.size(); ++s) sources_[s]->read(raw_[s], errors_[s]);
  // Across a suspend every counter starts again from this reading: what they gained while the machine slept
  // is not the command's energy (running time, CLOCK_MONOTONIC, did not advance meanwhile).
  const bool resync = resume_check(at_s, asleep_before_s);
  std::size_t source_index = 0;
  for (Channel& channel : channels_) {
    while (sources_[source_index].get() != channel.source) ++source_index;
    const std::uint64_t raw = raw_[source_index][channel.index];
    const int error = errors_[source_index][channel.index];
    Joules added{};
    if (resync) {
      channel.track.resynchronise(at_s, raw, error);
    } else {
      added = channel.track.update(at_s, raw, error);
    }
    if (channel.component == Component::CpuPackage) pending_package_ += added;
    if (channel.component == Component::Dram) pending_dram_ += added;
    if (channel.component == Component::Gpu) {
      GpuTrack& gpu = gpus_[channel.gpu];
      gpu.pending += added;
      if (at_s > gpu.last_read_s && !resync)
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
  // Memory held over the interval: the mean of its two ends.
  const std::uint64_t rss_mean = (usage.rss_bytes + last_tree_rss_) / 2U;
  // Whose share of the machine: the attached group's (a batch job's cgroup) when it can be read, else the
  // tree's.
  double attributed_cpu_delta = tree_delta;
  std::uint64_t attributed_memory = rss_mean;
  const std::vector<pid_t>* attributed_pids = &tree_.last_pids();
  GroupUsage group;
  if (group_ != nullptr) {
    if (!result_.group) result_.group = GroupAttribution{group_->description(), 0, 0, 0.0, 0};
    group = group_->read();
    const bool first = at_s <= 0.0 && result_.intervals == 0 && !last_group_cpu_s_;
    if (group.cpu_s && last_group_cpu_s_ && !first) {
      attributed_cpu_delta = std::max(0.0, *group.cpu_s - *last_group_cpu_s_);
      result_.group->cpu_s += attributed_cpu_delta;
      attributed_memory = group.memory_bytes ? (*group.memory_bytes + last_group_memory_) / 2U : rss_mean;
      attributed_pids = &group.pids;
      ++result_.group->intervals;
    } else if (!first) {
      ++result_.group->fallback_intervals;
    }
    last_group_cpu_s_ = group.cpu_s;
    last_group_memory_ = group.memory_bytes.value_or(0);
    result_.group->peak_memory_bytes = std::max(result_.group->peak_memory_bytes, last_group_memory_);
  }
  const double cpu_share = cpu_time_share(attributed_cpu_delta, busy_delta);
  const double mem_share = memory ? memory_share(attributed_memory, memory->used_bytes()) : 0.0;

  result_.attributed_package += pending_package_ * cpu_share;
  result_.attributed_dram += pending_dram_ * mem_share;
  for (std::size_t s = 0; s < gpu_sources_.size(); ++s) gpu_sources_[s]->sample_activity(gpu_activity_[s]);
  for (GpuTrack& gpu : gpus_) {
    const GpuActivity& activity = gpu_activity_[gpu.source_slot][gpu.device];
    bool present = false;
    const double share = gpu_share(activity, *attributed_pids, present);
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
  const RunCheckpoint now = checkpoint(at_s);
  if (recent_.size() < kRecentCheckpoints) {
    recent_.push_back(now);
  } else {
    recent_[recent_next_] = now;
  }
  recent_next_ = (recent_next_ + 1) % kRecentCheckpoints;
  take_marks(at_s);
  // After the marks: a row's phase is the one open at the end of its interval.
  emit_row(at_s, cpu_share, std::max(0.0, tree_delta));
}

RunCheckpoint RunSampler::checkpoint(double at_s) const {
  RunCheckpoint c;
  c.at_s = at_s;
  c.tree_cpu_s = last_tree_cpu_s_;
  c.machine_busy_s = result_.machine_busy_s;
  c.package = result_.package;
  c.dram = result_.dram;
  c.attributed_package = result_.attributed_package;
  c.attributed_dram = result_.attributed_dram;
  c.gpu_energy.resize(gpus_.size());
  c.gpu_attributed.resize(gpus_.size());
  for (const Channel& channel : channels_) {
    if (channel.component == Component::Psys) c.psys += channel.track.total();
    if (channel.component == Component::Gpu) c.gpu_energy[channel.gpu] = channel.track.total();
  }
  for (std::size_t g = 0; g < gpus_.size(); ++g) c.gpu_attributed[g] = gpus_[g].result.attributed;
  return c;
}

void RunSampler::take_marks(double now_s) {
  if (marks_ == nullptr) return;
  std::vector<PhaseMark> marks = marks_->drain();
  if (marks.empty()) return;
  std::stable_sort(marks.begin(), marks.end(),
                   [](const PhaseMark& a, const PhaseMark& b) { return a.at < b.at; });
  const std::size_t first_new = tracker_.boundaries().size();
  for (const PhaseMark& mark : marks) {
    // A mark stamped before the run (a clock from elsewhere) or after this reading is held to the run.
    const double at_s = std::clamp(since_start(mark.at), last_mark_s_, now_s);
    last_mark_s_ = at_s;
    if (mark.kind == PhaseMark::Kind::Begin) {
      tracker_.begin(mark.name, at_s, mark.index);
    } else {
      tracker_.end(mark.name, at_s);
    }
  }
  add_boundaries_from(first_new);
}

void RunSampler::add_boundaries_from(std::size_t first) {
  const std::vector<double>& times = tracker_.boundaries();
  for (std::size_t b = first; b < times.size(); ++b) {
    boundaries_.push_back(boundary_checkpoint(times[b]));
    if (server_) server_->add_boundary(times[b]);
  }
}

RunCheckpoint RunSampler::boundary_checkpoint(double t) const {
  // The two recent checkpoints around t (the ring holds the last kRecentCheckpoints readings).
  const std::size_t n = recent_.size();
  const std::size_t oldest = n < kRecentCheckpoints ? 0 : recent_next_;
  const RunCheckpoint* before = nullptr;
  const RunCheckpoint* after = nullptr;
  for (std::size_t k = 0; k < n; ++k) {
    const RunCheckpoint& c = recent_[(oldest + k) % n];
    if (c.at_s <= t) {
      before = &c;
    } else {
      after = &c;
      break;
    }
  }
  if (before == nullptr) before = after;
  if (after == nullptr) after = before;
  RunCheckpoint c = before != nullptr ? interpolate(*before, *after, t) : RunCheckpoint{};
  c.at_s = t;
  return c;
}

void RunSampler::emit_row(double at_s, double cpu_share, double tree_cpu_delta_s) {
  if (sinks_.empty()) return;
  if (!sinks_started_) {
    sinks_started_ = true;
    for (const Channel& channel : channels_) {
      const SensorInfo& info = channel.source->sensors()[channel.index];
      series_.push_back({info.name, component_name(info.component), "measured", info.origin});
    }
    if (server_) series_.push_back({"server", "server", "measured", server_->origin()});
    last_series_energy_j_.assign(series_.size(), 0.0);
    for (SampleSink* sink : sinks_) sink->begin(series_);
  }
  SampleRow row;
  row.t_s = at_s;
  row.interval_s = at_s - last_row_s_;
  std::size_t k = 0;
  for (const Channel& channel : channels_) {
    const double total = channel.track.total().value;
    row.energy_j.emplace_back(total);
    if (row.interval_s > 0.0) {
      row.power_w.emplace_back((total - last_series_energy_j_[k]) / row.interval_s);
    } else {
      row.power_w.emplace_back();
    }
    last_series_energy_j_[k++] = total;
  }
  if (server_) {
    const ServerNow server = server_->now(at_s);
    row.power_w.push_back(server.power_w);
    row.energy_j.push_back(server.energy_j);
  }
  row.cpu_share = cpu_share;
  row.cpu_cores = row.interval_s > 0.0 ? tree_cpu_delta_s / row.interval_s : 0.0;
  row.phase = tracker_.current_path();
  last_row_s_ = at_s;
  if (row.interval_s > 0.0) {
    for (SampleSink* sink : sinks_) sink->add(row);
  }
}

void RunSampler::start() {
  start_ = clock_.steady_now();
  last_asleep_s_ = clock_.suspended_total().count();
  read_counters(0.0);
  attribute(0.0);
  result_.intervals = 0;
  if (server_) server_->start(start_);
  // The sampler thread must not receive the signals meant for the command (they are forwarded by the
  // main thread), so it starts with them blocked.
  thread_ = start_thread_without_signals([this] { loop(); });
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
      const double at_s = since_start(now);
      attribute(at_s);
      if (snapshot_sink_ && at_s >= next_snapshot_s_) {
        next_snapshot_s_ = at_s + snapshot_period_s_;
        snapshot_sink_(snapshot(at_s));
      }
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
  const std::size_t first_new = tracker_.boundaries().size();
  tracker_.finish(at_s);
  add_boundaries_from(first_new);
  for (SampleSink* sink : sinks_) {
    if (sinks_started_) sink->end();
  }
  std::optional<ServerEnergy> server;
  if (server_) server = server_->finish(at_s);
  result_ = assemble(at_s, tracker_, boundaries_, std::move(server), tree_.reaped_max_rss_bytes());
  return result_;
}

RunMeasurement RunSampler::snapshot(double at_s) const {
  // The phases as if the run ended now: open ones close at at_s, on a copy of the tracker.
  PhaseTracker tracker = tracker_;
  std::vector<RunCheckpoint> boundaries = boundaries_;
  const std::size_t first_new = tracker.boundaries().size();
  tracker.finish(at_s);
  for (std::size_t b = first_new; b < tracker.boundaries().size(); ++b)
    boundaries.push_back(boundary_checkpoint(tracker.boundaries()[b]));
  // The server's energy so far, held flat after its last reading (its sampler runs on its own cadence).
  std::optional<ServerEnergy> server;
  if (server_) server = server_->so_far(at_s);
  return assemble(at_s, tracker, std::move(boundaries), std::move(server), 0);
}

RunMeasurement RunSampler::assemble(double at_s, const PhaseTracker& tracker,
                                    std::vector<RunCheckpoint> boundaries, std::optional<ServerEnergy> server,
                                    std::uint64_t reaped_rss) const {
  RunMeasurement m = result_;
  m.duration_s = at_s;
  m.server = std::move(server);
  m.final_checkpoint = checkpoint(at_s);
  m.boundaries = std::move(boundaries);
  if (m.server) {
    m.final_checkpoint.server = m.server->energy;
    for (std::size_t b = 0; b < m.boundaries.size() && b < m.server->boundary_energy_j.size(); ++b) {
      if (m.server->boundary_energy_j[b]) m.boundaries[b].server = Joules{*m.server->boundary_energy_j[b]};
    }
  }
  m.phases = tracker.phases();
  if (marks_ != nullptr) {
    m.marks.accepted = marks_->accepted();
    m.marks.dropped = marks_->dropped();
  }
  m.marks.unmatched_ends = tracker.unmatched_ends();
  m.marks.ignored_begins = tracker.ignored_begins();
  m.marks.repeated_begins = tracker.repeated_begins();
  m.tree_cpu_s = last_tree_cpu_s_;
  m.peak_tree_rss_bytes = std::max(m.peak_tree_rss_bytes, reaped_rss);
  m.psys = {};
  m.sensors.clear();
  m.gpus.clear();
  for (const Channel& channel : channels_) {
    const SensorInfo& info = channel.source->sensors()[channel.index];
    m.sensors.push_back({info, channel.track.total(), channel.track.degraded_spans()});
    if (channel.component == Component::CpuPackage) m.have_package = true;
    if (channel.component == Component::Dram) m.have_dram = true;
    if (channel.component == Component::Psys) m.psys += channel.track.total();
    if (channel.component == Component::Gpu) {
      const GpuTrack& track = gpus_[channel.gpu];
      GpuEnergy gpu = track.result;
      gpu.energy = channel.track.total();
      gpu.degraded = channel.track.degraded_spans();
      gpu.sampled_every_5s = track.five_second.finish(at_s);
      if (track.utilisation_samples > 0) {
        gpu.mean_utilisation_percent = track.utilisation_sum / static_cast<double>(track.utilisation_samples);
      }
      m.gpus.push_back(std::move(gpu));
    }
  }
  return m;
}

}  // namespace wattprint
