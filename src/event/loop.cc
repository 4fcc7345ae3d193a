#include "event/loop.h"

#include <algorithm>

#include <event2/thread.h>

#include <stdexcept>

namespace switchyard::event {

void initThreading() { evthread_use_pthreads(); }

EventLoop::EventLoop() : base_(event_base_new()) {
  if (!base_) throw std::runtime_error("event_base_new failed");
  wake_.reset(event_new(base_.get(), -1, EV_PERSIST, &EventLoop::onWake, this));
  // A persistent event with no fd never fires by itself; post() activates it.
  event_add(wake_.get(), nullptr);
}

EventLoop::~EventLoop() {
  wake_.reset();
  base_.reset();
}

// Keeps running with nothing registered (e.g. a drained worker): only stop() ends it.
void EventLoop::run() { event_base_loop(base_.get(), EVLOOP_NO_EXIT_ON_EMPTY); }

void EventLoop::stop() {
  post([this] { event_base_loopbreak(base_.get()); });
}

void EventLoop::post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> g(mu_);
    posted_.push_back(std::move(fn));
  }
  event_active(wake_.get(), EV_READ, 0);
}

void EventLoop::onWake(evutil_socket_t, short, void* arg) {
  static_cast<EventLoop*>(arg)->drainPosted();
}

void EventLoop::drainPosted() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard<std::mutex> g(mu_);
    batch.swap(posted_);
  }
  for (auto& fn : batch) fn();
}

timeval toTimeval(Duration d) {
  if (d.count() < 0) d = Duration::zero();
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  timeval tv;
  tv.tv_sec = static_cast<time_t>(us / 1000000);
  tv.tv_usec = static_cast<suseconds_t>(us % 1000000);
  return tv;
}

Timer::Timer(event_base* base, std::function<void()> fn, Clock& clock)
    : base_(base), clock_(clock), fn_(std::move(fn)) {}

Timer::~Timer() { cancel(); }

void Timer::arm(Duration after) {
  // Created on first use: most per-RPC timers (retry, often the deadline) never fire.
  if (!ev_) ev_.reset(evtimer_new(base_, &Timer::onFire, this));
  clock_.arm(ev_.get(), after);
  pending_ = true;
}

void Timer::cancel() {
  if (!pending_) return;
  pending_ = false;
  clock_.disarm(ev_.get());
}

// arm() sets the flag and cancel() and firing clear it, so it is the pending state.
bool Timer::armed() const { return pending_; }

void Timer::onFire(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Timer*>(arg);
  self->pending_ = false;  // a fired timer is no longer pending (fn_ may re-arm it)
  self->fn_();
}

LazyTimer::LazyTimer(event_base* base, std::function<void()> fn, Clock& clock)
    : clock_(clock), fn_(std::move(fn)), timer_(base, [this] { onWake(); }, clock) {}

void LazyTimer::arm(Duration after) {
  Clock::TimePoint due = clock_.now() + std::max(after, Duration::zero());
  due_ = due;
  if (scheduled_ && *scheduled_ <= due) return;  // the pending event wakes us in time
  scheduled_ = due;
  timer_.arm(after);
}

void LazyTimer::onWake() {
  scheduled_.reset();
  if (!due_) return;  // cancelled since it was armed
  Clock::TimePoint now = clock_.now();
  if (now < *due_) {
    scheduled_ = due_;
    timer_.arm(*due_ - now);
    return;
  }
  due_.reset();
  fn_();
}

Deferred::Deferred(event_base* base, std::function<void()> fn)
    : fn_(std::move(fn)), ev_(event_new(base, -1, 0, &Deferred::onFire, this)) {}

void Deferred::schedule() {
  if (pending_) return;
  pending_ = true;
  event_active(ev_.get(), EV_WRITE, 0);
}

void Deferred::onFire(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Deferred*>(arg);
  self->pending_ = false;
  self->fn_();
}

}  // namespace switchyard::event
