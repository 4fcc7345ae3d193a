// JWT (RFC 7519) verification against a provider's keys: compact JWS
// parsing, the signature (RS256/384/512, ES256/384, EdDSA, and HS256 when the
// provider opts in), and the registered claims exp/nbf (with clock skew),
// iss and aud. Pure: the caller passes the current time. Every failure has a
// cause for metrics and a message safe to return to the client (it never
// quotes the token).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/jwk.h"
#include "common/json_value.h"

namespace switchyard::auth {

enum class AuthCause {
  Missing,         // no credential
  Malformed,       // not a well-formed JWT / Bearer header
  BadAlgorithm,    // alg none, unsupported, or HS256 without the opt-in
  UnknownKey,      // no key of the provider fits the token's kid and alg
  BadSignature,
  Expired,
  NotYetValid,
  WrongIssuer,
  WrongAudience,
  ForbiddenClaims,  // authenticated, but the route's require_claims do not hold
  BadApiKey,
};
inline constexpr size_t kAuthCauseCount = 11;
const char* authCauseName(AuthCause cause);

struct JwtRules {
  std::string issuer;                  // "" = any
  std::vector<std::string> audiences;  // empty = any
  int64_t clock_skew_seconds = 60;
  bool allow_hs256 = false;
};

// What a verified token says; shared by the worker's cache and the RPCs.
struct VerifiedToken {
  JsonValue claims;
  std::string subject;             // `sub`, "" when absent
  std::optional<int64_t> expires;  // `exp`
  std::optional<int64_t> not_before;  // `nbf`
};

struct JwtFailure {
  AuthCause cause;
  std::string message;
};

struct JwtOutcome {
  std::shared_ptr<const VerifiedToken> token;  // set on success
  JwtFailure failure{AuthCause::Malformed, ""};
  bool ok() const { return token != nullptr; }
};

inline constexpr size_t kMaxJwtBytes = 16 * 1024;

// Verifies `jwt` (the compact serialization, without "Bearer ") at unix time `now`.
JwtOutcome verifyJwt(std::string_view jwt, const JwkSet& keys, const JwtRules& rules, int64_t now);

// The time checks alone, for a token taken from a cache; nullopt when valid.
std::optional<JwtFailure> checkTokenTime(const VerifiedToken& token, int64_t clock_skew_seconds, int64_t now);

// Whether the claim `name` allows `value`: a string claim equal to it or
// listing it among space-separated words (OAuth `scope`), or an array claim
// holding it as a string.
bool claimAllows(const JsonValue& claims, std::string_view name, std::string_view value);

// The claim `name` as header text: a string as is, an integral number in
// decimal, true/false; nullopt for anything else or when absent.
std::optional<std::string> claimAsText(const JsonValue& claims, std::string_view name);

}  // namespace switchyard::auth
