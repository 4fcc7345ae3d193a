#include "proxy/cluster_choice.h"

namespace switchyard::proxy {

void ClusterChoice::apply(const Runtime& runtime) {
  // Health updates bring new snapshots of the same configuration: keep the
  // split's rotation so a 90/10 split stays 90/10 however often they come.
  if (runtime.config.get() == config_ && routes_.size() == runtime.routes->routes().size()) return;
  config_ = runtime.config.get();
  routes_.clear();
  for (const auto& route : runtime.routes->routes()) {
    RouteState st;
    std::vector<uint32_t> weights;
    for (const auto& w : route.clusters) {
      int idx = runtime.clusterIndex(w.name);
      st.targets.push_back(idx < 0 ? 0 : static_cast<size_t>(idx));
      weights.push_back(w.weight);
    }
    st.split = routing::SmoothWeightedRoundRobin(std::move(weights));
    if (route.cluster_override) st.override_cluster = runtime.clusterIndex(route.cluster_override->cluster);
    routes_.push_back(std::move(st));
  }
}

size_t ClusterChoice::choose(const Runtime& runtime, const routing::Route& route,
                             const routing::RequestHeaders& headers) {
  size_t fallback = runtime.route_cluster[route.index];
  if (runtime.config.get() != config_ || route.index >= routes_.size()) return fallback;
  RouteState& st = routes_[route.index];
  if (st.override_cluster >= 0) {
    std::string_view value;
    const auto& o = *route.cluster_override;
    if (headers.find(o.header, &value) && (o.value.empty() || value == o.value)) {
      return static_cast<size_t>(st.override_cluster);
    }
  }
  if (st.targets.empty()) return fallback;
  return st.targets[st.split.next()];
}

}  // namespace switchyard::proxy
