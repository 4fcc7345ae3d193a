// Routing and load balancing: unmatched paths, first-match-wins, per-RPC
// round robin, unreachable backends, forwarded-for, IPv6.
#include <map>

#include "harness.h"
#include "raw_h2.h"

namespace sytest {
namespace {

using switchyard::test::EchoRequest;
using switchyard::test::EchoResponse;

class RoutingTest : public ProxyTest {
 protected:
  static int64_t Ms(Clock::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }
};

grpc::Status SayHello(const std::string& address, std::string* backend = nullptr) {
  auto stub = helloworld::Greeter::NewStub(MakeChannel(address));
  grpc::ClientContext ctx;
  ctx.set_deadline(In(10s));
  helloworld::HelloRequest req;
  req.set_name("test");
  helloworld::HelloReply reply;
  grpc::Status s = stub->SayHello(&ctx, req, &reply);
  if (backend) *backend = MetadataValue(ctx.GetServerTrailingMetadata(), "x-backend");
  return s;
}

// A path no route matches gets UNIMPLEMENTED naming the path, from the proxy
// (the backend, which does implement it, never sees the call).
TEST_F(RoutingTest, NoRouteReturnsUnimplementedNamingPath) {
  Backend& b = StartBackend("backend-a");
  ProxyConfig c = DefaultConfig({&b});
  c.routes = {{"switchyard.test.Echo", "", "", "echo", "", ""}};
  StartProxy(c);
  grpc::Status s = SayHello(proxy_address());
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_NE(s.error_message().find("/helloworld.Greeter/SayHello"), std::string::npos)
      << "message does not name the path: " << s.error_message();
  EXPECT_EQ(b.Calls("SayHello"), 0);
}

// Errors the proxy makes itself (no route, backend unreachable, deadline)
// are gRPC answers on the wire: HTTP 200, one HEADERS block with END_STREAM
// (Trailers-Only), grpc-status set, no DATA.
TEST_F(RoutingTest, ProxyErrorsAreTrailersOnlyWithStatus200) {
  Backend& b = StartBackend("backend-a");
  ProxyConfig c = DefaultConfig({&b});
  c.routes = {{"switchyard.test.Echo", "", "", "echo", "200ms", ""}, {"", "", "/dead.", "dead", "", ""}};
  ClosedPort dead;
  c.clusters.push_back({"dead", {dead.address()}, {}});
  StartProxy(c);
  const HeaderList headers = {{"content-type", "application/grpc"}, {"te", "trailers"}};
  EchoRequest slow;
  slow.set_sleep_ms(3000);
  struct Case {
    std::string path;
    std::string body;
    std::string status;
  };
  const std::vector<Case> cases = {
      {"/nope.Service/Method", GrpcFrame(""), "12"},
      {"/dead.Service/Call", GrpcFrame(""), "14"},
      {"/switchyard.test.Echo/Unary", GrpcFrame(slow.SerializeAsString()), "4"},
  };
  for (const auto& tc : cases) {
    SCOPED_TRACE(tc.path);
    H2Result r = H2Request(proxy_address(), tc.path, headers, tc.body, 10s);
    ASSERT_EQ(r.error, "");
    ASSERT_EQ(r.blocks.size(), 1u) << "expected one HEADERS block (Trailers-Only)";
    EXPECT_TRUE(r.blocks[0].end_stream);
    EXPECT_EQ(r.Field(0, ":status"), "200");
    EXPECT_EQ(r.Field(0, "content-type").rfind("application/grpc", 0), 0u);
    EXPECT_EQ(r.Field(0, "grpc-status"), tc.status);
    EXPECT_EQ(r.data_frames, 0);
    if (tc.status == "12") {
      EXPECT_NE(r.Field(0, "grpc-message").find("/nope.Service/Method"), std::string::npos)
          << "grpc-message: " << r.Field(0, "grpc-message");
    }
  }
}

// Method routes only match their method; the service is case-sensitive.
TEST_F(RoutingTest, MethodRouteMatchesOnlyThatMethod) {
  Backend& b = StartBackend("backend-a");
  ProxyConfig c = DefaultConfig({&b});
  c.routes = {{"switchyard.test.Echo", "Unary", "", "echo", "", ""}};
  StartProxy(c);
  auto stub = EchoStub();
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(10s));
    EchoResponse resp;
    grpc::Status s = stub->Unary(&ctx, EchoRequest(), &resp);
    EXPECT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
  }
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(10s));
    auto r = stub->ServerStream(&ctx, EchoRequest());
    EchoResponse resp;
    while (r->Read(&resp)) {
    }
    grpc::Status s = r->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED);
    EXPECT_NE(s.error_message().find("/switchyard.test.Echo/ServerStream"), std::string::npos) << s.error_message();
  }
  EXPECT_EQ(b.Calls("ServerStream"), 0);
}

