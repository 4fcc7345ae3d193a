#include "routing/weighted_split.h"

#include <utility>

namespace switchyard::routing {

SmoothWeightedRoundRobin::SmoothWeightedRoundRobin(std::vector<uint32_t> weights)
    : weights_(std::move(weights)), current_(weights_.size(), 0) {
  for (uint32_t w : weights_) total_ += w;
}

size_t SmoothWeightedRoundRobin::next() {
  if (weights_.size() <= 1) return 0;
  size_t best = 0;
  for (size_t i = 0; i < weights_.size(); ++i) {
    current_[i] += weights_[i];
    if (current_[i] > current_[best]) best = i;
  }
  current_[best] -= total_;
  return best;
}

}  // namespace switchyard::routing
