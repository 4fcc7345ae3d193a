// Routing beyond the path through the real daemon: virtual hosts by
// :authority, tenants by header, a weighted canary split with its header
// override, and request header edits seen by the backend.
#include <map>

#include "harness.h"

namespace sytest {
namespace {

using switchyard::test::EchoRequest;
using switchyard::test::EchoResponse;

class RoutePolicyTest : public ProxyTest {
 protected:
  // Cluster `name` with the one backend b.
  static ClusterConfig One(const std::string& name, const Backend& b) { return {name, {b.address}, {}}; }

  // One unary Echo; returns the status and sets *backend to who answered.
  grpc::Status Call(switchyard::test::Echo::Stub& stub, std::string* backend,
                    const std::multimap<std::string, std::string>& metadata = {},
                    const std::string& authority = "") {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(10s));
    if (!authority.empty()) ctx.set_authority(authority);
    for (const auto& [k, v] : metadata) ctx.AddMetadata(k, v);
    EchoResponse resp;
    grpc::Status s = stub.Unary(&ctx, EchoRequest(), &resp);
    if (backend != nullptr) *backend = MetadataValue(ctx.GetServerTrailingMetadata(), "x-backend");
    return s;
  }
};

// One listener serves two virtual hosts: an exact host and a wildcard
// suffix go to different clusters; an unknown host matches no route.
TEST_F(RoutePolicyTest, AuthorityRoutesTwoVirtualHosts) {
  Backend& a = StartBackend("backend-a");
  Backend& b = StartBackend("backend-b");
  ProxyConfig c = DefaultConfig({});
  c.clusters = {One("host-a", a), One("host-b", b)};
  c.routes_yaml =
      "  - match: { service: switchyard.test.Echo, authority: api.example.com }\n"
      "    cluster: host-a\n"
      "  - match: { service: switchyard.test.Echo, authority: \"*.tenants.example.com\" }\n"
      "    cluster: host-b\n";
  StartProxy(c);
  auto stub = EchoStub();
  std::string who;
  ASSERT_TRUE(Call(*stub, &who, {}, "api.example.com").ok());
  EXPECT_EQ(who, "backend-a");
  ASSERT_TRUE(Call(*stub, &who, {}, "API.example.com:443").ok());
  EXPECT_EQ(who, "backend-a");
  ASSERT_TRUE(Call(*stub, &who, {}, "acme.tenants.example.com").ok());
  EXPECT_EQ(who, "backend-b");
  grpc::Status s = Call(*stub, &who, {}, "other.example.com");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED) << s.error_message();
  EXPECT_EQ(a.Calls("Unary") + b.Calls("Unary"), 3);
}

// Header conditions: exact value, RE2 full match, presence; the first route
// whose conditions hold wins, later unconditional routes catch the rest.
TEST_F(RoutePolicyTest, HeaderMatchPicksTheTenantRoute) {
  Backend& a = StartBackend("backend-a");
  Backend& b = StartBackend("backend-b");
  Backend& d = StartBackend("backend-default");
  ProxyConfig c = DefaultConfig({});
  c.clusters = {One("acme", a), One("beta", b), One("default", d)};
  c.routes_yaml =
      "  - match: { service: switchyard.test.Echo, headers: [{ name: x-tenant, exact: acme }] }\n"
      "    cluster: acme\n"
      "  - match: { service: switchyard.test.Echo, headers: [{ name: x-tenant, regex: \"beta-[0-9]+\" }] }\n"
      "    cluster: beta\n"
      "  - match: { service: switchyard.test.Echo }\n"
      "    cluster: default\n";
  StartProxy(c);
  auto stub = EchoStub();
  struct Case {
    std::multimap<std::string, std::string> md;
    std::string want;
  };
  const std::vector<Case> cases = {
      {{{"x-tenant", "acme"}}, "backend-a"},      {{{"x-tenant", "beta-42"}}, "backend-b"},
      {{{"x-tenant", "beta-42x"}}, "backend-default"}, {{{"x-tenant", "ACME"}}, "backend-default"},
      {{}, "backend-default"},
  };
  for (const auto& tc : cases) {
    std::string who;
    grpc::Status s = Call(*stub, &who, tc.md);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(who, tc.want) << (tc.md.empty() ? "(no x-tenant)" : tc.md.begin()->second);
  }
}

