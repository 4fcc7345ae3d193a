// Cluster, endpoint and connection limits through the real daemon:
// circuit_breaker.max_active_rpcs over all workers, endpoint weights under
// both lb policies, and max_connection_age draining a busy connection.
#include <atomic>
#include <map>
#include <thread>

#include "ops_support.h"

namespace sytest::ops {
namespace {

using switchyard::test::EchoRequest;
using switchyard::test::EchoResponse;

using BidiStream = grpc::ClientReaderWriter<EchoRequest, EchoResponse>;

// A Bidi call held open at the backend: one message sent and answered.
struct OpenStream {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<switchyard::test::Echo::Stub> stub;
  grpc::ClientContext ctx;
  std::unique_ptr<BidiStream> stream;

  // True once the backend answered the first message.
  bool Open(const std::string& address) {
    channel = MakeChannel(address);
    stub = switchyard::test::Echo::NewStub(channel);
    ctx.set_deadline(In(60s));
    stream = stub->Bidi(&ctx);
    return Exchange();
  }
  bool Exchange() {
    EchoRequest req;
    req.set_payload("hold");
    EchoResponse resp;
    return stream->Write(req) && stream->Read(&resp);
  }
  grpc::Status Close() {
    stream->WritesDone();
    EchoResponse ignored;
    while (stream->Read(&ignored)) {
    }
    return stream->Finish();
  }
};

class EdgeLimitsTest : public OpsTest {
 protected:
  double Overflows(const std::string& limit) {
    return Sum(Scrape(), "switchyard_upstream_overflow_total", {{"cluster", "echo"}, {"limit", limit}});
  }

  // Who served each of `calls` sequential unary RPCs over one connection.
  std::map<std::string, int> Split(const std::string& lb, int calls) {
    Backend& a = StartBackend("backend-a");
    Backend& b = StartBackend("backend-b");
    ProxyConfig c = DefaultConfig({&a, &b});
    c.endpoint_weights["echo"] = {3, 1};
    c.clusters[0].extra.push_back("lb: " + lb);
    StartProxyWith(c);
    auto stub = EchoStub();  // one connection: one worker's picker sees every RPC
    std::map<std::string, int> seen;
    for (int i = 0; i < calls; ++i) {
      std::string who;
      grpc::Status s = EchoUnary(stub.get(), &who);
      EXPECT_TRUE(s.ok()) << i << ": " << s.error_message();
      if (!s.ok()) break;
      ++seen[who];
    }
    return seen;
  }
};

// Two RPCs in flight on two connections (possibly two workers) fill
// max_active_rpcs: 2; a third is refused at once with UNAVAILABLE, counted,
// and once one finishes a new RPC gets through.
TEST_F(EdgeLimitsTest, MaxActiveRpcsRefusesTheOverflowAtOnce) {
  Backend& b = StartBackend("backend-a");
  ProxyConfig c = DefaultConfig({&b});
  c.clusters[0].extra.push_back("circuit_breaker: { max_active_rpcs: 2 }");
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(c));
  EXPECT_EQ(Overflows("max_active_rpcs"), 0) << "the series exists from the start";

  OpenStream first, second;
  ASSERT_TRUE(first.Open(proxy_address()));
  ASSERT_TRUE(second.Open(proxy_address()));

  auto third = switchyard::test::Echo::NewStub(MakeChannel(proxy_address()));
  // A long deadline: queueing would end in DEADLINE_EXCEEDED, not UNAVAILABLE.
  grpc::Status s = EchoUnary(third.get(), nullptr, 20000ms);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_EQ(s.error_message(), "cluster echo has 2 RPCs in flight (circuit_breaker.max_active_rpcs)");
  EXPECT_EQ(b.Calls("Unary"), 0) << "the refused RPC never reached the backend";
  EXPECT_TRUE(WaitUntil([&] { return Overflows("max_active_rpcs") == 1; }, 5000ms, 50ms));
  EXPECT_EQ(Overflows("max_pending"), 0);

