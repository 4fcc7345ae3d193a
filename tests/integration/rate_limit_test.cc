// Local rate limiting through the real daemon with two workers: a
// process-wide budget shared by both workers, per-tenant budgets keyed by a
// header, the grpc-retry-pushback-ms trailer and a gRPC client's retry policy
// honouring it, a SIGHUP that changes the rate, and a route without a limit
// left alone.
#include <atomic>
#include <iostream>
#include <mutex>
#include <thread>

#include "ops_support.h"
#include "raw_h2.h"

namespace sytest::ops {
namespace {

using switchyard::test::EchoRequest;
using switchyard::test::EchoResponse;

constexpr const char* kEchoRouteLabel = "switchyard.test.Echo/*";

class RateLimitTest : public OpsTest {
 protected:
  ProxyConfig Config(const Backend& b, const std::string& routes_yaml) {
    ProxyConfig c;
    c.workers = 2;
    c.admin_address = Loopback();
    c.listeners = {{"public", Loopback(), "", ""}};
    c.clusters = {{"echo", {b.address}, {}}};
    c.routes_yaml = routes_yaml;
    return c;
  }

  static grpc::Status Call(switchyard::test::Echo::Stub& stub,
                           const std::multimap<std::string, std::string>& metadata = {}) {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(10s));
    for (const auto& [k, v] : metadata) ctx.AddMetadata(k, v);
    EchoResponse resp;
    return stub.Unary(&ctx, EchoRequest(), &resp);
  }

  // Calls until the first refusal (at most `max` calls); returns the OKs.
  static int OksUntilRefused(switchyard::test::Echo::Stub& stub, int max,
                             const std::multimap<std::string, std::string>& metadata = {}) {
    int ok = 0;
    for (int i = 0; i < max; ++i) {
      grpc::Status s = Call(stub, metadata);
      if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) return ok;
      EXPECT_TRUE(s.ok()) << s.error_message();
      ++ok;
    }
    return ok;
  }
};

