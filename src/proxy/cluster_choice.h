// ClusterChoice: one worker's choice of the cluster an RPC goes to once its
// route is known: the route's override header first, then its weighted split
// (smooth weighted round-robin, state kept per worker and route across
// health updates, restarted on reload), else its single cluster.
#pragma once

#include <cstddef>
#include <vector>

#include "proxy/runtime.h"
#include "routing/request_match.h"
#include "routing/weighted_split.h"

namespace switchyard::proxy {

class ClusterChoice {
 public:
  // Called with each new snapshot before RPCs use it.
  void apply(const Runtime& runtime);
  // Index into runtime.clusters for an RPC on `route`.
  size_t choose(const Runtime& runtime, const routing::Route& route,
                const routing::RequestHeaders& headers);

 private:
  struct RouteState {
    routing::SmoothWeightedRoundRobin split;
    std::vector<size_t> targets;  // cluster index per split entry
    int override_cluster = -1;
  };

  const config::Config* config_ = nullptr;  // the configuration routes_ was built for
  std::vector<RouteState> routes_;          // by route index
};

}  // namespace switchyard::proxy
