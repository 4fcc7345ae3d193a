// How the proxy connects to a cluster's endpoints, derived from the cluster's
// configuration in one place: the workers' pools (traffic) and the health
// checker both call connectionSettingsFor() and open their connections with
// UpstreamConnection::connect(), so a health check reaches a backend exactly
// the way an RPC does (timeouts, keepalive, HTTP/2 settings, transport).
#pragma once

#include "config/spec.h"
#include "upstream/upstream_connection.h"

namespace switchyard::upstream {

ConnectionSettings connectionSettingsFor(const config::ClusterSpec& spec);

}  // namespace switchyard::upstream
