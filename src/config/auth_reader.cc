#include "config/auth_reader.h"

#include <algorithm>
#include <set>

namespace switchyard::config::detail {
namespace {

constexpr uint64_t kMaxTokenCache = 1000000;

std::string quote(const std::string& s) { return "\"" + s + "\""; }

bool isHeaderName(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
}

// A header the proxy may set or strip for authentication.
bool checkAuthHeader(Reader& r, const YAML::Node& at, const std::string& name, const std::string& path) {
  if (!isHeaderName(name)) {
    r.error(at, path + " " + quote(name) + " must be a lower-case header name (letters, digits, '-', '_', '.')");
    return false;
  }
  static const char* const kReserved[] = {"te", "content-type", "connection", "keep-alive", "proxy-connection",
                                          "transfer-encoding", "upgrade", "host", "x-forwarded-for"};
  bool reserved = name.starts_with("grpc-") ||
                  std::any_of(std::begin(kReserved), std::end(kReserved), [&](const char* x) { return name == x; });
  if (reserved) {
    r.error(at, path + " " + quote(name) + " cannot be used: the proxy or the gRPC protocol manages this header");
    return false;
  }
  return true;
}

void readStringList(Reader& r, const YAML::Node& n, const std::string& path, std::vector<std::string>& out) {
  if (n.IsScalar()) {
    if (auto s = r.nonEmptyStr(n, path)) out.push_back(*s);
    return;
  }
  auto items = r.list(n, path);
  if (!items) return;
  for (const YAML::Node& item : *items) {
    if (auto s = r.nonEmptyStr(item, path)) out.push_back(*s);
  }
}

void readStringMap(Reader& r, const YAML::Node& n, const std::string& path,
                   std::vector<std::pair<std::string, std::string>>& out) {
  if (n.IsNull()) return;
  if (!n.IsMap()) {
    r.error(n, "expected a map for " + path + ", got " + describe(n));
    return;
  }
  for (auto it = n.begin(); it != n.end(); ++it) {
    auto k = r.nonEmptyStr(it->first, path);
    auto v = r.nonEmptyStr(it->second, path + "." + (k ? *k : std::string("?")));
    if (k && v) out.emplace_back(*k, *v);
  }
}

JwtProviderSpec readProvider(Reader& r, const YAML::Node& n,
                             const std::function<std::string(const std::string&)>& resolve) {
  JwtProviderSpec p;
  Fields f(r, n, "auth.jwt_providers entry",
           {"name", "issuer", "audiences", "jwks_file", "clock_skew", "forward_claims", "forward_token",
            "allow_hs256", "token_cache_size"});
  p.mark = f.mark();
  if (!f.isMap()) return p;
  if (const YAML::Node* v = f.require("name")) {
    if (auto s = r.nonEmptyStr(*v, "jwt_providers.name")) p.name = *s;
  }
  if (const YAML::Node* v = f.require("issuer")) {
    if (auto s = r.nonEmptyStr(*v, "jwt_providers.issuer")) p.issuer = *s;
  }
  if (const YAML::Node* v = f.find("audiences")) readStringList(r, *v, "jwt_providers.audiences", p.audiences);
  if (const YAML::Node* v = f.require("jwks_file")) {
    p.jwks_mark = markOf(*v);
    if (auto s = r.nonEmptyStr(*v, "jwt_providers.jwks_file")) p.jwks_file = resolve(*s);
  }
  if (const YAML::Node* v = f.find("clock_skew")) {
    if (auto d = r.duration(*v, "jwt_providers.clock_skew", /*allow_zero=*/true)) {
      if (*d > std::chrono::hours(1)) {
        r.error(*v, "jwt_providers.clock_skew must be at most 1h");
      } else {
        p.clock_skew = *d;
      }
    }
  }
  if (const YAML::Node* v = f.find("forward_claims")) {
    readStringMap(r, *v, "jwt_providers.forward_claims", p.forward_claims);
    std::set<std::string> headers;
    for (const auto& [claim, header] : p.forward_claims) {
      if (!checkAuthHeader(r, *v, header, "jwt_providers.forward_claims header")) continue;
      if (header == "authorization") {
        r.error(*v, "jwt_providers.forward_claims cannot set \"authorization\" (see forward_token)");
      } else if (!headers.insert(header).second) {
        r.error(*v, "jwt_providers.forward_claims sets header " + quote(header) + " twice");
      }
    }
  }
  if (const YAML::Node* v = f.find("forward_token")) {
    p.forward_token = r.boolean(*v, "jwt_providers.forward_token").value_or(false);
  }
  if (const YAML::Node* v = f.find("allow_hs256")) {
    p.allow_hs256 = r.boolean(*v, "jwt_providers.allow_hs256").value_or(false);
  }
  if (const YAML::Node* v = f.find("token_cache_size")) {
    if (auto x = r.integer(*v, "jwt_providers.token_cache_size", 0, kMaxTokenCache)) {
      p.token_cache_size = static_cast<uint32_t>(*x);
    }
  }
  return p;
}

ApiKeySetSpec readKeySet(Reader& r, const YAML::Node& n,
                         const std::function<std::string(const std::string&)>& resolve) {
  ApiKeySetSpec k;
  Fields f(r, n, "auth.api_key_sets entry", {"name", "header", "keys_file", "forward_key"});
  k.mark = f.mark();
  if (!f.isMap()) return k;
  if (const YAML::Node* v = f.require("name")) {
    if (auto s = r.nonEmptyStr(*v, "api_key_sets.name")) k.name = *s;
  }
  if (const YAML::Node* v = f.find("header")) {
    auto s = r.nonEmptyStr(*v, "api_key_sets.header");
    if (s && checkAuthHeader(r, *v, *s, "api_key_sets.header")) k.header = *s;
  }
  if (const YAML::Node* v = f.require("keys_file")) {
    k.keys_mark = markOf(*v);
    if (auto s = r.nonEmptyStr(*v, "api_key_sets.keys_file")) k.keys_file = resolve(*s);
  }
  if (const YAML::Node* v = f.find("forward_key")) {
    k.forward_key = r.boolean(*v, "api_key_sets.forward_key").value_or(false);
  }
  return k;
}

}  // namespace

void readAuth(Reader& r, const YAML::Node& n, AuthSpec& out,
              const std::function<std::string(const std::string&)>& resolve) {
  Fields f(r, n, "auth", {"jwt_providers", "api_key_sets"});
  if (!f.isMap()) return;
  std::set<std::string> names;
  auto unique = [&](const std::string& name, Mark at) {
    if (!name.empty() && !names.insert(name).second) {
      r.error(at, "auth name " + quote(name) + " is used twice (providers and key sets share one namespace)");
    }
  };
  if (const YAML::Node* v = f.find("jwt_providers")) {
    if (auto items = r.list(*v, "auth.jwt_providers")) {
      for (const YAML::Node& item : *items) {
        out.jwt_providers.push_back(readProvider(r, item, resolve));
        unique(out.jwt_providers.back().name, out.jwt_providers.back().mark);
      }
    }
  }
  if (const YAML::Node* v = f.find("api_key_sets")) {
    if (auto items = r.list(*v, "auth.api_key_sets")) {
      for (const YAML::Node& item : *items) {
        out.api_key_sets.push_back(readKeySet(r, item, resolve));
        unique(out.api_key_sets.back().name, out.api_key_sets.back().mark);
      }
    }
  }
}

void readRouteAuth(Reader& r, const YAML::Node& n, RouteAuthSpec& out) {
  out.mark = markOf(n);
  if (n.IsScalar() && n.Scalar() == "none") return;
  if (!n.IsMap()) {
    r.error(n, "route auth must be none, { jwt: PROVIDER, require_claims: {...} } or { api_key: SET }, got " +
                   describe(n));
    return;
  }
  Fields f(r, n, "route.auth", {"jwt", "api_key", "require_claims"});
  const YAML::Node* jwt = f.find("jwt");
  const YAML::Node* key = f.find("api_key");
  if ((jwt != nullptr) == (key != nullptr)) {
    r.error(f.mark(), "route auth needs exactly one of jwt or api_key");
    return;
  }
  if (jwt != nullptr) {
    out.kind = RouteAuthSpec::Kind::Jwt;
    if (auto s = r.nonEmptyStr(*jwt, "auth.jwt")) out.name = *s;
  } else {
    out.kind = RouteAuthSpec::Kind::ApiKey;
    if (auto s = r.nonEmptyStr(*key, "auth.api_key")) out.name = *s;
  }
  if (const YAML::Node* v = f.find("require_claims")) {
    if (out.kind != RouteAuthSpec::Kind::Jwt) {
      r.error(*v, "auth.require_claims needs auth.jwt (API keys carry no claims)");
    } else {
      readStringMap(r, *v, "auth.require_claims", out.require_claims);
    }
  }
}

void checkRouteAuth(Reader& r, const Config& c) {
  for (const auto& route : c.routes) {
    const RouteAuthSpec& a = route.auth;
    if (a.kind == RouteAuthSpec::Kind::None || a.name.empty()) continue;
    if (a.kind == RouteAuthSpec::Kind::Jwt) {
      bool found = std::any_of(c.auth.jwt_providers.begin(), c.auth.jwt_providers.end(),
                               [&](const JwtProviderSpec& p) { return p.name == a.name; });
      if (!found) r.error(a.mark, "route auth.jwt names unknown JWT provider " + quote(a.name) +
                                      " (define it under auth.jwt_providers)");
    } else {
      bool found = std::any_of(c.auth.api_key_sets.begin(), c.auth.api_key_sets.end(),
                               [&](const ApiKeySetSpec& k) { return k.name == a.name; });
      if (!found) r.error(a.mark, "route auth.api_key names unknown API key set " + quote(a.name) +
                                      " (define it under auth.api_key_sets)");
    }
  }
}

}  // namespace switchyard::config::detail
