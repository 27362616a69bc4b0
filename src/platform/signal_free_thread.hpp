// A background thread that never receives the process's signals: those are meant for the command and
// forwarded (or handled) by the main thread.
#pragma once

#include <pthread.h>

#include <csignal>
#include <thread>
#include <utility>

namespace wattprint {

/// Starts `body` on a new thread whose signal mask blocks every signal (the mask a thread starts with is
/// its creator's, so the caller's is blocked for the moment of creation and then restored).
template <typename Body>
std::thread start_thread_without_signals(Body&& body) {
  sigset_t all;
  sigset_t previous;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &previous);
  std::thread thread(std::forward<Body>(body));
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return thread;
}

}  // namespace wattprint
