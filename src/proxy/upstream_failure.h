// How a backend stream that ended without a complete response becomes the
// gRPC status the client sees (gRPC spec, "HTTP2 Transport Mapping": the
// RST_STREAM code mapping; connection loss and refused streams are
// UNAVAILABLE), and which local-error cause it is counted under. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "grpc/status_code.h"
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

// Whether the backend provably never saw the request, so a transparent retry is safe.
inline bool neverReachedBackend(upstream::StreamFailure failure) {
  return failure == upstream::StreamFailure::ConnectFailed ||
         failure == upstream::StreamFailure::Refused;
}

}  // namespace switchyard::proxy
