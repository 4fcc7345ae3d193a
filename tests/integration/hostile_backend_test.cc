// Hostile and broken backends against the real daemon: header and trailer
// bombs, a backend that stops granting streams, a GOAWAY in mid-call, and
// metadata a backend cannot take. The client whose call meets such a backend
// gets a proper gRPC status, other clients' calls are untouched, memory stays
// bounded, and each case is counted in /metrics.
#include "hostile_support.h"
#include "scripted_h2_backend.h"

namespace sytest::hostile {
namespace {

class HostileBackendTest : public HostileTest {
 protected:
  // Echo goes to a real gRPC backend (for the canary); /hostile.Backend/* to a scripted one.
  void SetUpWith(uint32_t scripted_max_streams, const std::vector<std::string>& cluster_extra = {},
                 const std::vector<std::string>& listener_extra = {}) {
    backend_ = &StartBackend("backend-a");
    scripted_ = std::make_unique<ScriptedH2Backend>(scripted_max_streams);
    ASSERT_TRUE(scripted_->ok());
    StartHostile({backend_->address}, listener_extra, cluster_extra, scripted_->address());
    channel_ = MakeChannel(proxy_address());
  }
  grpc::Status Call(const std::string& method, std::chrono::milliseconds deadline = 20000ms) {
    return ops::GenericUnary(channel_, "/hostile.Backend/" + method, deadline);
  }
  double UpstreamLimit(const std::string& limit) {
    return Metric("switchyard_upstream_limits_hit_total", {{"limit", limit}});
  }

  Backend* backend_ = nullptr;
  std::unique_ptr<ScriptedH2Backend> scripted_;
  std::shared_ptr<grpc::Channel> channel_;
};

// Finding 10: response headers or trailers that decode to ~120 MB are cut off
// at the cluster's limit: the client gets INTERNAL (not a hang), the backend
// stream is reset, and the proxy's memory does not grow.
TEST_F(HostileBackendTest, HeaderAndTrailerBombsEndTheCallInternal) {
  SetUpWith(100);
  Canary canary(proxy_address());
  double base = canary.Baseline();
  long rss0 = ReadRssKb(proxy_pid());
  canary.Start();
  for (const std::string method : {"HeaderBomb", "TrailerBomb", "HeaderBomb", "TrailerBomb"}) {
    SCOPED_TRACE(method);
    grpc::Status s = Call(method);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INTERNAL) << s.error_message();
  }
  EXPECT_TRUE(WaitUntil([&] { return scripted_->resetsReceived() >= 4; }, 10000ms))
      << "backend streams reset: " << scripted_->resetsReceived();
  ExpectCanaryUnharmed(canary, base);
  ExpectRssNear(rss0);
  EXPECT_GE(UpstreamLimit("response_headers"), 4);
  // The connection to that backend still serves ordinary calls.
  EXPECT_TRUE(Call("Ok").ok());
}

// Finding 9: a backend that grants no streams (MAX_CONCURRENT_STREAMS 0)
// does not hold RPCs forever: they wait at most pending_timeout, at most
// max_pending of them, then UNAVAILABLE.
TEST_F(HostileBackendTest, ABackendThatGrantsNoStreamsFailsCallsUnavailable) {
  SetUpWith(0, {"max_connections_per_endpoint: 1", "pending_timeout: 500ms", "circuit_breaker: { max_pending: 2 }"});
  // No client deadline: without the pending bounds this would never end.
  grpc::Status first = Call("Ok", 60000ms);
  EXPECT_EQ(first.error_code(), grpc::StatusCode::UNAVAILABLE) << first.error_message();
  std::vector<std::thread> threads;
  std::mutex mu;
  std::vector<grpc::Status> results;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      grpc::Status s = Call("Ok", 60000ms);
      std::lock_guard<std::mutex> g(mu);
      results.push_back(s);
    });
  }
  for (auto& t : threads) t.join();
  int timed_out = 0, refused = 0;
  for (const auto& s : results) {
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
    timed_out += s.error_message().find("pending_timeout") != std::string::npos;
    refused += s.error_message().find("max_pending") != std::string::npos;
  }
  EXPECT_GE(refused, 1);
  EXPECT_LE(timed_out, 2 + 1);
  EXPECT_GE(UpstreamLimit("pending_timeout"), 2);
  EXPECT_GE(UpstreamLimit("pending_full"), 1);
  // Refused for max_pending is the cluster's circuit breaker overflowing.
  EXPECT_EQ(Metric("switchyard_upstream_overflow_total", {{"cluster", "scripted"}, {"limit", "max_pending"}}),
            refused);
  EXPECT_EQ(scripted_->requests(), 0);
}

