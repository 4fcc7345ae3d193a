#include "proxy/upstream_request_headers.h"

#include "grpc/timeout.h"

namespace switchyard::proxy {
namespace {

// Fields whose value changes with every RPC. Towards the backend they are
// HPACK-coded "never indexed": the upstream connection's dynamic table is
// shared by every RPC on it, and indexing them would fill it with entries no
// later request can use, evicting the stable metadata that could, and making
// every encoder lookup walk them.
constexpr uint8_t kPerRequest = NGHTTP2_NV_FLAG_NO_INDEX;
bool changesPerRequest(std::string_view name) { return name == "x-request-id" || name == "traceparent"; }

}  // namespace

UpstreamRequestHeaders::UpstreamRequestHeaders(const UpstreamRequestInputs& in) {
  const auto& cluster = in.cluster;
  const routing::HeaderEdits& edits = in.edits;
  nva_.reserve(in.request.size() + edits.appended().size() + in.facts.upstream_headers.size() + 3);
  std::string_view prior_xff;
  bool has_xff = false;
  for (const auto& field : in.request.fields()) {
    std::string_view name = field.name;
    std::string_view value = field.value;
    if (name == ":authority" && !cluster.spec->authority.empty()) {
      value = cluster.spec->authority;
    } else if (name == ":scheme") {
      value = cluster.tls ? "https" : "http";  // how this cluster's backends are reached
    } else if (name == "grpc-timeout") {
      continue;  // replaced by the remaining budget below
    } else if (name == "x-forwarded-for") {
      prior_xff = value;
      has_xff = true;
      continue;
    } else if (http2::isHopByHop(name) || name == "x-forwarded-client-cert") {
      continue;  // a client-sent x-forwarded-client-cert is never trusted
    } else if (edits.drops(name)) {
      continue;  // the route's request_headers remove or set it
    }
    auto forwarded = in.protocol.upstreamField(name, value);
    if (forwarded) nva_.addKept(name, *forwarded, changesPerRequest(name) ? kPerRequest : 0);
  }
  in.protocol.addUpstreamFields(in.request, nva_);
  for (const auto& [name, value] : edits.appended()) nva_.addKept(name, value);
  for (const auto& [name, value] : in.facts.upstream_headers) nva_.addKept(name, value);  // e.g. verified JWT claims
  if (in.client.listener().forward_client_cert && in.client.peerIdentity() != nullptr) {
    nva_.addKept("x-forwarded-client-cert", in.client.peerIdentity()->xfcc);
  }
  if (in.attempts > 1) {
    // gRPC A6: tell the backend this is a retry.
    attempts_ = std::to_string(in.attempts - 1);
    nva_.addKept("grpc-previous-rpc-attempts", attempts_);
  }
  if (in.time_left) {
    // Forward what is left of the caller's budget, not what it started with.
    timeout_ = grpc::formatGrpcTimeoutText(*in.time_left);
    nva_.addKept("grpc-timeout", timeout_.view(), kPerRequest);
  }
  in.identity.appendGenerated(nva_);
  xff_ = has_xff ? std::string(prior_xff) + ", " + in.client.peerIp() : in.client.peerIp();
  nva_.addKept("x-forwarded-for", xff_);
}

}  // namespace switchyard::proxy
