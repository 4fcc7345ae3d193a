// gRPC status codes (grpc/grpc doc/statuscodes.md) and their textual forms.
// Pure functions, no I/O.
#pragma once

#include <optional>
#include <string_view>

namespace switchyard::grpc {

enum class StatusCode : int {
  Ok = 0,
  Cancelled = 1,
  Unknown = 2,
  InvalidArgument = 3,
  DeadlineExceeded = 4,
  NotFound = 5,
  AlreadyExists = 6,
  PermissionDenied = 7,
  ResourceExhausted = 8,
  FailedPrecondition = 9,
  Aborted = 10,
  OutOfRange = 11,
  Unimplemented = 12,
  Internal = 13,
  Unavailable = 14,
  DataLoss = 15,
  Unauthenticated = 16,
};

inline constexpr int kMaxStatusCode = 16;

// The canonical upper-case name: "OK", "CANCELLED", ..., "UNAUTHENTICATED".
// A value outside 0..16 (only reachable through a cast) gives "UNKNOWN".
const char* statusName(StatusCode code);

// The decimal form as sent in grpc-status: "0" .. "16" (no leading zeros).
// A value outside 0..16 gives "2" (UNKNOWN).
std::string_view statusNumber(StatusCode code);

// Accepts a name in any letter case ("unavailable", "Deadline_Exceeded") or a
// decimal code "0".."16" (as written in config files, e.g. retry_on).
// Anything else, including numbers above 16, gives nullopt.
std::optional<StatusCode> statusFromName(std::string_view text);

// Parses a received grpc-status header value. The value must be non-empty and
// consist only of ASCII digits (no sign, no spaces). Leading zeros are accepted
// because senders are only told not to emit them. A number above 16 (however
// long) is a status this build does not know and maps to UNKNOWN, as gRPC
// clients do; a non-numeric value gives nullopt, and the caller should then
// treat the status as missing.
std::optional<StatusCode> parseGrpcStatus(std::string_view value);

}  // namespace switchyard::grpc