// circuit_breaker.max_pending holds for the process, not per worker: with two
// workers, each with one connection to a backend that grants one stream per
// connection, exactly one RPC in the whole daemon may wait for a slot; every
// other one over the streams in flight is refused UNAVAILABLE at once and
// counted as overflow. (Which worker takes a client connection is the
// kernel's choice; counted per worker, the limit lets one RPC wait on each
// worker that has two or more client connections, which with 8 connections
// over 2 workers is the case in more than 9 runs of 10.)
TEST_F(HostileBackendTest, MaxPendingHoldsForTheWholeProcess) {
  backend_ = &StartBackend("backend-a");
  scripted_ = std::make_unique<ScriptedH2Backend>(1, 2000ms);  // one stream per connection; HoldOk holds 2 s
  ASSERT_TRUE(scripted_->ok());
  StartHostile({backend_->address}, {},
               {"max_connections_per_endpoint: 1", "pending_timeout: 15s", "circuit_breaker: { max_pending: 1 }"},
               scripted_->address());
  constexpr int kConns = 8;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < kConns; ++i) channels.push_back(MakeChannel(proxy_address()));
  // One call at a time on every client connection: each worker that owns one
  // opens its backend connection and learns the one-stream limit.
  for (auto& ch : channels) ASSERT_TRUE(ops::GenericUnary(ch, "/hostile.Backend/Ok", 5000ms).ok());
  const int workers_used = scripted_->connections();
  ASSERT_GE(workers_used, 1);
  ASSERT_LE(workers_used, 2);

  std::mutex mu;
  std::vector<grpc::Status> results;
  std::vector<std::thread> threads;
  for (auto& ch : channels) {
    threads.emplace_back([&, ch] {
      grpc::Status s = ops::GenericUnary(ch, "/hostile.Backend/HoldOk", 30000ms);
      std::lock_guard<std::mutex> g(mu);
      results.push_back(s);
    });
  }
  for (auto& t : threads) t.join();
  int ok = 0, refused = 0;
  for (const auto& s : results) {
    if (s.ok()) {
      ++ok;
    } else {
      EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
      EXPECT_NE(s.error_message().find("circuit_breaker.max_pending"), std::string::npos) << s.error_message();
      ++refused;
    }
  }
  // One RPC holds each backend connection's stream; one more waited and ran after it.
  EXPECT_EQ(ok, workers_used + 1) << ok << " served, " << refused << " refused, " << workers_used
                                  << " backend connections";
  EXPECT_EQ(ok + refused, kConns);
  EXPECT_EQ(Metric("switchyard_upstream_overflow_total", {{"cluster", "scripted"}, {"limit", "max_pending"}}),
            refused);
  EXPECT_EQ(UpstreamLimit("pending_timeout"), 0);
  EXPECT_EQ(scripted_->maxConcurrentOnOneConnection(), 1);
}

// A backend that sends GOAWAY and closes in mid-call: the call ends
// UNAVAILABLE, later calls work on a new connection.
TEST_F(HostileBackendTest, GoawayInMidCallEndsTheCallUnavailable) {
  SetUpWith(100);
  grpc::Status s = Call("GoawayMid");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_TRUE(Call("Ok").ok());
}

// gRPC framing abuse from a backend: a message shorter than its length
// prefix, a prefix cut off by the trailers, the compressed flag without
// grpc-encoding. gRPC makes each INTERNAL, even under grpc-status 0; the
// client sees that, and the canary on the same proxy sees nothing.
TEST_F(HostileBackendTest, BadGrpcFramingFromTheBackendEndsTheCallInternal) {
  SetUpWith(100);
  Canary canary(proxy_address());
  double base = canary.Baseline();
  canary.Start();
  for (const std::string method : {"BadLength", "CutPrefix", "CompressedNoEncoding"}) {
    SCOPED_TRACE(method);
    grpc::Status s = Call(method);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INTERNAL) << s.error_message();
  }
  ExpectCanaryUnharmed(canary, base);
  EXPECT_TRUE(Call("Ok").ok());
}