// 50/s (burst 5) for the process: eight client connections over two workers
// calling as fast as they can for 5 s get 50 * t + 5 RPCs through, within
// 10 %, and every other call is refused with RESOURCE_EXHAUSTED and counted.
TEST_F(RateLimitTest, LimitHoldsForTheProcessAcrossWorkers) {
  Backend& b = StartBackend("backend-a");
  StartProxyWith(Config(b,
                        "  - match: { service: switchyard.test.Echo }\n"
                        "    cluster: echo\n"
                        "    rate_limit: { rps: 50, burst: 5 }\n"));
  constexpr int kClients = 8;
  std::vector<std::unique_ptr<switchyard::test::Echo::Stub>> stubs;
  for (int i = 0; i < kClients; ++i) stubs.push_back(switchyard::test::Echo::NewStub(MakeChannel(proxy_address())));
  for (auto& s : stubs) {  // connect every channel before the clock starts
    grpc::Status st = Call(*s);
    ASSERT_TRUE(st.ok() || st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) << st.error_message();
  }
  // Let the bucket fill again: wait until one call passes, then the burst refills in 100 ms.
  ASSERT_TRUE(WaitUntil([&] { return Call(*stubs[0]).ok(); }, 5000ms));
  std::atomic<int> ok{0}, refused{0}, other{0};
  std::string first_other;
  std::mutex mu;
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      for (int n = 0; n < 200000 && Clock::now() < start + 5s; ++n) {
        grpc::Status s = Call(*stubs[static_cast<size_t>(i)]);
        if (s.ok()) {
          ++ok;
        } else if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
          ++refused;
        } else {
          std::lock_guard<std::mutex> g(mu);
          if (other++ == 0) first_other = s.error_message();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  double expected = 50 * seconds + 5;
  std::cout << "rate limit 50/s burst 5, 2 workers, " << kClients << " connections: " << ok.load() << " OK, "
            << refused.load() << " RESOURCE_EXHAUSTED in " << seconds << " s (expected " << expected << ")\n";
  EXPECT_EQ(other.load(), 0) << first_other;
  EXPECT_NEAR(ok.load(), expected, expected * 0.10)
      << ok.load() << " OK and " << refused.load() << " refused in " << seconds << " s";
  EXPECT_GT(refused.load(), ok.load()) << "the clients did not push past the limit";
  auto m = Scrape();
  EXPECT_GE(Sum(m, "switchyard_rate_limited_total", {{"route", kEchoRouteLabel}}), refused.load());
}

// Keyed by x-tenant: one tenant using up its budget leaves another's whole;
// a request without the header is keyed by its client address; a route
// without a limit is unaffected.
TEST_F(RateLimitTest, HeaderKeyGivesEachTenantItsOwnBudget) {
  Backend& b = StartBackend("backend-a");
  StartProxyWith(Config(b,
                        "  - match: { service: switchyard.test.Echo, headers: [{ name: x-plan, exact: free }] }\n"
                        "    cluster: echo\n"
                        "    rate_limit: { rps: 0.1, burst: 3, key: \"header:x-tenant\" }\n"
                        "  - match: { service: switchyard.test.Echo }\n"
                        "    cluster: echo\n"));
  auto stub = EchoStub();
  EXPECT_EQ(OksUntilRefused(*stub, 20, {{"x-plan", "free"}, {"x-tenant", "acme"}}), 3);
  EXPECT_EQ(OksUntilRefused(*stub, 20, {{"x-plan", "free"}, {"x-tenant", "globex"}}), 3);
  EXPECT_EQ(OksUntilRefused(*stub, 20, {{"x-plan", "free"}}), 3);  // no tenant: its address's budget
  grpc::Status s = Call(*stub, {{"x-plan", "free"}, {"x-tenant", "acme"}});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(s.error_message().find("exceeded on route switchyard.test.Echo/*"), std::string::npos)
      << s.error_message();
  for (int i = 0; i < 30; ++i) {
    grpc::Status u = Call(*stub, {{"x-tenant", "acme"}});  // the unlimited route
    ASSERT_TRUE(u.ok()) << i << ": " << u.error_message();
  }
  EXPECT_EQ(b.Calls("Unary"), 9 + 30);
}

// The refusal is a Trailers-Only gRPC answer carrying grpc-retry-pushback-ms.
TEST_F(RateLimitTest, RefusalCarriesThePushbackTrailer) {
  Backend& b = StartBackend("backend-a");
  StartProxyWith(Config(b,
                        "  - match: { service: switchyard.test.Echo }\n"
                        "    cluster: echo\n"
                        "    rate_limit: { rps: 0.5, burst: 1 }\n"));
  HeaderList headers = {{"content-type", "application/grpc"}, {"te", "trailers"}};
  H2Result first = H2Request(proxy_address(), "/switchyard.test.Echo/Unary", headers, GrpcFrame(""));
  ASSERT_TRUE(first.error.empty()) << first.error;
  H2Result r = H2Request(proxy_address(), "/switchyard.test.Echo/Unary", headers, GrpcFrame(""));
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_EQ(r.blocks.size(), 1u) << "want Trailers-Only";
  EXPECT_TRUE(r.blocks[0].end_stream);
  EXPECT_EQ(r.Field(0, ":status"), "200");
  EXPECT_EQ(r.Field(0, "grpc-status"), "8");
  std::string pushback = r.Field(0, "grpc-retry-pushback-ms");
  ASSERT_FALSE(pushback.empty());
  int ms = std::stoi(pushback);
  EXPECT_GT(ms, 0);
  EXPECT_LE(ms, 2000);
}

// A gRPC C++ client whose service config retries RESOURCE_EXHAUSTED waits
// the pushback and its calls succeed: at 5/s with a burst of 1, five calls
// in a row all succeed, and the last cannot have passed before 800 ms.
TEST_F(RateLimitTest, ClientRetryPolicyHonoursPushback) {
  Backend& b = StartBackend("backend-a");
  StartProxyWith(Config(b,
                        "  - match: { service: switchyard.test.Echo }\n"
                        "    cluster: echo\n"
                        "    rate_limit: { rps: 5, burst: 1 }\n"));
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 1);
  args.SetServiceConfigJSON(R"({"methodConfig": [{
      "name": [{"service": "switchyard.test.Echo"}],
      "retryPolicy": {"maxAttempts": 5, "initialBackoff": "0.01s", "maxBackoff": "0.05s",
                      "backoffMultiplier": 2, "retryableStatusCodes": ["RESOURCE_EXHAUSTED"]}}]})");
  auto stub = switchyard::test::Echo::NewStub(
      grpc::CreateCustomChannel(proxy_address(), grpc::InsecureChannelCredentials(), args));
  auto start = Clock::now();
  for (int i = 0; i < 5; ++i) {
    grpc::Status s = Call(*stub);
    ASSERT_TRUE(s.ok()) << "call " << i << ": " << s.error_message();
  }
  EXPECT_GE(Clock::now() - start, 800ms - 5ms);  // 4 intervals of 200 ms after the first
  EXPECT_EQ(b.Calls("Unary"), 5);
  // The calls that waited were refused first, and each refusal was counted.
  EXPECT_GE(Sum(Scrape(), "switchyard_rate_limited_total", {{"route", kEchoRouteLabel}}), 4);
}

// SIGHUP with a new rate: the new budget applies once the reload is done.
TEST_F(RateLimitTest, ReloadChangesTheRate) {
  Backend& b = StartBackend("backend-a");
  auto strict = Config(b,
                       "  - match: { service: switchyard.test.Echo }\n"
                       "    cluster: echo\n"
                       "    rate_limit: { rps: 0.1, burst: 2 }\n");
  StartProxyWith(strict);
  auto stub = EchoStub();
  EXPECT_EQ(OksUntilRefused(*stub, 20), 2);
  double reloads = ReloadCount("success");
  Reload(Config(b,
                "  - match: { service: switchyard.test.Echo }\n"
                "    cluster: echo\n"
                "    rate_limit: { rps: 0.1, burst: 25 }\n"));
  ASSERT_TRUE(WaitUntil([&] { return ReloadCount("success") > reloads; }, 10000ms));
  // The old budget refills one token per 10 s: a call that passes now is the new one's.
  ASSERT_TRUE(WaitUntil([&] { return Call(*stub).ok(); }, 5000ms, 50ms));
  EXPECT_EQ(OksUntilRefused(*stub, 40), 24);
}

}  // namespace
}  // namespace sytest::ops