// A 90/10 split over 2,000 RPCs lands within 3 points of 90/10 (smooth
// weighted round-robin makes it exact per worker), and x-canary: 1 sends
// every RPC to the canary.
TEST_F(RoutePolicyTest, WeightedSplitAndOverride) {
  Backend& v1 = StartBackend("backend-v1");
  Backend& v2 = StartBackend("backend-v2");
  ProxyConfig c = DefaultConfig({});
  c.clusters = {One("billing-v1", v1), One("billing-v2", v2)};
  c.routes_yaml =
      "  - match: { service: switchyard.test.Echo }\n"
      "    clusters: [{ name: billing-v1, weight: 90 }, { name: billing-v2, weight: 10 }]\n"
      "    override: { header: x-canary, value: \"1\", cluster: billing-v2 }\n";
  StartProxy(c);
  auto stub = EchoStub();
  std::map<std::string, int> seen;
  constexpr int kCalls = 2000;
  for (int i = 0; i < kCalls; ++i) {
    std::string who;
    grpc::Status s = Call(*stub, &who);
    ASSERT_TRUE(s.ok()) << i << ": " << s.error_message();
    ++seen[who];
  }
  EXPECT_EQ(seen["backend-v1"] + seen["backend-v2"], kCalls);
  EXPECT_NEAR(seen["backend-v2"] * 100.0 / kCalls, 10.0, 3.0) << "v1=" << seen["backend-v1"] << " v2=" << seen["backend-v2"];
  for (int i = 0; i < 20; ++i) {
    std::string who;
    ASSERT_TRUE(Call(*stub, &who, {{"x-canary", "1"}}).ok());
    EXPECT_EQ(who, "backend-v2");
  }
  std::string who;
  ASSERT_TRUE(Call(*stub, &who, {{"x-canary", "0"}}).ok());  // wrong value: the split decides
}

// request_headers: set replaces the client's copy, remove drops it, add
// appends; the backend echoes what it received.
TEST_F(RoutePolicyTest, RequestHeaderEditsReachTheBackend) {
  Backend& b = StartBackend("backend-a");
  ProxyConfig c = DefaultConfig({});
  c.clusters = {One("echo", b)};
  c.routes_yaml =
      "  - match: { service: switchyard.test.Echo }\n"
      "    cluster: echo\n"
      "    request_headers:\n"
      "      set: { x-echo-edge: switchyard }\n"
      "      add: { x-echo-added: yes-added }\n"
      "      remove: [x-echo-debug]\n";
  StartProxy(c);
  auto stub = EchoStub();
  grpc::ClientContext ctx;
  ctx.set_deadline(In(10s));
  ctx.AddMetadata("x-echo-edge", "from-client");
  ctx.AddMetadata("x-echo-debug", "1");
  ctx.AddMetadata("x-echo-kept", "kept");
  EchoRequest req;
  req.set_echo_metadata(true);
  EchoResponse resp;
  grpc::Status s = stub->Unary(&ctx, req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const auto& md = ctx.GetServerInitialMetadata();
  EXPECT_EQ(md.count("x-echo-edge"), 1u);
  EXPECT_EQ(MetadataValue(md, "x-echo-edge"), "switchyard");
  EXPECT_EQ(md.count("x-echo-debug"), 0u);
  EXPECT_EQ(MetadataValue(md, "x-echo-added"), "yes-added");
  EXPECT_EQ(MetadataValue(md, "x-echo-kept"), "kept");
}

}  // namespace
}  // namespace sytest
