// Runtime: everything an RPC needs to be routed, as one immutable snapshot.
// The server builds a new one on start, on reload and whenever endpoint
// health changes, and posts it to every worker. An RPC keeps the snapshot it
// started with alive (shared_ptr), so a reload never pulls a route or cluster
// out from under an RPC in flight.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/spec.h"
#include "proxy/request_filter.h"
#include "routing/route_table.h"
#include "schema/descriptor_catalog.h"
#include "tls/context.h"
#include "transcode/transcoding_table.h"
#include "upstream/cluster.h"

namespace switchyard::proxy {

struct Runtime {
  std::shared_ptr<const config::Config> config;
  std::shared_ptr<const routing::RouteTable> routes;
  // route index -> index into `clusters`
  std::vector<size_t> route_cluster;
  std::vector<std::shared_ptr<const upstream::ClusterSnapshot>> clusters;
  // Each route's policy chain (see request_filter.h). Built once per
  // configuration, so health-driven rebuilds keep the filters' state.
  RoutePoliciesPtr policies;
  // The descriptor sets (merged reflection, JSON transcoding); null without any.
  schema::CatalogPtr schema;
  // JSON transcoding's bindings and codec; null without json_transcoding routes.
  transcode::TranscodingTablePtr transcoding;
  uint64_t generation = 0;

  const upstream::ClusterSnapshot* clusterFor(const routing::Route& r) const {
    return clusters[route_cluster[r.index]].get();
  }
  int clusterIndex(const std::string& name) const {
    for (size_t i = 0; i < clusters.size(); ++i) {
      if (clusters[i]->name() == name) return static_cast<int>(i);
    }
    return -1;
  }
};

using RuntimePtr = std::shared_ptr<const Runtime>;

}  // namespace switchyard::proxy
