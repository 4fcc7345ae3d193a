#include "upstream/connection_settings.h"

namespace switchyard::upstream {

std::string hostOf(const std::string& origin) {
  if (!origin.empty() && origin.front() == '[') {
    size_t close = origin.find(']');
    return close == std::string::npos ? origin : origin.substr(1, close - 1);
  }
  size_t colon = origin.rfind(':');
  return colon == std::string::npos ? origin : origin.substr(0, colon);
}

ConnectionSettings connectionSettings(const ClusterSnapshot& cluster, const Endpoint& endpoint) {
  const auto& spec = *cluster.spec;
  ConnectionSettings cs;
  cs.connect_timeout = spec.connect_timeout;
  cs.keepalive_interval = spec.keepalive_interval;
  cs.keepalive_timeout = spec.keepalive_timeout;
  // Upstream windows are generous: the downstream side bounds memory.
  cs.h2.initial_stream_window = 256 * 1024;
  cs.h2.initial_connection_window = 16 * 1024 * 1024;
  cs.h2.max_concurrent_streams = 100;  // streams the backend may open to us (none in gRPC)
  if (cluster.tls) {
    cs.tls = cluster.tls;
    cs.tls_name = cluster.tls->server_name.empty() ? hostOf(endpoint.origin) : cluster.tls->server_name;
  }
  return cs;
}

}  // namespace switchyard::upstream
