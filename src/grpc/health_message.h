// The two grpc.health.v1 messages in protobuf wire format, encoded and decoded
// by hand so that the daemon needs no protobuf runtime for its health checks:
//
//   message HealthCheckRequest  { string service = 1; }
//   message HealthCheckResponse { ServingStatus status = 1; }
//   enum ServingStatus { UNKNOWN = 0; SERVING = 1; NOT_SERVING = 2; SERVICE_UNKNOWN = 3; }
//
// Decoding follows protobuf's rules: fields in any order, the last occurrence
// of a field wins, a missing field has its default (""/UNKNOWN), unknown
// fields of every wire type are skipped (groups included), and a field 1 with
// an unexpected wire type counts as an unknown field. Truncated varints,
// lengths past the end, stray end-group tags, field number 0 and the reserved
// wire types 6 and 7 make the message malformed. Pure functions, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace switchyard::grpc {

enum class ServingStatus : int32_t {
  Unknown = 0,
  Serving = 1,
  NotServing = 2,
  ServiceUnknown = 3,  // Watch only: the server does not know the service (yet)
};

// HealthCheckRequest{service}. An empty service (the whole server) encodes to
// an empty message, as proto3 omits default values.
std::string encodeHealthCheckRequest(std::string_view service);

// The service of a HealthCheckRequest; nullopt if malformed. Not used by the
// daemon itself; here so the encoding can be checked from both ends.
std::optional<std::string> decodeHealthCheckRequest(std::string_view bytes);

// The status of a HealthCheckResponse, as the int32 on the wire (proto3 enums
// are open: a value outside 0..3 is kept, not rejected); nullopt if malformed.
std::optional<int32_t> decodeHealthCheckResponse(std::string_view bytes);

// "UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN", or "status N".
std::string servingStatusName(int32_t status);

}  // namespace switchyard::grpc
