#include "event/clock.h"

#include <algorithm>

#include "event/loop.h"

namespace switchyard::event {
namespace {

class RealClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
  void arm(struct event* ev, Duration after) override {
    timeval tv = toTimeval(after);
    evtimer_add(ev, &tv);
  }
  void disarm(struct event* ev) override { evtimer_del(ev); }
  bool armed(const struct event* ev) const override { return evtimer_pending(ev, nullptr) != 0; }
};

// Constant-initialized: a function-local static would cost a guard check on
// every now() of the per-RPC path.
RealClock g_real_clock;

}  // namespace

Clock& realClock() { return g_real_clock; }

void ManualClock::arm(struct event* ev, Duration after) {
  disarm(ev);
  if (after <= Duration::zero()) {
    event_active(ev, EV_TIMEOUT, 1);  // due already: the next pass runs it, as libevent would
    return;
  }
  due_.emplace(now_ + after, ev);
}

void ManualClock::disarm(struct event* ev) {
  for (auto it = due_.begin(); it != due_.end();) {
    it = it->second == ev ? due_.erase(it) : std::next(it);
  }
  // A timer made active by advance() but not yet run is cancelled too.
  event_del(ev);
}

bool ManualClock::armed(const struct event* ev) const {
  for (const auto& [at, e] : due_) {
    if (e == ev) return true;
  }
  return event_pending(ev, EV_TIMEOUT, nullptr) != 0;  // active, about to run
}

void ManualClock::advance(Duration d) {
  now_ += std::max(d, Duration::zero());
  while (!due_.empty() && due_.begin()->first <= now_) {
    struct event* ev = due_.begin()->second;
    due_.erase(due_.begin());
    event_active(ev, EV_TIMEOUT, 1);
  }
}

Duration ManualClock::untilNextTimer() const {
  if (due_.empty()) return Duration::max();
  return std::chrono::duration_cast<Duration>(due_.begin()->first - now_);
}

}  // namespace switchyard::event
