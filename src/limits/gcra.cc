#include "limits/gcra.h"

#include <algorithm>
#include <cmath>

namespace switchyard::limits {

Rate Rate::perSecond(double rps, int64_t burst) {
  Rate r;
  double interval = rps > 0 ? std::round(1e9 / rps) : 1e18;
  r.interval_ns = std::clamp<int64_t>(static_cast<int64_t>(std::min(interval, 1e18)), 1, int64_t{1} << 50);
  r.burst = std::clamp<int64_t>(burst, 1, int64_t{1} << 32);
  // Keep tolerance() (interval * burst) well inside int64.
  while (r.burst > 1 && r.interval_ns > (int64_t{1} << 62) / r.burst) r.burst /= 2;
  return r;
}

Decision take(std::atomic<int64_t>& tat, const Rate& rate, int64_t now_ns) {
  const int64_t limit = rate.tolerance();
  int64_t seen = tat.load(std::memory_order_relaxed);
  for (;;) {
    int64_t next = std::max(seen, now_ns) + rate.interval_ns;
    if (next - now_ns > limit) return Decision{false, next - now_ns - limit};
    if (tat.compare_exchange_weak(seen, next, std::memory_order_relaxed)) return Decision{true, 0};
  }
}

int64_t ceilMillis(int64_t ns) { return ns <= 0 ? 0 : (ns + 999'999) / 1'000'000; }

}  // namespace switchyard::limits
