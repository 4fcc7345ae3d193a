// A per-worker round-robin picker over endpoint indexes. Pure and
// deterministic: it knows nothing about endpoints, only about [0, n) and a
// predicate saying which indexes may be picked right now (healthy, not
// ejected, ...). Not thread-safe; each worker owns its own.
#pragma once

#include <cstddef>
#include <optional>
#include <utility>

namespace switchyard::upstream {

class RoundRobin {
 public:
  // `start` is the first index tried by the first pick (taken modulo n).
  // Giving each worker a different start spreads their first picks.
  explicit RoundRobin(size_t start = 0) : start_(start), next_(start) {}

  // Picks the next index in [0, n) for which eligible(i) is true, trying the
  // indexes after the previous pick first and wrapping around. Returns nullopt
  // if n == 0 or nothing is eligible. Calls `eligible` at most n times and
  // allocates nothing. If n changes between calls, the rotation continues from
  // (previous pick + 1) mod n.
  template <class Pred>
  std::optional<size_t> pick(size_t n, Pred&& eligible) {
    if (n == 0) return std::nullopt;
    size_t i = next_ % n;
    for (size_t tried = 0; tried < n; ++tried) {
      if (eligible(i)) {
        next_ = i + 1;
        return i;
      }
      if (++i == n) i = 0;
    }
    return std::nullopt;
  }

  // Forgets the rotation; the next pick starts again at the start index.
  void reset() { next_ = start_; }

 private:
  size_t start_;
  size_t next_;
};

}  // namespace switchyard::upstream