  ASSERT_TRUE(first.Close().ok());
  // The proxy gives the place back when the client's stream closes, which
  // may be a moment after the client saw the trailers.
  grpc::Status after;
  EXPECT_TRUE(WaitUntil(
      [&] {
        after = EchoUnary(third.get());
        return after.ok() || after.error_code() != grpc::StatusCode::UNAVAILABLE;
      },
      5000ms, 20ms));
  EXPECT_TRUE(after.ok()) << after.error_code() << ": " << after.error_message();
  EXPECT_TRUE(second.Exchange()) << "RPCs admitted earlier are untouched";
  EXPECT_TRUE(second.Close().ok());
}

// Weights 3:1 under round_robin: smooth weighted round-robin gives exactly
// 750 of 1,000 sequential RPCs to the heavier endpoint.
TEST_F(EdgeLimitsTest, EndpointWeightsSplitThreeToOneUnderRoundRobin) {
  auto seen = Split("round_robin", 1000);
  EXPECT_EQ(seen["backend-a"] + seen["backend-b"], 1000);
  EXPECT_NEAR(seen["backend-a"], 750, 10) << "a=" << seen["backend-a"] << " b=" << seen["backend-b"];
}

// least_request with weights: with nothing else in flight every endpoint's
// load is equal, so the weights alone decide, 3:1.
TEST_F(EdgeLimitsTest, EndpointWeightsSplitThreeToOneUnderLeastRequest) {
  auto seen = Split("least_request", 1000);
  EXPECT_EQ(seen["backend-a"] + seen["backend-b"], 1000);
  EXPECT_NEAR(seen["backend-a"], 750, 10) << "a=" << seen["backend-a"] << " b=" << seen["backend-b"];
}

// A connection older than max_connection_age is drained with GOAWAY while a
// bidi stream and unary RPCs are in flight on it: nothing fails, the stream
// keeps working to its end, and the client reconnects for new RPCs.
TEST_F(EdgeLimitsTest, MaxConnectionAgeDrainsABusyConnectionWithoutFailures) {
  Backend& b = StartBackend("backend-a");
  ProxyConfig c = DefaultConfig({&b});
  c.listener_extra["public"] = {"max_connection_age: 400ms", "max_connection_age_grace: 0s"};
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(c));
  auto connections = [&] { return Sum(Scrape(), "switchyard_listener_connections_total", {{"listener", "public"}}); };
  auto aged = [&] { return Sum(Scrape(), "switchyard_listener_connections_aged_total", {{"listener", "public"}}); };

  auto channel = MakeChannel(proxy_address());
  auto stub = switchyard::test::Echo::NewStub(channel);
  grpc::ClientContext bidi_ctx;
  bidi_ctx.set_deadline(In(60s));
  auto bidi = stub->Bidi(&bidi_ctx);
  EchoRequest hold;
  hold.set_payload("hold");
  EchoResponse resp;
  ASSERT_TRUE(bidi->Write(hold) && bidi->Read(&resp));

  // Unary RPCs that take a while at the backend, back to back on the same channel.
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0};
  std::vector<std::string> failures;
  std::mutex mu;
  std::thread unary([&] {
    for (int i = 0; i < 2000 && !stop; ++i) {
      grpc::ClientContext ctx;
      ctx.set_deadline(In(10s));
      EchoRequest req;
      req.set_sleep_ms(50);
      EchoResponse r;
      grpc::Status s = stub->Unary(&ctx, req, &r);
      if (s.ok()) {
        ++ok;
      } else {
        std::lock_guard<std::mutex> g(mu);
        failures.push_back(std::to_string(s.error_code()) + ": " + s.error_message());
      }
    }
  });

  EXPECT_TRUE(WaitUntil([&] { return aged() >= 1; }, 10000ms, 50ms)) << "no connection reached its age";
  int ok_when_aged = ok.load();
  // The client reconnected, and RPCs kept succeeding on the new connections.
  EXPECT_TRUE(WaitUntil([&] { return connections() >= 2 && ok.load() >= ok_when_aged + 10; }, 20000ms, 50ms));
  // The stream opened on the first connection still works and ends cleanly.
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(bidi->Write(hold) && bidi->Read(&resp)) << i;
  bidi->WritesDone();
  while (bidi->Read(&resp)) {
  }
  grpc::Status bidi_status = bidi->Finish();
  EXPECT_TRUE(bidi_status.ok()) << bidi_status.error_code() << ": " << bidi_status.error_message();
  stop = true;
  unary.join();
  std::lock_guard<std::mutex> g(mu);
  EXPECT_TRUE(failures.empty()) << failures.size() << " failed, first: " << failures.front();
  EXPECT_GE(ok.load(), 10);
}

// With a grace period, a stream still open when it passes ends with
// UNAVAILABLE and a message naming the limit; the channel reconnects.
TEST_F(EdgeLimitsTest, MaxConnectionAgeGraceEndsStreamsThatOutlastIt) {
  Backend& b = StartBackend("backend-a");
  ProxyConfig c = DefaultConfig({&b});
  c.listener_extra["public"] = {"max_connection_age: 300ms", "max_connection_age_grace: 300ms"};
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(c));
  OpenStream held;
  ASSERT_TRUE(held.Open(proxy_address()));
  // Nothing more is sent: the stream outlasts age + grace, and the proxy ends it.
  EchoResponse resp;
  while (held.stream->Read(&resp)) {
  }
  grpc::Status s = held.stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_NE(s.error_message().find("max_connection_age_grace"), std::string::npos) << s.error_message();
  // New RPCs on the same channel go over a new connection.
  EXPECT_TRUE(EchoUnary(held.stub.get()).ok());
}

}  // namespace
}  // namespace sytest::ops
