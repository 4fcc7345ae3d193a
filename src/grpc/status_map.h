// Synthesizing a gRPC status when the peer did not send one
// (grpc/grpc doc/http-grpc-status-mapping.md and doc/PROTOCOL-HTTP2.md).
// Use these only when no grpc-status was received: a grpc-status that is
// present always wins. Never use the HTTP table in reverse.
#pragma once

#include <cstdint>

#include "grpc/status_code.h"

namespace switchyard::grpc {

// HTTP/2 error codes (RFC 9113 section 7), as plain numbers so that this layer
// does not depend on nghttp2.
namespace h2error {
inline constexpr uint32_t kNoError = 0x0;
inline constexpr uint32_t kProtocolError = 0x1;
inline constexpr uint32_t kInternalError = 0x2;
inline constexpr uint32_t kFlowControlError = 0x3;
inline constexpr uint32_t kSettingsTimeout = 0x4;
inline constexpr uint32_t kStreamClosed = 0x5;
inline constexpr uint32_t kFrameSizeError = 0x6;
inline constexpr uint32_t kRefusedStream = 0x7;
inline constexpr uint32_t kCancel = 0x8;
inline constexpr uint32_t kCompressionError = 0x9;
inline constexpr uint32_t kConnectError = 0xa;
inline constexpr uint32_t kEnhanceYourCalm = 0xb;
inline constexpr uint32_t kInadequateSecurity = 0xc;
inline constexpr uint32_t kHttp11Required = 0xd;
}  // namespace h2error

// The HTTP status to gRPC status table:
//   400 -> INTERNAL, 401 -> UNAUTHENTICATED, 403 -> PERMISSION_DENIED,
//   404 -> UNIMPLEMENTED, 429/502/503/504 -> UNAVAILABLE, 431 -> INTERNAL,
//   anything else (200 without grpc-status included) -> UNKNOWN.
// 1xx responses are to be skipped by the caller, not mapped.
StatusCode statusFromHttpStatus(int http_status);

// The RST_STREAM error code to gRPC status table:
//   NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR,
//   SETTINGS_TIMEOUT, STREAM_CLOSED, FRAME_SIZE_ERROR, COMPRESSION_ERROR,
//   CONNECT_ERROR -> INTERNAL; REFUSED_STREAM -> UNAVAILABLE (nothing was
//   processed, retry is safe); CANCEL -> CANCELLED; ENHANCE_YOUR_CALM ->
//   RESOURCE_EXHAUSTED; INADEQUATE_SECURITY -> PERMISSION_DENIED;
//   HTTP_1_1_REQUIRED and unknown codes -> INTERNAL.
// `sent_by_server` tells which side reset the stream. The spec's table is the
// same in both directions (a client's CANCEL is a cancellation too), so it does
// not change the result today; it is part of the signature so that callers
// state the direction and the rule can be refined in one place. Whether a
// client CANCEL was really a deadline expiry is for the caller to decide.
StatusCode statusFromRstStream(uint32_t h2_error_code, bool sent_by_server);

}  // namespace switchyard::grpc