// Routes are tried in order and the first match wins: a method route listed
// before its service's catch-all sends that method to a different cluster.
TEST_F(RoutingTest, FirstMatchingRouteWins) {
  Backend& a = StartBackend("backend-a");
  Backend& b = StartBackend("backend-b");
  ProxyConfig c = DefaultConfig({});
  c.routes = {{"switchyard.test.Echo", "Unary", "", "only-a", "", ""},
              {"switchyard.test.Echo", "", "", "only-b", "", ""},
              {"", "", "/helloworld.", "only-a", "", ""}};
  c.clusters = {{"only-a", {a.address}, {}}, {"only-b", {b.address}, {}}};
  StartProxy(c);
  auto stub = EchoStub();
  for (int i = 0; i < 4; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(10s));
    EchoResponse resp;
    ASSERT_TRUE(stub->Unary(&ctx, EchoRequest(), &resp).ok());
    EXPECT_EQ(resp.backend(), "backend-a");
  }
  for (int i = 0; i < 4; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(10s));
    EchoRequest req;
    req.set_count(1);
    auto r = stub->ServerStream(&ctx, req);
    EchoResponse resp;
    ASSERT_TRUE(r->Read(&resp));
    EXPECT_EQ(resp.backend(), "backend-b");
    EXPECT_TRUE(r->Finish().ok());
  }
  std::string who;
  grpc::Status s = SayHello(proxy_address(), &who);
  EXPECT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
  EXPECT_EQ(who, "backend-a") << "prefix route /helloworld. not applied";
}

// 100 unary calls over ONE client channel (one HTTP/2 connection) to a
// two-backend cluster are split exactly 50/50: balancing is per RPC, not per
// connection.
TEST_F(RoutingTest, RoundRobinSplitsCallsOnOneConnectionEvenly) {
  Backend& a = StartBackend("backend-a");
  Backend& b = StartBackend("backend-b");
  StartProxy(DefaultConfig({&a, &b}));
  auto stub = EchoStub();
  std::map<std::string, int> by_backend;
  for (int i = 0; i < 100; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(10s));
    EchoResponse resp;
    grpc::Status s = stub->Unary(&ctx, EchoRequest(), &resp);
    ASSERT_TRUE(s.ok()) << "call " << i << ": " << s.error_code() << ": " << s.error_message();
    by_backend[MetadataValue(ctx.GetServerTrailingMetadata(), "x-backend")]++;
  }
  EXPECT_EQ(by_backend["backend-a"], 50);
  EXPECT_EQ(by_backend["backend-b"], 50);
  EXPECT_EQ(by_backend.size(), 2u);
  EXPECT_EQ(a.Calls("Unary"), 50);
  EXPECT_EQ(b.Calls("Unary"), 50);
}

// A cluster whose only endpoint refuses connections gives UNAVAILABLE
// promptly (well under a second), every time.
TEST_F(RoutingTest, BackendDownGivesUnavailablePromptly) {
  ProxyConfig c = DefaultConfig({});
  ClosedPort dead;
  c.clusters = {{"echo", {dead.address()}, {}}};
  StartProxy(c);
  auto stub = EchoStub();
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(10s));
    EchoResponse resp;
    auto start = Clock::now();
    grpc::Status s = stub->Unary(&ctx, EchoRequest(), &resp);
    auto elapsed = Clock::now() - start;
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << "call " << i << ": " << s.error_message();
    EXPECT_LT(Ms(elapsed), 3000) << "call " << i << " waited instead of failing (deadline 10 s)";
  }
}

// When one of two backends dies, calls keep succeeding on the other one.
TEST_F(RoutingTest, SurvivingBackendServesAfterOtherStops) {
  Backend& a = StartBackend("backend-a");
  Backend& b = StartBackend("backend-b");
  StartProxy(DefaultConfig({&a, &b}));
  auto stub = EchoStub();
  for (int i = 0; i < 4; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(10s));
    EchoResponse resp;
    ASSERT_TRUE(stub->Unary(&ctx, EchoRequest(), &resp).ok());
  }
  b.process->stop(3000ms);
  int ok_after = 0;
  int unavailable = 0;
  for (int i = 0; i < 20; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(10s));
    EchoResponse resp;
    grpc::Status s = stub->Unary(&ctx, EchoRequest(), &resp);
    if (s.ok()) {
      EXPECT_EQ(resp.backend(), "backend-a");
      ok_after++;
    } else {
      EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
      unavailable++;
    }
  }
  // A passive-health proxy may fail a call or two before noticing; most must
  // succeed.
  EXPECT_GE(ok_after, 15) << unavailable << " calls failed";
}

