// Authentication decisions of one route in one worker: RPCs let through by
// the route's auth step and RPCs refused, by cause. Recorded by the auth
// filters (proxy/jwt_filter.cc, api_key_filter.cc), summed over workers at
// scrape time (switchyard_auth_allowed_total, switchyard_auth_failures_total).
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace switchyard::metrics {

// Why an RPC was refused; the order matches auth::AuthCause.
enum class AuthFailure {
  Missing,
  Malformed,
  BadAlgorithm,
  UnknownKey,
  BadSignature,
  Expired,
  NotYetValid,
  WrongIssuer,
  WrongAudience,
  ForbiddenClaims,
  BadApiKey,
};
inline constexpr size_t kAuthFailureCount = 11;
// Label value: "missing", "malformed", ...
const char* authFailureLabel(AuthFailure cause);

}  // namespace switchyard::metrics
