// The `auth` section and route `auth`: defaults, explicit values, relative
// key-file paths, and errors located at file:line:col.
#include <gtest/gtest.h>

#include <string>

#include "config/loader.h"

namespace switchyard::config {
namespace {

LoadResult load(const std::string& yaml) { return loadString(yaml, "/etc/sy/test.yaml"); }

std::string joined(const LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e + "\n";
  return out;
}

const std::string kBase = R"(listeners:
  - name: l
    address: 127.0.0.1:8080
clusters:
  - name: c
    endpoints: [127.0.0.1:50051]
)";

TEST(ConfigAuth, ProvidersKeySetsAndRoutes) {
  LoadResult r = load(kBase + R"(auth:
  jwt_providers:
    - name: corp
      issuer: https://issuer.example.com
      audiences: [switchyard, admin]
      jwks_file: keys/jwks.json
      forward_claims: { sub: x-user-id }
    - name: strict
      issuer: https://other.example.com
      audiences: switchyard
      jwks_file: /abs/jwks.json
      clock_skew: 0s
      forward_token: true
      allow_hs256: true
      token_cache_size: 0
  api_key_sets:
    - name: partners
      keys_file: partner.sha256
routes:
  - match: { service: a.A }
    cluster: c
    auth: { jwt: corp, require_claims: { scope: billing.write } }
  - match: { service: b.B }
    cluster: c
    auth: { api_key: partners }
  - match: { service: h.H }
    cluster: c
    auth: none
)");
  ASSERT_TRUE(r.config) << joined(r);
  const auto& corp = r.config->auth.jwt_providers[0];
  EXPECT_EQ(corp.audiences, (std::vector<std::string>{"switchyard", "admin"}));
  EXPECT_EQ(corp.jwks_file, "/etc/sy/keys/jwks.json");
  EXPECT_EQ(corp.clock_skew, Duration(std::chrono::seconds(60)));
  EXPECT_FALSE(corp.forward_token);
  EXPECT_FALSE(corp.allow_hs256);
  EXPECT_EQ(corp.token_cache_size, 1024u);
  ASSERT_EQ(corp.forward_claims.size(), 1u);
  EXPECT_EQ(corp.forward_claims[0], (std::pair<std::string, std::string>{"sub", "x-user-id"}));
  const auto& strict = r.config->auth.jwt_providers[1];
  EXPECT_EQ(strict.audiences, (std::vector<std::string>{"switchyard"}));
  EXPECT_EQ(strict.clock_skew, Duration::zero());
  EXPECT_TRUE(strict.forward_token);
  EXPECT_TRUE(strict.allow_hs256);
  EXPECT_EQ(strict.token_cache_size, 0u);
  const auto& keys = r.config->auth.api_key_sets[0];
  EXPECT_EQ(keys.header, "x-api-key");
  EXPECT_EQ(keys.keys_file, "/etc/sy/partner.sha256");
  EXPECT_EQ(r.config->routes[0].auth.kind, RouteAuthSpec::Kind::Jwt);
  EXPECT_EQ(r.config->routes[0].auth.name, "corp");
  ASSERT_EQ(r.config->routes[0].auth.require_claims.size(), 1u);
  EXPECT_EQ(r.config->routes[1].auth.kind, RouteAuthSpec::Kind::ApiKey);
  EXPECT_EQ(r.config->routes[2].auth.kind, RouteAuthSpec::Kind::None);
}

TEST(ConfigAuth, ErrorsPointAtTheKey) {
  struct Case {
    std::string yaml;
    std::string where;
    std::string what;
  };
  std::vector<Case> cases = {
      {"routes:\n  - match: { service: a.A }\n    cluster: c\n    auth: { jwt: nobody }\n", "test.yaml:10:11:",
       "unknown JWT provider \"nobody\""},
      {"routes:\n  - match: { service: a.A }\n    cluster: c\n    auth: { api_key: nobody }\n", "test.yaml:10:11:",
       "unknown API key set \"nobody\""},
      {"routes:\n  - match: { service: a.A }\n    cluster: c\n    auth: jwt\n", "test.yaml:10:11:", "route auth must be"},
      {"auth:\n  api_key_sets:\n    - name: k\n      keys_file: k\nroutes:\n  - match: { service: a.A }\n"
       "    cluster: c\n    auth: { api_key: k, require_claims: { a: b } }\n",
       "test.yaml:14:", "require_claims needs auth.jwt"},
      {"auth:\n  jwt_providers:\n    - name: p\n      jwks_file: j\n", "test.yaml:9:7:", "missing required key \"issuer\""},
      {"auth:\n  jwt_providers:\n    - { name: p, issuer: i, jwks_file: j, forward_claims: { sub: grpc-user } }\n",
       "test.yaml:9:", "grpc-user"},
      {"auth:\n  jwt_providers:\n    - { name: p, issuer: i, jwks_file: j, clock_skew: 2h }\n", "test.yaml:9:",
       "at most 1h"},
      {"auth:\n  jwt_providers:\n    - { name: p, issuer: i, jwks_file: j }\n  api_key_sets:\n"
       "    - { name: p, keys_file: k }\n",
       "test.yaml:11:", "used twice"},
      {"auth:\n  api_key_sets:\n    - { name: k, keys_file: k, header: X-Key }\n", "test.yaml:9:", "lower-case"},
      {"auth:\n  bogus: 1\n", "test.yaml:8:", "bogus"},
  };
  for (const auto& tc : cases) {
    LoadResult r = load(kBase + tc.yaml);
    EXPECT_FALSE(r.config) << tc.yaml;
    std::string errors = joined(r);
    EXPECT_NE(errors.find(tc.where), std::string::npos) << tc.yaml << "\n" << errors;
    EXPECT_NE(errors.find(tc.what), std::string::npos) << tc.yaml << "\n" << errors;
  }
}

}  // namespace
}  // namespace switchyard::config
