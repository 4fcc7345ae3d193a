// EventLoop: one libevent event_base, driven by one thread. Other threads
// talk to it only through post(), which queues a closure and wakes the loop
// through an eventfd. So the base itself is never touched by two threads and
// runs without libevent's locks (EVENT_BASE_FLAG_NOLOCK): every event added,
// deleted or activated on the per-RPC path would otherwise take a mutex.
#pragma once

#include <event2/event.h>

#include <functional>
#include <optional>
#include <mutex>
#include <vector>

#include "common/c_handle.h"
#include "common/duration.h"
#include "event/clock.h"

namespace switchyard::event {

using EventBasePtr = CHandle<event_base, event_base_free>;
using EventPtr = CHandle<struct event, event_free>;

// Must be called once, before any event base is created: bases made outside
// EventLoop (the admin server's HTTP machinery, tests) keep libevent's locks.
void initThreading();

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  event_base* base() const { return base_.get(); }

  // Runs until stop(). Call from the owning thread.
  void run();
  // Thread-safe: makes run() return after the current iteration.
  void stop();
  // Thread-safe: runs fn on the loop's thread, in order of posting.
  void post(std::function<void()> fn);

 private:
  static void onWake(evutil_socket_t, short, void* arg);
  void drainPosted();

  EventBasePtr base_;
  int wake_fd_ = -1;  // eventfd: readable while posts wait
  EventPtr wake_;
  std::mutex mu_;
  std::vector<std::function<void()>> posted_;
};

// A one-shot timer owned by an object on the loop's thread. Destroying it
// cancels it. It keeps time by `clock`: the loop's (realClock() unless a test
// drives the loop with a ManualClock).
class Timer {
 public:
  Timer(event_base* base, std::function<void()> fn, Clock& clock = realClock());
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  void arm(Duration after);
  void cancel();
  bool armed() const;

 private:
  static void onFire(evutil_socket_t, short, void* arg);
  event_base* base_;
  Clock& clock_;
  std::function<void()> fn_;
  EventPtr ev_;
  // Set by arm(), cleared by cancel() and when the timer fires: whether the
  // event is pending (or due and about to run), known without asking libevent.
  bool pending_ = false;
};

// A timer that is armed and cancelled far more often than it fires (a
// connection's request-headers or idle timeout, re-armed for every request):
// arm() and cancel() only record when it is due; the libevent event is added
// again only when the new due time is earlier than the one it already waits
// for. When the event fires before the recorded due time (the timer was
// cancelled and re-armed later meanwhile) it waits for the rest; when nothing
// is due it stops. fn runs once the due time has passed, never early, and
// at most one wake-up per timeout period is spent on arms that were cancelled.
class LazyTimer {
 public:
  LazyTimer(event_base* base, std::function<void()> fn, Clock& clock = realClock());
  LazyTimer(const LazyTimer&) = delete;
  LazyTimer& operator=(const LazyTimer&) = delete;
  void arm(Duration after);
  void cancel() { due_.reset(); }
  bool armed() const { return due_.has_value(); }

 private:
  void onWake();
  Clock& clock_;
  std::function<void()> fn_;
  std::optional<Clock::TimePoint> due_;        // when fn runs; none: cancelled
  std::optional<Clock::TimePoint> scheduled_;  // when the libevent event fires; none: not pending
  Timer timer_;
};

// A deferred callback: schedule() makes fn run once on a later pass of the loop,
// however many times it was scheduled before that. Used to batch writes.
class Deferred {
 public:
  Deferred(event_base* base, std::function<void()> fn);
  void schedule();

 private:
  static void onFire(evutil_socket_t, short, void* arg);
  std::function<void()> fn_;
  EventPtr ev_;
  bool pending_ = false;
};

timeval toTimeval(Duration d);

}  // namespace switchyard::event