// A backend that streams DATA forever and never sends trailers: the proxy
// buffers no more than its flow-control windows allow (the backend can send
// only what they grant), and the call ends by its deadline or the client's
// cancel, with the backend stream reset either way.
TEST_F(HostileBackendTest, EndlessResponsesAreBoundedByFlowControlAndEndByDeadlineOrCancel) {
  // The deadline's status cannot get through a closed window: the client's
  // stream is then reset by stream_idle_timeout.
  SetUpWith(100, {}, {"stream_idle_timeout: 1s"});
  Canary canary(proxy_address());
  double base = canary.Baseline();
  long rss0 = ReadRssKb(proxy_pid());
  canary.Start();
  const std::string request = GrpcRequestBlock("/hostile.Backend/Endless", {{"grpc-timeout", "800m"}});

  // A client that never opens its window beyond the initial 64 KiB: the call
  // ends by its 800 ms deadline, which resets the backend stream.
  RawConn slow(proxy_address());
  slow.Send(HeadersFrames(1, request, false) + EncodeFrame(kData, kEndStream, 1, GrpcFrame("")));
  auto ended = [](const RawConn& c, uint32_t id) {
    for (const auto& f : c.frames()) {
      if (f.stream_id == id && (f.type == kRstStream || (f.type == kHeaders && (f.flags & kEndStream)))) return true;
    }
    return false;
  };
  EXPECT_TRUE(slow.WaitFor([&] { return ended(slow, 1); }, 20000ms)) << slow.Describe();
  EXPECT_TRUE(WaitUntil([&] { return scripted_->resetsReceived() >= 1; }, 10000ms)) << "backend stream not reset";
  // 64 KiB to the client plus the proxy's upstream stream window, not the
  // gigabytes a loopback backend sends in a second without flow control.
  EXPECT_LT(scripted_->endlessBytes(), 8u << 20) << "bytes the backend could send";

  // A client that reads as fast as it can (windows of 1 GiB) and then
  // cancels: the cancel reaches the backend.
  const uint64_t before = scripted_->endlessBytes();
  RawConn fast(proxy_address());
  fast.Send(WindowUpdateFrame(0, 1u << 30) + HeadersFrames(1, GrpcRequestBlock("/hostile.Backend/Endless"), false) +
            WindowUpdateFrame(1, 1u << 30) + EncodeFrame(kData, kEndStream, 1, GrpcFrame("")));
  auto data_bytes = [&] {
    size_t n = 0;
    for (const auto& f : fast.frames()) n += f.type == kData ? f.payload.size() : 0;
    return n;
  };
  ASSERT_TRUE(fast.WaitFor([&] { return data_bytes() >= (4u << 20); }, 20000ms)) << data_bytes();
  fast.Send(RstFrame(1, kCancel));
  EXPECT_TRUE(WaitUntil([&] { return scripted_->resetsReceived() >= 2; }, 10000ms)) << "backend stream not reset";
  EXPECT_TRUE(WaitUntil([&] { return scripted_->openStreams() == 0; }, 10000ms));
  EXPECT_GT(scripted_->endlessBytes() - before, 4u << 20);
  ExpectCanaryUnharmed(canary, base);
  ExpectRssNear(rss0);
}

// A backend whose response header block is not valid HPACK has broken its
// whole connection (RFC 9113 4.3: a connection error): the call on it ends
// UNAVAILABLE instead of hanging, other clusters' calls are untouched, and
// the next call gets a new connection.
TEST_F(HostileBackendTest, InvalidHpackFromTheBackendEndsItsConnection) {
  SetUpWith(100);
  Canary canary(proxy_address());
  double base = canary.Baseline();
  canary.Start();
  const int connections0 = scripted_->connections();
  for (int i = 0; i < 3; ++i) {
    grpc::Status s = Call("BadHpack");
    EXPECT_TRUE(s.error_code() == grpc::StatusCode::UNAVAILABLE || s.error_code() == grpc::StatusCode::INTERNAL)
        << s.error_code() << " " << s.error_message();
    EXPECT_TRUE(Call("Ok").ok());
  }
  EXPECT_GE(scripted_->connections(), connections0 + 3);
  ExpectCanaryUnharmed(canary, base);
}

