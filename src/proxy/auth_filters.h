// The authentication steps of a route's policy chain (see request_filter.h):
//
//   JwtFilter     `authorization: Bearer <JWT>` checked against a provider
//                 (auth.jwt_providers), then the route's require_claims;
//   ApiKeyFilter  a key header checked against a key set (auth.api_key_sets).
//
// A missing or invalid credential is answered UNAUTHENTICATED; a valid JWT
// whose claims the route does not accept, PERMISSION_DENIED. Messages never
// quote the credential. A passed step records the caller in facts.subject,
// strips the credential from the forwarded request (unless the provider or
// set says otherwise) and, for JWTs, sets the provider's forward_claims
// headers from the verified claims after removing any client-sent copies.
// Providers and key sets are built once per configuration load (their key
// files are read then) and shared by every route and worker that use them;
// each JWT provider keeps a per-worker cache of verified tokens in a
// PolicyScratch slot.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "auth/api_keys.h"
#include "auth/jwk.h"
#include "auth/jwt.h"
#include "common/result.h"
#include "config/spec.h"
#include "proxy/request_filter.h"

namespace switchyard::proxy {

struct JwtProvider {
  std::string name;
  auth::JwkSet keys;
  auth::JwtRules rules;
  std::vector<std::pair<std::string, std::string>> forward_claims;  // claim -> header
  bool forward_token = false;
  size_t cache_size = 0;
  size_t cache_slot = 0;  // PolicyScratch slot of the per-worker token cache
};

struct ApiKeyProvider {
  std::string name;
  std::string header;
  auth::ApiKeySet keys;
  bool forward_key = false;
};

class JwtFilter final : public RequestFilter {
 public:
  JwtFilter(std::shared_ptr<const JwtProvider> provider,
            std::vector<std::pair<std::string, std::string>> require_claims)
      : provider_(std::move(provider)), require_claims_(std::move(require_claims)) {}
  std::optional<LocalAnswer> onRequest(PolicyRequest& request) const override;

 private:
  std::shared_ptr<const JwtProvider> provider_;
  std::vector<std::pair<std::string, std::string>> require_claims_;
};

class ApiKeyFilter final : public RequestFilter {
 public:
  explicit ApiKeyFilter(std::shared_ptr<const ApiKeyProvider> keys) : keys_(std::move(keys)) {}
  std::optional<LocalAnswer> onRequest(PolicyRequest& request) const override;

 private:
  std::shared_ptr<const ApiKeyProvider> keys_;
};

// The providers and key sets of one configuration, by name.
struct AuthProviders {
  std::map<std::string, std::shared_ptr<const JwtProvider>> jwt;
  std::map<std::string, std::shared_ptr<const ApiKeyProvider>> api_keys;
};

// Reads every jwks_file and keys_file of cfg.auth; an error is
// "file:line:col: ..." at the file's key. Takes PolicyScratch slots from
// *scratch_slots.
Result<AuthProviders> buildAuthProviders(const config::Config& cfg, size_t* scratch_slots);

// The auth step of `route`, or null for `auth: none`.
std::shared_ptr<const RequestFilter> makeAuthFilter(const config::RouteAuthSpec& route, const AuthProviders& providers);

}  // namespace switchyard::proxy
