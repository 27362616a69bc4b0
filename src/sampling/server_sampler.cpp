// The server sampling thread: a reading now, then every period, then a last one when the run ends.
#include "sampling/server_sampler.hpp"

#include <fmt/format.h>
#include <pthread.h>

#include <algorithm>
#include <csignal>

#include "platform/signal_free_thread.hpp"

namespace wattprint {

ServerSampler::ServerSampler(std::unique_ptr<ServerPowerSource> source, const Clock& clock, Seconds period)
    : source_(std::move(source)), clock_(clock), period_(period) {}

ServerSampler::~ServerSampler() {
  if (thread_.joinable()) {
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
}

void ServerSampler::start(SteadyTime origin) {
  origin_ = origin;
  thread_ = start_thread_without_signals([this] { loop(); });
}

void ServerSampler::take_reading() {
  ServerRead read = source_->read();  // may block up to the source's timeout: no lock held
  if (read.reading && !(read.reading->power.value > 0.0 && read.reading->power.value <= kMaxServerWatts)) {
    read.error = fmt::format("implausible reading {:g} W (ignored)", read.reading->power.value);
    read.reading.reset();
  }
  // Running time (CLOCK_MONOTONIC): a suspend of the machine between two readings adds no time to the
  // integral, so its power is not billed (tests/unit/suspend_test.cpp).
  const double at_s = since_origin(clock_.steady_now());
  const std::lock_guard lock(mutex_);
  const double clamped = end_s_ ? std::min(at_s, *end_s_) : at_s;
  last_read_ok_ = read.reading.has_value();
  if (read.reading) {
    integrator_.add(clamped, read.reading->power, read.reading->window);
    last_power_w_ = read.reading->power.value;
  } else {
    integrator_.add_failure(clamped, read.error);
    last_error_ = read.error;
  }
}

void ServerSampler::loop() {
  const auto step = std::chrono::duration_cast<std::chrono::steady_clock::duration>(period_);
  auto next = origin_;
  for (;;) {
    take_reading();
    next += step;
    const SteadyTime now = clock_.steady_now();
    while (next <= now) next += step;  // a slow card skips readings instead of piling them up
    std::unique_lock lock(mutex_);
    if (wake_.wait_until(lock, next, [this] { return stopping_; })) break;
  }
  // The last reading, at the end of the run; skipped when the card has just failed, so that a card that
  // stopped answering does not hold the report back by one more timeout.
  bool take_last = false;
  {
    const std::lock_guard lock(mutex_);
    take_last = last_read_ok_;
  }
  if (take_last) take_reading();
}

ServerEnergy ServerSampler::finish(double end_s) {
  {
    const std::lock_guard lock(mutex_);
    end_s_ = end_s;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  return describe(integrator_.finish(end_s));
}

ServerEnergy ServerSampler::so_far(double at_s) {
  const std::lock_guard lock(mutex_);
  std::optional<Joules> energy;
  if (const std::optional<double> joules = integrator_.energy_so_far_j(at_s)) energy = Joules{*joules};
  return describe(energy);
}

ServerEnergy ServerSampler::describe(std::optional<Joules> energy) const {
  ServerEnergy result;
  result.family = source_->family();
  result.origin = source_->origin();
  result.period = period_;
  result.energy = energy;
  result.readings = integrator_.readings();
  result.failures = integrator_.failures();
  result.last_error = last_error_;
  result.min_power = integrator_.min_power();
  result.max_power = integrator_.max_power();
  result.mean_window = integrator_.mean_window();
  result.degraded = integrator_.degraded_spans();
  result.boundary_energy_j = integrator_.boundary_energies_j();
  return result;
}

void ServerSampler::add_boundary(double at_s) {
  const std::lock_guard lock(mutex_);
  integrator_.add_boundary(at_s);
}

ServerNow ServerSampler::now(double at_s) {
  const std::lock_guard lock(mutex_);
  return {last_power_w_, integrator_.energy_so_far_j(at_s)};
}

}  // namespace wattprint
