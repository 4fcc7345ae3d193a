#include "proxy/auth_filters.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "auth/token_cache.h"
#include "metrics/worker_stats.h"
#include "routing/route_table.h"

namespace switchyard::proxy {
namespace {

constexpr size_t kMaxKeyFileBytes = 1024 * 1024;

// The per-worker state of a JWT provider.
struct JwtWorkerState final : FilterState {
  auth::TokenCache cache;
  bool sized = false;
};

metrics::AuthSeries* seriesFor(const PolicyRequest& request) {
  return request.stats != nullptr ? request.stats->auth(request.route.name) : nullptr;
}

LocalAnswer refuse(const PolicyRequest& request, auth::AuthCause cause, std::string message) {
  if (auto* s = seriesFor(request)) s->failed(static_cast<metrics::AuthFailure>(cause));
  grpc::StatusCode code = cause == auth::AuthCause::ForbiddenClaims ? grpc::StatusCode::PermissionDenied
                                                                      : grpc::StatusCode::Unauthenticated;
  return LocalAnswer{code, std::move(message), {}};
}

int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool startsWithBearer(std::string_view v) {
  static constexpr std::string_view kBearer = "bearer ";
  if (v.size() < kBearer.size()) return false;
  for (size_t i = 0; i < kBearer.size(); ++i) {
    char c = v[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kBearer[i]) return false;
  }
  return true;
}

std::string_view trimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Result<std::string> readKeyFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Error{std::string("cannot read: ") + std::strerror(errno)};
  std::string text;
  char buf[16384];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0 && text.size() <= kMaxKeyFileBytes) text.append(buf, n);
  bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return Error{"cannot read the file"};
  if (text.size() > kMaxKeyFileBytes) return Error{"is larger than 1 MiB"};
  return text;
}

std::string where(const config::Config& cfg, config::Mark m) {
  return cfg.path + ":" + std::to_string(m.line) + ":" + std::to_string(m.col) + ": ";
}

}  // namespace

std::optional<LocalAnswer> JwtFilter::onRequest(PolicyRequest& request) const {
  const JwtProvider& p = *provider_;
  http2::HeaderList& headers = request.headers;
  for (const auto& [claim, header] : p.forward_claims) headers.remove(header);  // never trust a client's copy
  bool found = false;
  std::string_view authz = headers.get("authorization", &found);
  if (!found) {
    return refuse(request, auth::AuthCause::Missing,
                  "route " + request.route.name + " requires a JWT (authorization: Bearer <token>)");
  }
  if (!startsWithBearer(authz)) {
    return refuse(request, auth::AuthCause::Malformed, "authorization header is not a Bearer token");
  }
  std::string_view jwt = trimSpaces(authz.substr(7));
  if (jwt.empty()) return refuse(request, auth::AuthCause::Malformed, "authorization header has an empty token");

  auto& state = request.scratch.slot<JwtWorkerState>(p.cache_slot);
  if (!state.sized) {
    state.cache.setCapacity(p.cache_size);
    state.sized = true;
  }
  int64_t now = unixNow();
  std::shared_ptr<const auth::VerifiedToken> token = state.cache.find(jwt);
  if (token != nullptr) {
    if (auto bad = auth::checkTokenTime(*token, p.rules.clock_skew_seconds, now)) {
      state.cache.erase(jwt);
      return refuse(request, bad->cause, std::move(bad->message));
    }
  } else {
    auth::JwtOutcome outcome = auth::verifyJwt(jwt, p.keys, p.rules, now);
    if (!outcome.ok()) return refuse(request, outcome.failure.cause, std::move(outcome.failure.message));
    token = std::move(outcome.token);
    state.cache.insert(jwt, token);
  }
  for (const auto& [claim, value] : require_claims_) {
    if (!auth::claimAllows(token->claims, claim, value)) {
      return refuse(request, auth::AuthCause::ForbiddenClaims,
                    "JWT claim " + claim + " does not grant " + value + " required by route " + request.route.name);
    }
  }
  for (const auto& [claim, header] : p.forward_claims) {
    if (auto text = auth::claimAsText(token->claims, claim)) request.facts.upstream_headers.emplace_back(header, *text);
  }
  request.facts.subject = token->subject;
  if (!p.forward_token) headers.remove("authorization");  // `jwt` and `authz` end here
  if (auto* s = seriesFor(request)) s->allowed();
  return std::nullopt;
}

