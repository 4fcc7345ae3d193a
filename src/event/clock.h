// Clock: where the timers and deadlines of one event loop read the time.
// Code on a loop never calls steady_clock::now() or arms a libevent timer
// itself for anything it wants tested: it asks its loop's Clock. The real
// clock reads the monotonic clock and lets libevent wait; a ManualClock
// (tests) stands still until told to move, and then fires the timers that
// came due, so deadlines, retry backoffs and pending timeouts are driven
// without sleeping.
#pragma once

#include <event2/event.h>

#include <chrono>
#include <map>

#include "common/duration.h"

namespace switchyard::event {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  // Arms `ev`, an evtimer on the loop this clock serves, to fire `after` from
  // now (again: the earlier arming is replaced).
  virtual void arm(struct event* ev, Duration after) = 0;
  virtual void disarm(struct event* ev) = 0;
  virtual bool armed(const struct event* ev) const = 0;
};

// The monotonic clock, with libevent's own timers. Shared by every loop.
Clock& realClock();

// A clock that moves only when advance() is called. Armed timers wait in a
// queue of due times; advance() activates the ones that came due, in due
// order, and they run on the loop's next pass exactly as libevent would run
// an expired timer. One per loop, used from that loop's thread.
class ManualClock final : public Clock {
 public:
  // Starts far from the epoch, so that now() minus a few hours is still valid.
  ManualClock() : now_(TimePoint() + std::chrono::hours(1000)) {}

  TimePoint now() const override { return now_; }
  void arm(struct event* ev, Duration after) override;
  void disarm(struct event* ev) override;
  bool armed(const struct event* ev) const override;

  // Moves time forward by `d` and makes every timer due by then active.
  void advance(Duration d);
  // Timers armed and not yet due.
  size_t waitingTimers() const { return due_.size(); }
  // How long until the next armed timer is due; Duration::max() if none is.
  Duration untilNextTimer() const;

 private:
  TimePoint now_;
  std::multimap<TimePoint, struct event*> due_;
};

}  // namespace switchyard::event
