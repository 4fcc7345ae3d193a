// The settings one backend connection is opened with, derived from its
// cluster: timeouts, keepalive, HTTP/2 windows and TLS (context, SNI and the
// verified name: the cluster's tls.server_name, else the endpoint's host).
// Traffic pools and health checks both call this, so they connect alike.
#pragma once

#include "upstream/cluster.h"
#include "upstream/upstream_connection.h"

namespace switchyard::upstream {

ConnectionSettings connectionSettings(const ClusterSnapshot& cluster, const Endpoint& endpoint);

// The host part of "host:port" / "[v6]:port".
std::string hostOf(const std::string& origin);

}  // namespace switchyard::upstream
