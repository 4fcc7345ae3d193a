#include "proxy/upstream_failure.h"

#include <nghttp2/nghttp2.h>

#include "grpc/status_map.h"

namespace switchyard::proxy {

FailureAnswer answerForUpstreamFailure(upstream::StreamFailure failure, uint32_t h2_error,
                                       std::string_view endpoint) {
  using grpc::StatusCode;
  using metrics::LocalError;
  std::string ep(endpoint);
  switch (failure) {
    case upstream::StreamFailure::None:
      return {StatusCode::Internal, "backend closed the stream without a response", std::nullopt};
    case upstream::StreamFailure::Reset:
      return {grpc::statusFromRstStream(h2_error, true),
              std::string("backend reset the stream (") + nghttp2_http2_strerror(h2_error) + ")",
              LocalError::UpstreamReset};
    case upstream::StreamFailure::Refused:
      return {StatusCode::Unavailable, "backend " + ep + " refused the stream",
              LocalError::UpstreamReset};
    case upstream::StreamFailure::ConnectFailed:
      return {StatusCode::Unavailable, "cannot connect to backend " + ep,
              LocalError::UpstreamConnectFailure};
    case upstream::StreamFailure::ConnectionLost:
      return {StatusCode::Unavailable, "connection to backend " + ep + " lost",
              LocalError::UpstreamReset};
    case upstream::StreamFailure::PendingTimeout:
      return {StatusCode::Unavailable,
              "no stream slot on backend " + ep + " within the cluster's pending_timeout",
              std::nullopt};
    case upstream::StreamFailure::BadResponse:
      return {StatusCode::Internal,
              "backend " + ep + " sent response headers over the proxy's limits", std::nullopt};
  }
  return {StatusCode::Unavailable, "", std::nullopt};
}

}  // namespace switchyard::proxy
