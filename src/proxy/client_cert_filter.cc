#include "proxy/client_cert_filter.h"

#include "routing/san_match.h"

namespace switchyard::proxy {

std::optional<CertRefusal> checkClientCert(const routing::Route& route, const tls::PeerIdentity* peer) {
  if (!route.require_client_cert) return std::nullopt;
  if (peer == nullptr) {
    return CertRefusal{grpc::StatusCode::Unauthenticated, metrics::LocalError::ClientCertRequired,
                       "route " + route.name + " requires a verified client certificate"};
  }
  if (route.allowed_sans.empty()) return std::nullopt;
  for (const auto* names : {&peer->uris, &peer->dns, &peer->emails}) {
    if (routing::anySanAllowed(route.allowed_sans, *names)) return std::nullopt;
  }
  if (routing::anySanAllowed(route.allowed_sans, {peer->subject})) return std::nullopt;
  return CertRefusal{grpc::StatusCode::PermissionDenied, metrics::LocalError::ClientCertNotAllowed,
                     "client certificate " + peer->display() + " is not allowed on route " + route.name};
}

std::optional<LocalAnswer> ClientCertFilter::onRequest(PolicyRequest& request) const {
  auto refused = checkClientCert(request.route, request.peer);
  if (!refused) return std::nullopt;
  if (request.stats != nullptr) request.stats->localError(refused->cause);
  return LocalAnswer{refused->code, std::move(refused->message), {}};
}

}  // namespace switchyard::proxy