std::optional<LocalAnswer> ApiKeyFilter::onRequest(PolicyRequest& request) const {
  const ApiKeyProvider& k = *keys_;
  bool found = false;
  std::string_view key = request.headers.get(k.header, &found);
  if (!found || key.empty()) {
    return refuse(request, auth::AuthCause::Missing,
                  "route " + request.route.name + " requires an API key in header " + k.header);
  }
  std::string digest = auth::ApiKeySet::digest(key);
  if (!k.keys.contains(digest)) return refuse(request, auth::AuthCause::BadApiKey, "API key is not accepted");
  request.facts.subject = "apikey:" + k.name + ":" + auth::toHex(std::string_view(digest).substr(0, 4));
  if (!k.forward_key) request.headers.remove(k.header);
  if (auto* s = seriesFor(request)) s->allowed();
  return std::nullopt;
}

Result<AuthProviders> buildAuthProviders(const config::Config& cfg, size_t* scratch_slots) {
  AuthProviders out;
  for (const auto& spec : cfg.auth.jwt_providers) {
    auto text = readKeyFile(spec.jwks_file);
    Result<auth::JwkSet> keys = text.ok() ? auth::parseJwks(*text) : Result<auth::JwkSet>(Error{text.error()});
    if (!keys.ok()) {
      return Error{where(cfg, spec.jwks_mark) + "jwt_providers \"" + spec.name + "\": jwks_file " + spec.jwks_file +
                   ": " + keys.error()};
    }
    bool has_hmac = false, has_other = false;
    for (const auto& key : keys->keys) (key->type == auth::KeyType::Oct ? has_hmac : has_other) = true;
    if (has_hmac && !spec.allow_hs256) {
      return Error{where(cfg, spec.jwks_mark) + "jwt_providers \"" + spec.name + "\": jwks_file " + spec.jwks_file +
                   " holds an HMAC (oct) key, but allow_hs256 is not set"};
    }
    auto p = std::make_shared<JwtProvider>();
    p->name = spec.name;
    p->keys = std::move(*keys);
    p->rules.issuer = spec.issuer;
    p->rules.audiences = spec.audiences;
    p->rules.clock_skew_seconds = std::chrono::duration_cast<std::chrono::seconds>(spec.clock_skew).count();
    p->rules.allow_hs256 = spec.allow_hs256;
    p->forward_claims = spec.forward_claims;
    p->forward_token = spec.forward_token;
    p->cache_size = spec.token_cache_size;
    p->cache_slot = (*scratch_slots)++;
    out.jwt.emplace(spec.name, std::move(p));
  }
  for (const auto& spec : cfg.auth.api_key_sets) {
    auto text = readKeyFile(spec.keys_file);
    Result<auth::ApiKeySet> keys =
        text.ok() ? auth::ApiKeySet::parse(*text) : Result<auth::ApiKeySet>(Error{text.error()});
    if (!keys.ok()) {
      return Error{where(cfg, spec.keys_mark) + "api_key_sets \"" + spec.name + "\": keys_file " + spec.keys_file +
                   ": " + keys.error()};
    }
    auto k = std::make_shared<ApiKeyProvider>();
    k->name = spec.name;
    k->header = spec.header;
    k->keys = std::move(*keys);
    k->forward_key = spec.forward_key;
    out.api_keys.emplace(spec.name, std::move(k));
  }
  return out;
}

std::shared_ptr<const RequestFilter> makeAuthFilter(const config::RouteAuthSpec& route,
                                                    const AuthProviders& providers) {
  using Kind = config::RouteAuthSpec::Kind;
  if (route.kind == Kind::Jwt) {
    auto it = providers.jwt.find(route.name);
    if (it == providers.jwt.end()) return nullptr;  // the loader reports unknown names
    return std::make_shared<const JwtFilter>(it->second, route.require_claims);
  }
  if (route.kind == Kind::ApiKey) {
    auto it = providers.api_keys.find(route.name);
    if (it == providers.api_keys.end()) return nullptr;
    return std::make_shared<const ApiKeyFilter>(it->second);
  }
  return nullptr;
}

}  // namespace switchyard::proxy
