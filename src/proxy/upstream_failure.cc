#include "proxy/upstream_failure.h"

#include <nghttp2/nghttp2.h>

#include <charconv>

#include "grpc/content_type.h"
#include "grpc/message.h"
#include "grpc/status_map.h"

namespace switchyard::proxy {
namespace {

int parseHttpStatus(std::string_view s) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return (ec == std::errc() && p == s.data() + s.size()) ? v : 0;
}

}  // namespace

std::optional<FailureAnswer> answerForResponseHeaders(const http2::HeaderList& headers) {
  using grpc::StatusCode;
  std::string_view status = headers.get(":status");
  bool has_grpc_status = false;
  std::string_view grpc_status = headers.get("grpc-status", &has_grpc_status);
  if (status != "200") {
    // gRPC spec: the HTTP status maps to a gRPC code only when no grpc-status came.
    StatusCode code = grpc::statusFromHttpStatus(parseHttpStatus(status));
    std::string message = "backend answered HTTP " + std::string(status);
    if (has_grpc_status) {
      code = grpc::parseGrpcStatus(grpc_status).value_or(StatusCode::Unknown);
      std::string_view m = headers.get("grpc-message");
      if (!m.empty()) message = grpc::percentDecodeGrpcMessage(m);
    }
    return FailureAnswer{code, std::move(message), std::nullopt};
  }
  if (!has_grpc_status && !grpc::isGrpcContentType(headers.get("content-type"))) {
    return FailureAnswer{StatusCode::Unknown,
                         "backend answered with content-type \"" +
                             std::string(headers.get("content-type")) + "\"",
                         std::nullopt};
  }
  return std::nullopt;
}

std::optional<FailureAnswer> answerForTrailers(bool has_grpc_status, bool partial_message) {
  using grpc::StatusCode;
  if (!has_grpc_status) {
    // A gRPC response must end with grpc-status; synthesise one rather than
    // leave the client to guess (spec: clients would report UNKNOWN/INTERNAL).
    return FailureAnswer{StatusCode::Unknown, "backend ended the stream without grpc-status",
                         std::nullopt};
  }
  if (partial_message) {
    // gRPC: a response that ends inside a message is INTERNAL, whatever
    // grpc-status the backend sent (a client would otherwise take a lost
    // message for a clean end).
    return FailureAnswer{StatusCode::Internal, "backend response ended inside a gRPC message",
                         std::nullopt};
  }
  return std::nullopt;
}

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