// grpc.health.v1.Health/Check("") on address, asked directly over HTTP/2:
// the HealthCheckResponse status (1 SERVING, 2 NOT_SERVING), -1 on error.
int DirectHealthStatus(const std::string& address) {
  H2Result r = H2Request(address, "/grpc.health.v1.Health/Check",
                         {{"content-type", "application/grpc"}, {"te", "trailers"}}, GrpcFrame(""), 5s);
  if (!r.error.empty() || r.body.size() < 5) return -1;
  std::string msg = r.body.substr(5);
  if (msg.empty()) return 0;  // UNKNOWN is the default, encoded as nothing
  if (msg.size() == 2 && msg[0] == 0x08) return msg[1];
  return -1;
}

// With active health checking, a backend that reports NOT_SERVING on
// grpc.health.v1 stops getting calls, and gets them again once SERVING.
TEST_F(RoutingTest, HealthCheckTakesNotServingBackendOutAndBack) {
  Backend& a = StartBackend("backend-a");
  Backend& b = StartBackend("backend-b");
  ProxyConfig c = DefaultConfig({&a, &b});
  c.clusters.front().extra = {"health_check: { interval: 100ms, timeout: 1s, unhealthy_threshold: 1, "
                              "healthy_threshold: 1 }"};
  StartProxy(c);
  auto stub = EchoStub();
  // Counts which backends answer a burst of calls.
  auto burst = [&](int n) {
    std::map<std::string, int> seen;
    for (int i = 0; i < n; ++i) {
      grpc::ClientContext ctx;
      ctx.set_deadline(In(5s));
      EchoResponse resp;
      grpc::Status s = stub->Unary(&ctx, EchoRequest(), &resp);
      seen[s.ok() ? resp.backend() : "error " + std::to_string(s.error_code())]++;
    }
    return seen;
  };
  EXPECT_TRUE(WaitUntil([&] { return burst(10).size() == 2; }, 5000ms, 50ms)) << "both backends never served";

  grpc::ClientContext set_ctx;
  set_ctx.set_deadline(In(5s));
  switchyard::test::SetServingRequest not_serving;
  not_serving.set_serving(false);
  switchyard::test::Empty empty;
  ASSERT_TRUE(b.control->SetServing(&set_ctx, not_serving, &empty).ok());
  ASSERT_EQ(DirectHealthStatus(b.address), 2) << "backend does not report NOT_SERVING itself";
  std::map<std::string, int> last;
  bool drained = WaitUntil(
      [&] {
        last = burst(20);
        return last.size() == 1 && last.count("backend-a") == 1;
      },
      5000ms, 50ms);
  EXPECT_TRUE(drained) << "NOT_SERVING backend still gets calls; last burst: backend-a=" << last["backend-a"]
                       << " backend-b=" << last["backend-b"];

  grpc::ClientContext set_ctx2;
  set_ctx2.set_deadline(In(5s));
  switchyard::test::SetServingRequest serving;
  serving.set_serving(true);
  ASSERT_TRUE(b.control->SetServing(&set_ctx2, serving, &empty).ok());
  ASSERT_EQ(DirectHealthStatus(b.address), 1);
  EXPECT_TRUE(WaitUntil([&] { return burst(10).count("backend-b") == 1; }, 5000ms, 50ms))
      << "backend never came back after SERVING";
}

// The backend sees x-forwarded-for naming the client's address.
TEST_F(RoutingTest, XForwardedForReachesBackend) {
  Backend& a = StartBackend("backend-a");
  StartProxy(DefaultConfig({&a}));
  auto stub = EchoStub();
  grpc::ClientContext ctx;
  ctx.set_deadline(In(10s));
  EchoResponse resp;
  ASSERT_TRUE(stub->Unary(&ctx, EchoRequest(), &resp).ok());
  auto st = a.Stats();
  EXPECT_NE(st.last_x_forwarded_for().find("127.0.0.1"), std::string::npos)
      << "x-forwarded-for: '" << st.last_x_forwarded_for() << "'";
}

// An IPv6 loopback listener and an IPv6 backend work like IPv4 ones.
TEST_F(RoutingTest, Ipv6ListenerAndBackend) {
  if (!Ipv6LoopbackAvailable()) GTEST_SKIP() << "no IPv6 loopback on this host";
  Backend& a = StartBackend("backend-v6", "[::1]:0");
  ProxyConfig c = DefaultConfig({&a});
  c.listeners.front().address = "[::1]:0";  // the bound port is read back
  StartProxy(c);
  std::string who;
  grpc::Status s = SayHello(proxy_address(), &who);
  EXPECT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
  EXPECT_EQ(who, "backend-v6");
}

}  // namespace
}  // namespace sytest
