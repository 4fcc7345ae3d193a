// The per-RPC client-certificate check of a route: require_client_cert and
// allowed_sans against the connection's verified certificate. It is the first
// step of a route's policy chain (see request_filter.h): UNAUTHENTICATED
// without a verified certificate, PERMISSION_DENIED when none of its names is
// allowed, answered Trailers-Only.
#pragma once

#include <optional>
#include <string>

#include "grpc/status_code.h"
#include "metrics/worker_stats.h"
#include "proxy/request_filter.h"
#include "routing/route_table.h"
#include "tls/peer_identity.h"

namespace switchyard::proxy {

struct CertRefusal {
  grpc::StatusCode code;
  metrics::LocalError cause;  // what switchyard_local_errors_total counts
  std::string message;
};

// nullopt when the RPC may proceed. `peer` is null without a verified certificate.
std::optional<CertRefusal> checkClientCert(const routing::Route& route, const tls::PeerIdentity* peer);

// checkClientCert as a policy step; built for routes that set require_client_cert.
class ClientCertFilter final : public RequestFilter {
 public:
  std::optional<LocalAnswer> onRequest(PolicyRequest& request) const override;
};

}  // namespace switchyard::proxy
