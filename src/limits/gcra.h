// Token buckets shared by every worker thread, without locks: the generic
// cell rate algorithm (GCRA). A bucket is one atomic integer, its
// "theoretical arrival time" (TAT): the time at which the bucket would be
// full again if nothing more arrived. Admitting a request moves the TAT one
// emission interval (1 / rate) into the future; a request is refused when
// that would put the TAT more than `burst` intervals ahead of now. A TAT in
// the past is a full bucket, so no refill timer is needed and an idle key
// holds no state worth keeping.
//
// Time is passed in by the caller (nanoseconds of a monotonic clock), so the
// arithmetic is exact and tests drive it with a simulated clock.
#pragma once

#include <atomic>
#include <cstdint>

namespace switchyard::limits {

// A rate and the burst allowed on top of it.
struct Rate {
  int64_t interval_ns = 1;  // emission interval: 1e9 / requests per second (>= 1)
  int64_t burst = 1;        // requests admitted at once by a full bucket (>= 1)

  // rps > 0; burst >= 1. The interval is rounded to the nearest nanosecond.
  static Rate perSecond(double rps, int64_t burst);
  // How far ahead of now the TAT may go: burst intervals.
  int64_t tolerance() const { return interval_ns * burst; }
};

// What a bucket decided.
struct Decision {
  bool allowed = false;
  int64_t retry_after_ns = 0;  // when refused: time until one request would be admitted
};

// One request against the TAT in `tat` (GCRA, compare-and-swap loop).
Decision take(std::atomic<int64_t>& tat, const Rate& rate, int64_t now_ns);

// One bucket for all callers (rate_limit key `none`).
class Bucket {
 public:
  explicit Bucket(Rate rate) : rate_(rate) {}
  Decision take(int64_t now_ns) { return limits::take(tat_, rate_, now_ns); }
  const Rate& rate() const { return rate_; }

 private:
  const Rate rate_;
  alignas(64) std::atomic<int64_t> tat_{0};  // 0: full
};

// Milliseconds, rounded up, for a retry-pushback header (0 stays 0).
int64_t ceilMillis(int64_t ns);

}  // namespace switchyard::limits
