// How a backend stream that ended without a complete response becomes the
// gRPC status the client sees (gRPC spec, "HTTP2 Transport Mapping": the
// RST_STREAM code mapping; connection loss and refused streams are
// UNAVAILABLE), and which local-error cause it is counted under; and how a
// backend's answer that is not a well-formed gRPC response (non-200 HEADERS,
// no gRPC content type, trailers without grpc-status, a body ending inside a
// message) becomes one. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "grpc/status_code.h"
#include "http2/headers.h"
#include "metrics/worker_stats.h"
#include "upstream/stream_handler.h"

namespace switchyard::proxy {

struct FailureAnswer {
  grpc::StatusCode code;
  std::string message;
  std::optional<metrics::LocalError> cause;  // counted in sy_local_errors_total
};

// `h2_error` is the RST_STREAM code (for StreamFailure::Reset); `endpoint` the backend's address.
FailureAnswer answerForUpstreamFailure(upstream::StreamFailure failure, uint32_t h2_error,
                                       std::string_view endpoint);

// The backend's response HEADERS when they are not a gRPC response: a
// non-200 :status (mapped to a code only when no grpc-status came, gRPC
// spec) or a 200 without grpc-status and without a gRPC content type.
// nullopt: a gRPC response, to forward.
std::optional<FailureAnswer> answerForResponseHeaders(const http2::HeaderList& headers);

// The status that replaces the backend's trailers, if any: a response must
// end with grpc-status (UNKNOWN without one), and one that ends inside a
// message is INTERNAL whatever it says (`partial_message`). nullopt: the
// trailers are forwarded as they are.
std::optional<FailureAnswer> answerForTrailers(bool has_grpc_status, bool partial_message);

// Whether the backend provably never saw the request, so a transparent retry is safe.
inline bool neverReachedBackend(upstream::StreamFailure failure) {
  return failure == upstream::StreamFailure::ConnectFailed ||
         failure == upstream::StreamFailure::Refused;
}

}  // namespace switchyard::proxy
