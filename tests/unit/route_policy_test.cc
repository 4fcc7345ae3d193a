// Routing beyond the path: authority and header conditions, the weighted
// split, header edits, and how the loader reads and rejects them.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "config/loader.h"
#include "routing/header_edits.h"
#include "routing/request_match.h"
#include "routing/route_table.h"
#include "routing/weighted_split.h"

namespace switchyard::routing {
namespace {

class MapHeaders final : public RequestHeaders {
 public:
  explicit MapHeaders(std::map<std::string, std::string> m) : m_(std::move(m)) {}
  bool find(std::string_view name, std::string_view* value) const override {
    auto it = m_.find(std::string(name));
    if (it == m_.end()) return false;
    *value = it->second;
    return true;
  }

 private:
  std::map<std::string, std::string> m_;
};

config::HeaderMatchSpec header(std::string name, config::HeaderMatchSpec::Kind kind, std::string value = "") {
  config::HeaderMatchSpec h;
  h.name = std::move(name);
  h.kind = kind;
  h.value = std::move(value);
  return h;
}

TEST(AuthorityMatch, ExactHostIgnoresPortAndCase) {
  EXPECT_TRUE(authorityMatches("api.example.com", "api.example.com"));
  EXPECT_TRUE(authorityMatches("api.example.com", "API.Example.com:8443"));
  EXPECT_FALSE(authorityMatches("api.example.com", "www.example.com"));
  EXPECT_FALSE(authorityMatches("api.example.com", "api.example.com.evil"));
  EXPECT_FALSE(authorityMatches("api.example.com", ""));
  EXPECT_TRUE(authorityMatches("", "anything"));
}

TEST(AuthorityMatch, PatternWithPortNeedsThatPort) {
  EXPECT_TRUE(authorityMatches("api.example.com:8443", "api.example.com:8443"));
  EXPECT_FALSE(authorityMatches("api.example.com:8443", "api.example.com:9000"));
  EXPECT_FALSE(authorityMatches("api.example.com:8443", "api.example.com"));
  EXPECT_TRUE(authorityMatches("[::1]", "[::1]:50051"));
}

TEST(AuthorityMatch, WildcardMatchesSubdomainsOnly) {
  EXPECT_TRUE(authorityMatches("*.example.com", "a.example.com"));
  EXPECT_TRUE(authorityMatches("*.example.com", "a.b.example.com:443"));
  EXPECT_FALSE(authorityMatches("*.example.com", "example.com"));
  EXPECT_FALSE(authorityMatches("*.example.com", "badexample.com"));
}

TEST(HeaderMatch, ExactRegexPresent) {
  using K = config::HeaderMatchSpec::Kind;
  MapHeaders h({{"x-tenant", "acme"}, {"x-version", "v12"}});
  EXPECT_TRUE(HeaderMatcher(header("x-tenant", K::Exact, "acme")).matches(&h));
  EXPECT_FALSE(HeaderMatcher(header("x-tenant", K::Exact, "ACME")).matches(&h));
  EXPECT_TRUE(HeaderMatcher(header("x-version", K::Regex, "v[0-9]+")).matches(&h));
  EXPECT_FALSE(HeaderMatcher(header("x-version", K::Regex, "v1")).matches(&h)) << "regex must match in full";
  EXPECT_TRUE(HeaderMatcher(header("x-tenant", K::Present)).matches(&h));
  EXPECT_FALSE(HeaderMatcher(header("x-missing", K::Present)).matches(&h));
  EXPECT_FALSE(HeaderMatcher(header("x-missing", K::Regex, ".*")).matches(&h));
  EXPECT_FALSE(HeaderMatcher(header("x-tenant", K::Present)).matches(nullptr));
}

config::RouteSpec svcRoute(std::string svc, std::string cluster) {
  config::RouteSpec r;
  r.match.service = std::move(svc);
  r.cluster = std::move(cluster);
  return r;
}

TEST(RouteTableConditions, FirstRouteWhoseConditionsHoldWins) {
  using K = config::HeaderMatchSpec::Kind;
  auto a = svcRoute("billing.Billing", "host-a");
  a.match.authority = "a.example.com";
  auto tenant = svcRoute("billing.Billing", "tenant-acme");
  tenant.match.headers.push_back(header("x-tenant", K::Exact, "acme"));
  auto fallback = svcRoute("billing.Billing", "default");
  RouteTable t = RouteTable::build({a, tenant, fallback});
  MapHeaders none(std::map<std::string, std::string>{});
  MapHeaders acme(std::map<std::string, std::string>{{"x-tenant", "acme"}});
  auto cluster = [&](std::string_view authority, const RequestHeaders& h) {
    const Route* r = t.match("/billing.Billing/Pay", RequestView{authority, &h});
    return r ? r->cluster : std::string("<none>");
  };
  EXPECT_EQ(cluster("a.example.com", none), "host-a");
  EXPECT_EQ(cluster("a.example.com", acme), "host-a");
  EXPECT_EQ(cluster("b.example.com", acme), "tenant-acme");
  EXPECT_EQ(cluster("b.example.com", none), "default");
  // Without a request view, only unconditional routes match.
  ASSERT_NE(t.match("/billing.Billing/Pay"), nullptr);
  EXPECT_EQ(t.match("/billing.Billing/Pay")->cluster, "default");
}

TEST(RouteTableConditions, ConditionalExactRouteFallsBackToLaterPrefix) {
  config::RouteSpec exact;
  exact.match.service = "s.S";
  exact.match.method = "M";
  exact.match.authority = "*.internal";
  exact.cluster = "internal";
  config::RouteSpec prefix;
  prefix.match.prefix = "/s.";
  prefix.cluster = "public";
  RouteTable t = RouteTable::build({exact, prefix});
  MapHeaders none(std::map<std::string, std::string>{});
  EXPECT_EQ(t.match("/s.S/M", RequestView{"x.internal", &none})->cluster, "internal");
  EXPECT_EQ(t.match("/s.S/M", RequestView{"x.public", &none})->cluster, "public");
}

TEST(RouteTableConditions, WeightedRouteNamesFirstCluster) {
  config::RouteSpec r = svcRoute("s.S", "");
  r.clusters = {{"v1", 90, {}}, {"v2", 10, {}}};
  RouteTable t = RouteTable::build({r});
  ASSERT_EQ(t.routes()[0].clusters.size(), 2u);
  EXPECT_EQ(t.routes()[0].cluster, "v1");
  EXPECT_EQ(t.routes()[0].clusters[1].weight, 10u);
}

TEST(SmoothWeightedRoundRobin, ExactSharesInEveryWindowAndInterleaved) {
  SmoothWeightedRoundRobin wrr({5, 1, 1});
  std::vector<size_t> seq;
  for (int i = 0; i < 7; ++i) seq.push_back(wrr.next());
  // Nginx's classic example: a a b a c a a (interleaved, not a a a a a b c).
  EXPECT_EQ(seq, (std::vector<size_t>{0, 0, 1, 0, 2, 0, 0}));
  std::map<size_t, int> counts;
  for (int i = 0; i < 7000; ++i) ++counts[wrr.next()];
  EXPECT_EQ(counts[0], 5000);
  EXPECT_EQ(counts[1], 1000);
  EXPECT_EQ(counts[2], 1000);
}

TEST(SmoothWeightedRoundRobin, NinetyTenNeverStarvesTheSmallOne) {
  SmoothWeightedRoundRobin wrr({90, 10});
  int small = 0;
  for (int i = 0; i < 100; ++i) small += wrr.next() == 1 ? 1 : 0;
  EXPECT_EQ(small, 10);
  EXPECT_EQ(SmoothWeightedRoundRobin(std::vector<uint32_t>{}).next(), 0u);
  EXPECT_EQ(SmoothWeightedRoundRobin({3}).next(), 0u);
}

TEST(HeaderEdits, SetReplacesRemoveDropsAddAppends) {
  config::HeaderEditSpec spec;
  spec.set = {{"x-edge", "switchyard"}};
  spec.add = {{"x-extra", "1"}};
  spec.remove = {"x-debug"};
  HeaderEdits e(spec);
  EXPECT_TRUE(e.drops("x-edge"));
  EXPECT_TRUE(e.drops("x-debug"));
  EXPECT_FALSE(e.drops("x-extra"));
  EXPECT_FALSE(e.drops("x-other"));
  ASSERT_EQ(e.appended().size(), 2u);
  EXPECT_EQ(e.appended()[0].first, "x-edge");
  EXPECT_EQ(e.appended()[1].first, "x-extra");
  EXPECT_TRUE(HeaderEdits().empty());
}

// ---------------------------------------------------------------- the loader

constexpr const char* kBase = R"(listeners:
  - name: public
    address: 127.0.0.1:8080
clusters:
  - name: v1
    endpoints: [127.0.0.1:9001]
  - name: v2
    endpoints: [127.0.0.1:9002]
routes:
)";

config::LoadResult load(const std::string& routes) { return config::loadString(kBase + routes, "t.yaml"); }

std::string errors(const config::LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e + "\n";
  return out;
}

TEST(RoutePolicyConfig, ReadsTheContractKeys) {
  auto r = load(R"(  - match: { service: billing.Billing, authority: API.example.com, headers: [{ name: x-tenant, exact: acme }, { name: x-v, regex: "v[0-9]+" }, { name: x-p, present: true }] }
    clusters: [{ name: v1, weight: 90 }, { name: v2, weight: 10 }]
    override: { header: x-canary, value: "1", cluster: v2 }
    max_request_message_bytes: 4MiB
    max_response_message_bytes: 16MiB
    request_headers: { set: { x-edge: switchyard }, add: { x-hop: a }, remove: [x-debug] }
)");
  ASSERT_TRUE(r.config) << errors(r);
  const auto& rt = r.config->routes.at(0);
  EXPECT_EQ(rt.match.authority, "api.example.com");
  ASSERT_EQ(rt.match.headers.size(), 3u);
  EXPECT_EQ(rt.match.headers[1].kind, config::HeaderMatchSpec::Kind::Regex);
  ASSERT_EQ(rt.clusters.size(), 2u);
  EXPECT_EQ(rt.clusters[0].weight, 90u);
  EXPECT_TRUE(rt.cluster.empty());
  ASSERT_TRUE(rt.cluster_override);
  EXPECT_EQ(rt.cluster_override->cluster, "v2");
  EXPECT_EQ(rt.max_request_message_bytes, 4u << 20);
  EXPECT_EQ(rt.max_response_message_bytes, 16u << 20);
  EXPECT_EQ(rt.request_headers.set.size(), 1u);
  EXPECT_EQ(rt.request_headers.remove.at(0), "x-debug");
}

struct BadCase {
  const char* yaml;
  const char* where;  // "line:col"
  const char* needle;
};

TEST(RoutePolicyConfig, RejectsWithFileLineColumn) {
  const BadCase cases[] = {
      {"  - match: { service: s.S }\n    cluster: v1\n    clusters: [{ name: v2, weight: 1 }]\n",
       "12:15", "either cluster or clusters"},
      {"  - match: { service: s.S }\n    clusters: [{ name: nope, weight: 1 }]\n", "11:16",
       "undefined cluster \"nope\""},
      {"  - match: { service: s.S }\n    clusters: [{ name: v1, weight: 0 }]\n", "11:36", "clusters.weight"},
      {"  - match: { service: s.S }\n    cluster: v1\n    override: { header: x-c, cluster: v9 }\n",
       "12:15", "undefined cluster \"v9\""},
      {"  - match: { service: s.S }\n    cluster: v1\n    request_headers: { set: { grpc-timeout: 1S } }\n",
       "12:31", "reserved for the gRPC protocol"},
      {"  - match: { service: s.S }\n    cluster: v1\n    request_headers: { remove: [\":path\"] }\n",
       "12:33", "pseudo-headers cannot be edited"},
      {"  - match: { service: s.S }\n    cluster: v1\n    request_headers: { add: { te: x } }\n",
       "12:31", "cannot be edited"},
      {"  - match: { service: s.S, headers: [{ name: x-a, regex: \"(\" }] }\n    cluster: v1\n",
       "10:58", "not a valid RE2 pattern"},
      {"  - match: { service: s.S, headers: [{ name: x-a, exact: a, present: true }] }\n    cluster: v1\n",
       "10:38", "exactly one of"},
      {"  - match: { service: s.S, headers: [{ name: X-Upper, present: true }] }\n    cluster: v1\n",
       "10:46", "lower-case header name"},
      {"  - match: { service: s.S, authority: \"a.*.com\" }\n    cluster: v1\n", "10:39",
       "match.authority"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.yaml);
    auto r = load(c.yaml);
    ASSERT_FALSE(r.config);
    std::string prefix = std::string("t.yaml:") + c.where + ": ";
    bool found = false;
    for (const auto& e : r.errors) found = found || (e.rfind(prefix, 0) == 0 && e.find(c.needle) != std::string::npos);
    EXPECT_TRUE(found) << "want " << prefix << "..." << c.needle << "\ngot:\n" << errors(r);
  }
}

}  // namespace
}  // namespace switchyard::routing
