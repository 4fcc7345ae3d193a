// The settings one backend endpoint is connected with: the cluster's
// (connectionSettingsFor) plus its TLS, when the cluster has a tls block:
// the context, and SNI / the verified name (the cluster's tls.server_name,
// else the endpoint's host). Traffic pools and health checks both call this,
// so a health check reaches a backend exactly the way an RPC does.
#pragma once

#include <string>

#include "upstream/cluster.h"
#include "upstream/connection_settings.h"

namespace switchyard::upstream {

ConnectionSettings endpointConnectionSettings(const ClusterSnapshot& cluster, const Endpoint& endpoint);

// The host part of "host:port" / "[v6]:port".
std::string hostOf(const std::string& origin);

}  // namespace switchyard::upstream
