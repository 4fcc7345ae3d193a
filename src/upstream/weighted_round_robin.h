// A per-worker smooth weighted round-robin picker over endpoint indexes
// (nginx's algorithm): every pick adds each eligible index's weight to its
// running score, takes the highest score (the lowest index on a tie) and
// subtracts the total weight from the winner. Weights 3:1 give a, a, b, a
// rather than a, a, a, b: the heavier endpoint's turns are spread out. Pure
// and deterministic; not thread-safe, each worker owns its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace switchyard::upstream {

class WeightedRoundRobin {
 public:
  // Picks among [0, n) those with eligible(i), using weight(i) (> 0; any
  // integer type). nullopt if nothing is eligible. Scores persist across
  // calls while n stays the same; a different n starts them afresh.
  // Allocates only when n changes.
  template <class Pred, class Weight>
  std::optional<size_t> pick(size_t n, Pred&& eligible, Weight&& weight) {
    if (scores_.size() != n) scores_.assign(n, 0);
    std::optional<size_t> best;
    int64_t total = 0;
    for (size_t i = 0; i < n; ++i) {
      if (!eligible(i)) continue;
      int64_t w = static_cast<int64_t>(weight(i));
      if (w <= 0) w = 1;
      scores_[i] += w;
      total += w;
      if (!best || scores_[i] > scores_[*best]) best = i;
    }
    if (best) scores_[*best] -= total;
    return best;
  }

  void reset() { scores_.clear(); }

 private:
  std::vector<int64_t> scores_;
};

}  // namespace switchyard::upstream
