// RpcDeadline: when an RPC must be over. The client's grpc-timeout counts
// from the RPC's start, capped by the route's timeout_max; without one the
// route's timeout_default applies, and without that there is no deadline.
// Time is the worker's event::Clock, so tests move it by hand. The deadline
// waits in its client connection's DeadlineQueue (no libevent timer of its
// own); when it comes the RPC ends DEADLINE_EXCEEDED (the callback); until
// then it bounds retries and is forwarded as what is left of it.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string_view>
#include <utility>

#include "common/duration.h"
#include "event/clock.h"
#include "event/deadline_queue.h"
#include "http2/headers.h"
#include "routing/route_table.h"

namespace switchyard::proxy {

class RpcDeadline {
 public:
  RpcDeadline(event::DeadlineQueue& queue, event::Clock& clock, event::Clock::TimePoint start,
              std::function<void()> on_expiry)
      : queue_(queue), clock_(clock), start_(start), entry_(std::move(on_expiry)) {}

  // Reads the request's grpc-timeout under `route`'s rules (route may be
  // null: a call the proxy serves itself) and arms the timer. False, with
  // nothing armed, when grpc-timeout is malformed (`*bad_value` gets it).
  bool start(const http2::HeaderList& request, const routing::Route* route,
             std::string_view* bad_value);
  void cancel() { entry_.cancel(); }

  bool set() const { return at_.has_value(); }
  // What is left of it; nullopt without a deadline.
  std::optional<Duration> left() const;
  // False once the deadline passed, or would before `delay` from now.
  bool allows(Duration delay = Duration::zero()) const {
    return !at_ || clock_.now() + delay < *at_;
  }
  // The budget it was given (for the DEADLINE_EXCEEDED message); needs set().
  std::chrono::milliseconds budget() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(*at_ - start_);
  }

 private:
  event::DeadlineQueue& queue_;
  event::Clock& clock_;
  const event::Clock::TimePoint start_;
  std::optional<event::Clock::TimePoint> at_;
  event::DeadlineQueue::Entry entry_;
};

}  // namespace switchyard::proxy
