// The grpc-timeout request header (grpc/grpc doc/PROTOCOL-HTTP2.md):
//   Timeout      = TimeoutValue TimeoutUnit
//   TimeoutValue = 1*8 ASCII digits
//   TimeoutUnit  = "H" / "M" / "S" / "m" / "u" / "n"
//                  (hours, minutes, seconds, milliseconds, microseconds, nanoseconds)
// Pure functions, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/duration.h"

namespace switchyard::grpc {

// The largest TimeoutValue the grammar allows.
inline constexpr long long kMaxGrpcTimeoutValue = 99'999'999;

// The longest timeout parseGrpcTimeout() returns: any steady_clock time point
// (time since boot) plus this still fits in a nanosecond count.
inline constexpr Duration kMaxGrpcTimeout = std::chrono::hours(24 * 365 * 100);

// Parses a grpc-timeout value exactly by the grammar above: 1 to 8 digits and
// one unit letter, nothing else (no sign, no spaces, no fraction, no second
// unit). Returns nullopt for anything that does not match.
//
// Zero: the spec calls the value a "positive integer", but "0S" (or "0n", ...)
// is accepted and yields a zero duration. Real clients send it when a deadline
// has already passed, and gRPC servers accept it and fail the call at once
// with DEADLINE_EXCEEDED; rejecting it would turn an expired call into an
// unbounded one (a missing timeout means "infinite").
//
// Clamping: values above kMaxGrpcTimeout (100 years) are clamped to it, so
// that "99999999H" (11,415 years, more than a nanosecond Duration holds) is a
// long deadline rather than an overflow of `now + timeout`.
std::optional<Duration> parseGrpcTimeout(std::string_view value);

// Formats a duration as a grpc-timeout value for forwarding.
// - The unit is the finest one (n, u, m, S, M, H) in which the value fits in
//   8 digits, so precision is as high as the grammar allows.
// - A value that is not a whole number of that unit is rounded UP, so the
//   deadline is never shortened and is lengthened by less than one unit.
// - The result is then written in the coarsest unit that states the same
//   value exactly, so 1s is "1S" rather than "1000000u" (same value, shorter).
// - d <= 0 gives "1n" (an already expired deadline, still a valid header).
// - Values beyond the grammar saturate at "99999999H" (unreachable with a
//   64-bit nanosecond Duration, kept as a guard).
std::string formatGrpcTimeout(Duration d);

// The same value in a fixed buffer, for the per-RPC path: no allocation.
struct GrpcTimeoutText {
  char bytes[9];  // 1*8 digits and the unit
  uint8_t size = 0;
  std::string_view view() const { return {bytes, size}; }
};
GrpcTimeoutText formatGrpcTimeoutText(Duration d);

}  // namespace switchyard::grpc
