// AcceptGuard: keeps a listening socket from spinning when accept() fails.
// libevent retries a failing accept() (out of file descriptors, for instance)
// at once and forever, logging each failure; the guard instead stops watching
// the socket for a back-off (50 ms doubling to 1 s), logs at most once per
// 10 s, and reports each pause. Works for any evconnlistener, including
// evhttp's.
#pragma once

#include <event2/listener.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "common/duration.h"
#include "event/loop.h"

namespace switchyard::event {

class AcceptGuard {
 public:
  // `name` is used in the log line; `on_pause` runs on every pause (metrics).
  AcceptGuard(event_base* base, evconnlistener* lev, std::string name,
              std::function<void()> on_pause = {});
  ~AcceptGuard();
  AcceptGuard(const AcceptGuard&) = delete;
  AcceptGuard& operator=(const AcceptGuard&) = delete;

  // An accept succeeded: the next failure starts from the shortest pause.
  void onAccepted() { consecutive_ = 0; }

 private:
  static void onError(evconnlistener* lev, void* arg);
  void pause(int err);

  evconnlistener* lev_;
  std::string name_;
  std::function<void()> on_pause_;
  Timer resume_;
  uint32_t consecutive_ = 0;
  uint64_t unlogged_ = 0;
  std::chrono::steady_clock::time_point last_log_{};
  bool logged_once_ = false;
};

}  // namespace switchyard::event
