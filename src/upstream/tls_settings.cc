#include "upstream/tls_settings.h"

namespace switchyard::upstream {

std::string hostOf(const std::string& origin) {
  if (!origin.empty() && origin.front() == '[') {
    size_t close = origin.find(']');
    return close == std::string::npos ? origin : origin.substr(1, close - 1);
  }
  size_t colon = origin.rfind(':');
  return colon == std::string::npos ? origin : origin.substr(0, colon);
}

ConnectionSettings endpointConnectionSettings(const ClusterSnapshot& cluster, const Endpoint& endpoint) {
  ConnectionSettings cs = connectionSettingsFor(*cluster.spec);
  if (cluster.tls) {
    cs.tls = cluster.tls;
    cs.tls_name = cluster.tls->server_name.empty() ? hostOf(endpoint.origin) : cluster.tls->server_name;
  }
  return cs;
}

}  // namespace switchyard::upstream
