// UpstreamRequestHeaders: the request HEADERS one attempt sends to a backend,
// made from the client's request. Connection-specific (hop-by-hop) fields are
// dropped; :authority becomes the cluster's `authority` when it sets one and
// :scheme says how the cluster's backends are reached; grpc-timeout is
// rewritten to what is left of the deadline; x-forwarded-for gets the
// client's address appended; x-forwarded-client-cert is never taken from the
// client, only made from its verified certificate where the listener
// forwards it; then come the route's request_headers edits, the fields the
// policy filters add (PolicyFacts), the adapter's fields,
// grpc-previous-rpc-attempts on a retry (gRPC A6) and the generated tracing
// fields. The object holds the values it writes, and every field is passed
// to nghttp2 by reference (NvList::addKept): the object and its inputs must
// outlive the HEADERS frame, which the attempt that owns it guarantees
// (UpstreamAttempt). It is never moved (the values' bytes would move). No I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/duration.h"
#include "grpc/timeout.h"
#include "http2/headers.h"
#include "proxy/downstream_side.h"
#include "proxy/protocol_adapter.h"
#include "proxy/request_filter.h"
#include "proxy/request_identity.h"
#include "routing/header_edits.h"
#include "upstream/cluster.h"

namespace switchyard::proxy {

// What the forwarded request is made from.
struct UpstreamRequestInputs {
  const http2::HeaderList& request;  // the client's headers, as the policy steps left them
  const upstream::ClusterSnapshot& cluster;
  const routing::HeaderEdits& edits;  // the route's request_headers
  const PolicyFacts& facts;
  const ProtocolAdapter& protocol;
  const DownstreamSide& client;  // its listener, peer address and certificate
  const RequestIdentity& identity;
  uint32_t attempts;                  // this attempt included
  std::optional<Duration> time_left;  // of the RPC's deadline; nullopt: none
};

class UpstreamRequestHeaders {
 public:
  explicit UpstreamRequestHeaders(const UpstreamRequestInputs& in);
  UpstreamRequestHeaders(const UpstreamRequestHeaders&) = delete;
  UpstreamRequestHeaders& operator=(const UpstreamRequestHeaders&) = delete;
  UpstreamRequestHeaders(UpstreamRequestHeaders&&) = delete;

  const http2::NvList& list() const { return nva_; }

 private:
  http2::NvList nva_;
  // Storage for the values written here (nva_ points into them).
  std::string attempts_;
  grpc::GrpcTimeoutText timeout_;
  std::string xff_;
};

}  // namespace switchyard::proxy