// Finding 8: a request whose metadata the backend would refuse (over the
// cluster's max_request_header_list_size, 8 KiB by default, or the backend's
// advertised limit) is refused by the proxy before it is sent, so it cannot
// fail other clients' streams on the same upstream connection.
TEST_F(HostileBackendTest, OversizedMetadataIsRefusedBeforeReachingTheBackend) {
  SetUpWith(100);
  auto innocent = switchyard::test::Echo::NewStub(MakeChannel(proxy_address()));
  auto offender = EchoStub();
  int64_t calls0 = backend_->Calls("ServerStream");
  // Innocent streams in flight on the shared upstream connection.
  std::vector<std::thread> streams;
  std::atomic<int> innocent_failures{0};
  std::string innocent_error;
  std::mutex mu;
  for (int i = 0; i < 4; ++i) {
    streams.emplace_back([&] {
      grpc::ClientContext ctx;
      ctx.set_deadline(In(20s));
      EchoRequest req;
      req.set_count(5);
      req.set_interval_ms(100);
      auto reader = innocent->ServerStream(&ctx, req);
      EchoResponse resp;
      int got = 0;
      while (got < 10 && reader->Read(&resp)) ++got;
      grpc::Status s = reader->Finish();
      if (!s.ok() || got != 5) {
        ++innocent_failures;
        std::lock_guard<std::mutex> g(mu);
        innocent_error = std::to_string(s.error_code()) + " " + s.error_message();
      }
    });
  }
  ASSERT_TRUE(WaitUntil([&] { return backend_->Calls("ServerStream") - calls0 >= 4; }, 10000ms));
  for (int size : {9000, 12000, 15000}) {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(10s));
    ctx.AddMetadata("x-big", std::string(static_cast<size_t>(size), 'm'));
    EchoRequest req;
    EchoResponse resp;
    grpc::Status s = offender->Unary(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << size << ": " << s.error_message();
    EXPECT_NE(s.error_message().find("header-list limit"), std::string::npos) << s.error_message();
  }
  for (auto& t : streams) t.join();
  EXPECT_EQ(innocent_failures.load(), 0) << innocent_error;
  EXPECT_GE(UpstreamLimit("request_headers"), 3);
  // Under the limit still passes.
  grpc::ClientContext ctx;
  ctx.set_deadline(In(10s));
  ctx.AddMetadata("x-small", std::string(4000, 's'));
  EchoRequest req;
  EchoResponse resp;
  EXPECT_TRUE(offender->Unary(&ctx, req, &resp).ok());
}

// Finding 7: invalid grpc-timeout values are answered INTERNAL by the proxy
// (values with spaces never get that far: HTTP/2 rejects the field itself)
// and never forwarded; "1n" is a valid (already expiring) deadline; the
// largest valid value is clamped, not overflowed, and the call succeeds with
// a valid grpc-timeout forwarded.
TEST_F(HostileBackendTest, GrpcTimeoutIsStrictAndClamped) {
  SetUpWith(100);
  const std::string path = "/switchyard.test.Echo/Unary";
  const std::string body = GrpcFrame("");
  int64_t calls0 = backend_->Calls("Unary");
  for (const char* bad : {"abc", "-1S", "1.5S", "1s", "", "+1S", "0x10S", "123456789S", "1SS", "1m1S"}) {
    SCOPED_TRACE(std::string("grpc-timeout: '") + bad + "'");
    H2Result r = H2Request(proxy_address(), path,
                           {{"content-type", "application/grpc"}, {"te", "trailers"}, {"grpc-timeout", bad}}, body);
    ASSERT_TRUE(r.error.empty()) << r.error;
    ASSERT_FALSE(r.blocks.empty());
    EXPECT_EQ(r.Field(r.blocks.size() - 1, "grpc-status"), "13");
  }
  EXPECT_EQ(backend_->Calls("Unary"), calls0) << "an invalid grpc-timeout reached the backend";
  {
    H2Result r = H2Request(proxy_address(), path,
                           {{"content-type", "application/grpc"}, {"te", "trailers"}, {"grpc-timeout", "1n"}}, body);
    ASSERT_FALSE(r.blocks.empty()) << r.error;
    std::string status = r.Field(r.blocks.size() - 1, "grpc-status");
    EXPECT_TRUE(status == "0" || status == "4") << status;
  }
  {
    H2Result r = H2Request(proxy_address(), path,
                           {{"content-type", "application/grpc"}, {"te", "trailers"}, {"grpc-timeout", "99999999H"}},
                           body);
    ASSERT_FALSE(r.blocks.empty()) << r.error;
    EXPECT_EQ(r.Field(r.blocks.size() - 1, "grpc-status"), "0");
    auto stats = backend_->Stats();
    // gRPC may read a century as "no deadline" (-1 here); anything but a short one.
    int64_t left = stats.last_deadline_remaining_ms();
    EXPECT_TRUE(left == -1 || left > 24LL * 3600 * 1000) << left << "ms; forwarded: " << stats.last_grpc_timeout();
  }
}

}  // namespace
}  // namespace sytest::hostile
