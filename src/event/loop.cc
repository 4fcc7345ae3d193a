#include "event/loop.h"

#include <algorithm>

#include <event2/thread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace switchyard::event {

void initThreading() { evthread_use_pthreads(); }

EventLoop::EventLoop() {
  event_config* cfg = event_config_new();
  if (cfg == nullptr) throw std::runtime_error("event_config_new failed");
  event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
  base_.reset(event_base_new_with_config(cfg));
  event_config_free(cfg);
  if (!base_) throw std::runtime_error("event_base_new failed");
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
  wake_.reset(event_new(base_.get(), wake_fd_, EV_READ | EV_PERSIST, &EventLoop::onWake, this));
  event_add(wake_.get(), nullptr);
}

EventLoop::~EventLoop() {
  wake_.reset();
  base_.reset();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

// Keeps running with nothing registered (e.g. a drained worker): only stop() ends it.
void EventLoop::run() { event_base_loop(base_.get(), EVLOOP_NO_EXIT_ON_EMPTY); }

void EventLoop::stop() {
  post([this] { event_base_loopbreak(base_.get()); });
}

void EventLoop::post(std::function<void()> fn) {
  bool first;
  {
    std::lock_guard<std::mutex> g(mu_);
    posted_.push_back(std::move(fn));
    first = posted_.size() == 1;
  }
  // One wake-up per batch: a post behind others is taken by the same drain,
  // which reads the eventfd before it takes the queue.
  if (first) {
    uint64_t one = 1;
    ssize_t n;
    do {
      n = ::write(wake_fd_, &one, sizeof one);
    } while (n < 0 && errno == EINTR);
  }
}

void EventLoop::onWake(evutil_socket_t fd, short, void* arg) {
  uint64_t count;
  ssize_t n;
  do {
    n = ::read(fd, &count, sizeof count);
  } while (n < 0 && errno == EINTR);
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
