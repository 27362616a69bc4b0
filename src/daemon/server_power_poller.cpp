// The server power poller: read on a thread, answer from memory.
#include "daemon/server_power_poller.hpp"

#include <fmt/format.h>

#include <chrono>

#include "daemon/protocol.hpp"
#include "platform/signal_free_thread.hpp"

namespace wattprint::daemon {

std::string power_answer(const LatestServerRead& latest, SteadyTime now, Seconds stale_after) {
  if (!latest.at) return encode_power_failure("no reading of the server's power yet");
  const double age_s = std::chrono::duration<double>(now - *latest.at).count();
  if (age_s > stale_after.count()) {
    return encode_power_failure(
        fmt::format("no answer from the server's power meter for {:.1f} s (a read is hanging)", age_s));
  }
  if (!latest.reading) {
    return encode_power_failure(latest.error.empty() ? "the last read failed" : latest.error);
  }
  return encode_power_response(latest.reading->power.value, latest.reading->window.count());
}

ServerPowerPoller::ServerPowerPoller(std::unique_ptr<ServerPowerSource> source, Seconds interval,
                                     Seconds timeout, const Clock& clock)
    : source_(std::move(source)), interval_(interval), timeout_(timeout), clock_(clock) {}

ServerPowerPoller::~ServerPowerPoller() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Seconds ServerPowerPoller::stale_after() const { return Seconds(2.0 * interval_.count() + timeout_.count()); }

void ServerPowerPoller::read_once() {
  ServerRead read = source_->read();
  const SteadyTime now = clock_.steady_now();
  const std::lock_guard lock(mutex_);
  latest_.reading = read.reading;
  latest_.error = std::move(read.error);
  latest_.at = now;
  ++reads_;
}

void ServerPowerPoller::start() {
  read_once();
  thread_ = start_thread_without_signals([this] { loop(); });
}

void ServerPowerPoller::loop() {
  const auto period = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(interval_.count()));
  auto next = std::chrono::steady_clock::now() + period;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (wake_.wait_until(lock, next, [this] { return stopping_; })) break;
    lock.unlock();
    read_once();
    next += period;
    // After a read that took longer than the period, the next one starts a period after this one ended.
    if (const auto now = std::chrono::steady_clock::now(); next < now) next = now + period;
    lock.lock();
  }
}

std::string ServerPowerPoller::answer() const {
  const SteadyTime now = clock_.steady_now();
  const std::lock_guard lock(mutex_);
  return power_answer(latest_, now, stale_after());
}

std::uint64_t ServerPowerPoller::reads() const {
  const std::lock_guard lock(mutex_);
  return reads_;
}

}  // namespace wattprint::daemon
