// A per-worker least-request picker over endpoint indexes: power of two
// choices. Two distinct eligible indexes (when there are two) are drawn at random and the one with fewer
// active requests wins (the first on a tie), which steers load away from slow
// endpoints without the herding of always taking the global minimum. Pure:
// it sees only [0, n), an eligibility predicate and a load function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace switchyard::upstream {

class LeastRequest {
 public:
  explicit LeastRequest(uint64_t seed = 0x9E3779B97F4A7C15ULL) : state_(seed | 1) {}

  // nullopt if n == 0 or nothing is eligible. Calls `eligible` at most 2n
  // times and `load` at most twice; allocates nothing.
  template <class Pred, class Load>
  std::optional<size_t> pick(size_t n, Pred&& eligible, Load&& load) {
    auto a = firstEligibleFrom(random() % (n == 0 ? 1 : n), n, eligible);
    if (!a || n == 1) return a;
    // The second choice starts from a different index than the first.
    auto b = firstEligibleFrom((*a + 1 + random() % (n - 1)) % n, n, eligible);
    if (!b || *b == *a) return a;
    return load(*b) < load(*a) ? b : a;
  }

 private:
  template <class Pred>
  static std::optional<size_t> firstEligibleFrom(size_t start, size_t n, Pred& eligible) {
    for (size_t k = 0; k < n; ++k) {
      size_t i = (start + k) % n;
      if (eligible(i)) return i;
    }
    return std::nullopt;
  }

  uint64_t random() {  // xorshift64
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    return state_;
  }

  uint64_t state_;
};

}  // namespace switchyard::upstream
