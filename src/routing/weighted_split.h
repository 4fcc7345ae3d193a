// Weighted cluster choice for canary splits: smooth weighted round-robin
// (each pick adds every weight to its running score and takes the highest,
// which then pays back the total), so over any window of sum(weights) picks
// each target is chosen exactly its weight's number of times, interleaved.
// Deterministic; one instance per worker and route; no allocation per pick.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace switchyard::routing {

class SmoothWeightedRoundRobin {
 public:
  SmoothWeightedRoundRobin() = default;
  explicit SmoothWeightedRoundRobin(std::vector<uint32_t> weights);

  // Index of the next target; 0 when there are no targets.
  size_t next();
  size_t size() const { return weights_.size(); }

 private:
  std::vector<uint32_t> weights_;
  std::vector<int64_t> current_;
  int64_t total_ = 0;
};

}  // namespace switchyard::routing
