// Hostile clients against the real daemon: each attack gets the protocol's
// answer (RST_STREAM or GOAWAY code, or a gRPC status), is counted in
// /metrics, and costs a concurrent well-behaved canary nothing; where an
// attack could cost memory or CPU, RSS or CPU time is read from /proc.
#include <sys/resource.h>

#include "hostile_support.h"

namespace sytest::hostile {
namespace {

// One HEADERS block of ~147 KB (HEADERS + 8 CONTINUATIONs, nghttp2's cap)
// that decodes to ~600 MB: one 4 KB value added to the dynamic table, then
// referenced by index again and again.
std::string HpackBombBlock(bool define) {
  std::string block = GrpcRequestBlock("/switchyard.test.Echo/Unary");
  if (define) block += IndexedLiteralField("x-bomb", std::string(4000, 'b'));
  const size_t target = 9 * 16384 - 64;
  const std::string ref = IndexedField(62);
  while (block.size() + ref.size() <= target) block += ref;
  return block;
}

class HostileClientTest : public HostileTest {
 protected:
  void SetUpWith(const std::vector<std::string>& listener_extra) {
    backend_ = &StartBackend("backend-a");
    StartHostile({backend_->address}, listener_extra);
  }
  Backend* backend_ = nullptr;
};

// Finding 2: an HPACK bomb is cut off at the header-list limit as it is
// decoded (so it costs almost no CPU), each such request is reset with
// ENHANCE_YOUR_CALM (RESOURCE_EXHAUSTED for gRPC clients), and repeating it
// costs the connection its glitch budget: GOAWAY(ENHANCE_YOUR_CALM).
TEST_F(HostileClientTest, HpackBombIsCutOffAndRepeatingItClosesTheConnection) {
  SetUpWith({});
  Canary canary(proxy_address());
  double base = canary.Baseline();
  long rss0 = ReadRssKb(proxy_pid());
  double cpu0 = CpuSeconds(proxy_pid());
  canary.Start();

  RawConn c(proxy_address());
  ASSERT_TRUE(c.ok());
  const int kRequests = 20;  // ~12 GB of decoded header values in all
  for (int i = 0; i < kRequests && !c.closed(); ++i) {
    c.Send(HeadersFrames(1 + 2 * i, HpackBombBlock(i == 0), true));
  }
  ASSERT_TRUE(c.WaitFor([&] { return c.Find(kGoaway) != nullptr; })) << c.Describe();
  EXPECT_EQ(FrameCode(*c.Find(kGoaway)), kEnhanceYourCalm) << c.Describe();
  EXPECT_GE(c.Count(kRstStream, kEnhanceYourCalm), 1u) << c.Describe();
  EXPECT_EQ(c.Find(kHeaders), nullptr) << "a bomb was answered as a request: " << c.Describe();
  EXPECT_TRUE(c.WaitClosed()) << c.Describe();
  double cpu = CpuSeconds(proxy_pid()) - cpu0;

  ExpectCanaryUnharmed(canary, base);
  // Decoding ~12 GB of header values took seconds of CPU before; stopping at
  // the limit takes milliseconds. The canary's own calls are in this too.
  EXPECT_LT(cpu, 2.0 * kSanitizerSlack) << "CPU seconds spent by the proxy during the attack";
  ExpectRssNear(rss0);
  EXPECT_GE(ListenerLimit("header_list_size"), 1);
  EXPECT_GE(Glitches("header_limit"), 1);
  EXPECT_GE(ListenerLimit("max_glitches"), 1);
}

// Finding 2: a gRPC client with metadata over the limit gets
// RESOURCE_EXHAUSTED, and so does one with more fields than max_header_fields.
TEST_F(HostileClientTest, HeaderListsOverTheLimitsAreRefusedPerStream) {
  SetUpWith({"http2: { max_header_list_size: 8192, max_header_fields: 20 }"});
  {
    RawConn c(proxy_address());
    c.Send(HeadersFrames(1, GrpcRequestBlock("/switchyard.test.Echo/Unary", {{"x-big", std::string(9000, 'x')}}),
                         true));
    ASSERT_TRUE(c.WaitFor([&] { return c.Find(kRstStream) != nullptr; })) << c.Describe();
    EXPECT_EQ(FrameCode(*c.Find(kRstStream)), kEnhanceYourCalm);
  }
  {
    HeaderList many;
    for (int i = 0; i < 30; ++i) many.push_back({"x-f" + std::to_string(i), "v"});
    RawConn c(proxy_address());
    c.Send(HeadersFrames(1, GrpcRequestBlock("/switchyard.test.Echo/Unary", many), true));
    ASSERT_TRUE(c.WaitFor([&] { return c.Find(kRstStream) != nullptr; })) << c.Describe();
    EXPECT_EQ(FrameCode(*c.Find(kRstStream)), kEnhanceYourCalm);
    EXPECT_EQ(c.Find(kGoaway), nullptr) << "one offence costs the stream, not the connection";
  }
  EXPECT_GE(ListenerLimit("header_list_size"), 1);
  EXPECT_GE(ListenerLimit("header_fields"), 1);
  // A gRPC client sees RESOURCE_EXHAUSTED.
  auto stub = EchoStub();
  grpc::ClientContext ctx;
  ctx.set_deadline(In(10s));
  ctx.AddMetadata("x-big", std::string(9000, 'y'));
  EchoRequest req;
  EchoResponse resp;
  grpc::Status s = stub->Unary(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_EQ(backend_->Calls("Unary"), 0);
}

// Finding 1 ("MadeYouReset"): streams the client makes the proxy reset (a
// WINDOW_UPDATE that overflows the stream's window, a body shorter than its
// content-length) are charged against the connection's glitch budget; past
// it, GOAWAY(ENHANCE_YOUR_CALM) and no further streams reach the backend.
// Every reset and the GOAWAY count as protocol errors (finding 6).
TEST_F(HostileClientTest, ProvokedResetsExhaustTheGlitchBudget) {
  SetUpWith({"http2: { max_glitches: 50, glitch_window: 60s }"});
  Canary canary(proxy_address());
  double base = canary.Baseline();
  double proto0 = Metric("switchyard_listener_http2_protocol_errors_total");
  int64_t calls0 = backend_->Calls("ClientStream");
  canary.Start();
  RawConn c(proxy_address());
  const std::string block = GrpcRequestBlock("/switchyard.test.Echo/ClientStream");
  const std::string lying = GrpcRequestBlock("/switchyard.test.Echo/ClientStream", {{"content-length", "10"}});
  std::string burst;
  for (uint32_t i = 0; i < 400; ++i) {
    uint32_t id = 1 + 2 * i;
    if (i % 2 == 0) {
      burst += HeadersFrames(id, block, false) + WindowUpdateFrame(id, 0x7fffffff);
    } else {
      burst += HeadersFrames(id, lying, false) + EncodeFrame(kData, kEndStream, id, "12345");
    }
  }
  c.Send(burst);
  ASSERT_TRUE(c.WaitFor([&] { return c.Find(kGoaway) != nullptr; })) << c.Describe();
  EXPECT_EQ(FrameCode(*c.Find(kGoaway)), kEnhanceYourCalm) << c.Describe();
  // The streams were reset; once the budget is spent the GOAWAY goes out
  // first and the queued resets with it are dropped with the connection.
  size_t resets = c.Count(kRstStream, kFlowControlError) + c.Count(kRstStream, kProtocolError);
  // Content-length mismatches are charged when their reset is sent, so a few
  // more than the budget get through the one read that carried them all.
  EXPECT_LE(backend_->Calls("ClientStream") - calls0, 120) << "streams past the budget reached the backend";
  EXPECT_LE(resets, 120u) << "the budget did not stop the resets: " << c.Describe();
  EXPECT_TRUE(c.WaitClosed());
  ExpectCanaryUnharmed(canary, base);
  EXPECT_GE(Glitches("stream_error"), 50);
  EXPECT_GE(ListenerLimit("max_glitches"), 1);
  EXPECT_GE(Metric("switchyard_listener_http2_protocol_errors_total") - proto0, static_cast<double>(resets) + 1);
  EXPECT_LE(Glitches("stream_error"), 120);
}

// Rapid reset (CVE-2023-44487): open and cancel streams in a tight loop.
TEST_F(HostileClientTest, RapidResetIsCutOff) {
  SetUpWith({"http2: { max_glitches: 200 }"});
  Canary canary(proxy_address());
  double base = canary.Baseline();
  canary.Start();
  RawConn c(proxy_address());
  const std::string block = GrpcRequestBlock("/switchyard.test.Echo/Unary", {{"grpc-timeout", "5S"}});
  std::string burst;
  for (uint32_t i = 0; i < 1000; ++i) burst += HeadersFrames(1 + 2 * i, block, false) + RstFrame(1 + 2 * i, kCancel);
  c.Send(burst);
  ASSERT_TRUE(c.WaitFor([&] { return c.Find(kGoaway) != nullptr; })) << c.Describe();
  EXPECT_EQ(FrameCode(*c.Find(kGoaway)), kEnhanceYourCalm);
  EXPECT_TRUE(c.WaitClosed());
  ExpectCanaryUnharmed(canary, base);
  EXPECT_GE(Glitches("client_reset"), 200);
}

// Floods of PING, SETTINGS and empty DATA are answered GOAWAY(ENHANCE_YOUR_CALM).
TEST_F(HostileClientTest, ControlFrameFloodsAreCutOff) {
  SetUpWith({"http2: { max_glitches: 100 }"});
  Canary canary(proxy_address());
  double base = canary.Baseline();
  canary.Start();
  const std::vector<std::pair<std::string, std::string>> floods = {
      {"ping", EncodeFrame(kPing, 0, 0, std::string(8, 'p'))},
      {"settings", EncodeFrame(kSettings, 0, 0, "")},
      {"empty_data", EncodeFrame(kData, 0, 1, "")},
  };
  for (const auto& [cause, frame] : floods) {
    SCOPED_TRACE(cause);
    RawConn c(proxy_address());
    std::string bytes = cause == "empty_data" ? HeadersFrames(1, GrpcRequestBlock("/switchyard.test.Echo/ClientStream"), false) : "";
    for (int i = 0; i < 150; ++i) bytes += frame;
    c.Send(bytes);
    ASSERT_TRUE(c.WaitFor([&] { return c.Find(kGoaway) != nullptr; })) << c.Describe();
    EXPECT_EQ(FrameCode(*c.Find(kGoaway)), kEnhanceYourCalm);
    EXPECT_GE(Glitches(cause), 100);
  }
  ExpectCanaryUnharmed(canary, base);
}

// A CONTINUATION flood (an endless header block) is cut off by nghttp2's cap
// of 8 CONTINUATION frames per block, with GOAWAY, and counted.
TEST_F(HostileClientTest, ContinuationFloodIsCutOff) {
  SetUpWith({});
  double before = Metric("switchyard_listener_http2_protocol_errors_total");
  RawConn c(proxy_address());
  std::string bytes = EncodeFrame(kHeaders, 0, 1, GrpcRequestBlock("/switchyard.test.Echo/Unary"));
  for (int i = 0; i < 100; ++i) bytes += EncodeFrame(kContinuation, 0, 1, LiteralField("x-c" + std::to_string(i), "v"));
  c.Send(bytes);
  ASSERT_TRUE(c.WaitFor([&] { return c.Find(kGoaway) != nullptr; })) << c.Describe();
  EXPECT_NE(FrameCode(*c.Find(kGoaway)), 0u);
  EXPECT_TRUE(c.WaitClosed());
  EXPECT_TRUE(WaitMetric("switchyard_listener_http2_protocol_errors_total", {}, before + 1));
}

// Invalid pseudo-headers and connection-specific headers get the stream reset
// with PROTOCOL_ERROR (a stream error, charged as a glitch), never reach the
// backend, and leave the connection usable.
TEST_F(HostileClientTest, MalformedRequestHeadersResetTheStreamOnly) {
  SetUpWith({});
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"unknown pseudo-header", GrpcRequestBlock("/switchyard.test.Echo/Unary", {{":bogus", "1"}})},
      {"connection header", GrpcRequestBlock("/switchyard.test.Echo/Unary", {{"connection", "keep-alive"}})},
      {"upper-case name", GrpcRequestBlock("/switchyard.test.Echo/Unary", {{"X-Upper", "1"}})},
      {"te other than trailers", GrpcRequestBlock("/switchyard.test.Echo/Unary", {{"te", "gzip"}})},
      {"missing :path", LiteralField(":method", "POST") + LiteralField(":scheme", "http") +
                            LiteralField(":authority", "x") + LiteralField("content-type", "application/grpc")},
  };
  RawConn c(proxy_address());
  uint32_t id = 1;
  for (const auto& [what, block] : cases) {
    SCOPED_TRACE(what);
    c.Send(HeadersFrames(id, block, true));
    ASSERT_TRUE(c.WaitFor([&] {
      for (const auto& f : c.frames()) {
        if (f.type == kRstStream && f.stream_id == id) return true;
      }
      return false;
    })) << c.Describe();
    id += 2;
  }
  EXPECT_EQ(c.Count(kRstStream, kProtocolError), cases.size()) << c.Describe();
  EXPECT_EQ(c.Find(kGoaway), nullptr) << c.Describe();
  EXPECT_EQ(backend_->Calls("Unary"), 0);
  EXPECT_GE(Glitches("stream_error"), static_cast<double>(cases.size()));
}

// Finding 6: every GOAWAY and RST_STREAM the proxy sends for a protocol error
// moves switchyard_listener_http2_protocol_errors_total.
TEST_F(HostileClientTest, ProtocolErrorsAreCounted) {
  SetUpWith({});
  double before = Metric("switchyard_listener_http2_protocol_errors_total");
  for (int i = 0; i < 3; ++i) {  // connection errors: DATA on stream 0
    RawConn c(proxy_address());
    c.Send(EncodeFrame(kData, 0, 0, "garbage!"));
    ASSERT_TRUE(c.WaitFor([&] { return c.Find(kGoaway) != nullptr; })) << c.Describe();
  }
  for (int i = 0; i < 2; ++i) {  // stream errors: window overflow on a stream
    RawConn c(proxy_address());
    c.Send(HeadersFrames(1, GrpcRequestBlock("/switchyard.test.Echo/Unary"), false) +
           WindowUpdateFrame(1, 0x7fffffff) + WindowUpdateFrame(1, 0x7fffffff));
    ASSERT_TRUE(c.WaitFor([&] { return c.Find(kRstStream, kFlowControlError) != nullptr; })) << c.Describe();
  }
  EXPECT_TRUE(WaitMetric("switchyard_listener_http2_protocol_errors_total", {}, before + 5));
}

// Also measured: a new stream with an id lower than one already used is a
// connection error (RFC 9113 5.1.1), not silently ignored.
TEST_F(HostileClientTest, StreamIdsGoingBackwardsAreAConnectionError) {
  SetUpWith({});
  for (uint32_t first : {5u, 0x7fffffffu}) {
    SCOPED_TRACE(first);
    RawConn c(proxy_address());
    const std::string block = GrpcRequestBlock("/switchyard.test.Echo/Unary");
    c.Send(HeadersFrames(first, block, false));
    c.Send(HeadersFrames(first == 5 ? 3 : 1, block, false));
    ASSERT_TRUE(c.WaitFor([&] { return c.Find(kGoaway) != nullptr; })) << c.Describe();
    EXPECT_EQ(FrameCode(*c.Find(kGoaway)), kProtocolError);
    EXPECT_TRUE(c.WaitClosed());
  }
  EXPECT_GE(ListenerLimit("stream_id_regression"), 2);
}

// Finding 3: a header block that never finishes (slowloris) closes its
// connection after request_headers_timeout.
TEST_F(HostileClientTest, UnfinishedHeaderBlocksTimeOut) {
  SetUpWith({"request_headers_timeout: 300ms"});
  std::vector<std::unique_ptr<RawConn>> conns;
  const std::string block = GrpcRequestBlock("/switchyard.test.Echo/Unary");
  for (int i = 0; i < 20; ++i) {
    conns.push_back(std::make_unique<RawConn>(proxy_address()));
    // HEADERS without END_HEADERS: the block stays open.
    conns.back()->Send(EncodeFrame(kHeaders, 0, 1, block.substr(0, block.size() / 2)));
  }
  for (auto& c : conns) {
    EXPECT_TRUE(c->WaitClosed(20000ms)) << c->Describe();
    EXPECT_NE(c->Find(kGoaway), nullptr) << c->Describe();
  }
  EXPECT_GE(ListenerLimit("request_headers_timeout"), 20);
  auto stub = EchoStub();
  EXPECT_TRUE(ops::EchoUnary(stub.get()).ok());
}

// Finding 3: a stream that goes silent (no request body, no response) is
// ended with UNAVAILABLE after stream_idle_timeout, and its connection then
// closes by idle_timeout: silent clients cannot hold connections forever.
TEST_F(HostileClientTest, SilentStreamsEndAfterTheStreamIdleTimeout) {
  SetUpWith({"stream_idle_timeout: 500ms", "idle_timeout: 500ms"});
  auto stub = EchoStub();
  grpc::ClientContext ctx;
  ctx.set_deadline(In(30s));
  auto stream = stub->Bidi(&ctx);  // sends nothing; the backend answers nothing
  EchoResponse resp;
  EXPECT_FALSE(stream->Read(&resp));
  grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_NE(s.error_message().find("stream_idle_timeout"), std::string::npos) << s.error_message();

  std::vector<std::unique_ptr<RawConn>> conns;
  for (int i = 0; i < 20; ++i) {
    conns.push_back(std::make_unique<RawConn>(proxy_address()));
    conns.back()->Send(HeadersFrames(1, GrpcRequestBlock("/switchyard.test.Echo/ClientStream"), false));
  }
  for (auto& c : conns) EXPECT_TRUE(c->WaitClosed(20000ms)) << c->Describe();
  EXPECT_GE(ListenerLimit("stream_idle_timeout"), 21);
  EXPECT_TRUE(WaitUntil([&] { return backend_->Stats().active() == 0; }, 10000ms)) << "backend streams left open";
}

// A reader that never opens its window (SETTINGS_INITIAL_WINDOW_SIZE 0) of a
// large server stream: the proxy buffers no more than its windows allow, and
// stream_idle_timeout ends the stream (the status cannot get through a closed
// window, so the stream is reset) and cancels the backend call.
TEST_F(HostileClientTest, ZeroWindowReaderIsResetAfterTheStreamIdleTimeout) {
  SetUpWith({"stream_idle_timeout: 400ms"});
  long rss0 = ReadRssKb(proxy_pid());
  RawConn c(proxy_address());
  // EchoRequest{response_size: 100000, count: 50}: 5 MB of responses.
  const std::string request = "\x10\xa0\x8d\x06\x18\x32"s;
  c.Send(EncodeFrame(kSettings, 0, 0, "\x00\x04\x00\x00\x00\x00"s) +
         HeadersFrames(1, GrpcRequestBlock("/switchyard.test.Echo/ServerStream"), false) +
         EncodeFrame(kData, kEndStream, 1, GrpcFrame(request)));
  ASSERT_TRUE(c.WaitFor([&] { return c.Find(kRstStream) != nullptr; }, 20000ms)) << c.Describe();
  EXPECT_EQ(FrameCode(*c.Find(kRstStream)), kCancel) << c.Describe();
  EXPECT_EQ(c.Find(kData), nullptr) << "DATA sent into a zero window";
  EXPECT_GE(ListenerLimit("stream_idle_timeout"), 1);
  EXPECT_TRUE(WaitUntil([&] { return backend_->Stats().active() == 0; }, 10000ms)) << "backend call left running";
  ExpectRssNear(rss0);
}

// Finding 5: listeners[].max_connections is enforced at accept, over all workers.
TEST_F(HostileClientTest, MaxConnectionsIsEnforcedAtAccept) {
  SetUpWith({"max_connections: 4"});
  std::vector<std::unique_ptr<RawConn>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<RawConn>(proxy_address()));
    ASSERT_TRUE(held.back()->WaitFor([&] { return held.back()->Find(kSettings) != nullptr; })) << i;
  }
  RawConn extra(proxy_address());
  EXPECT_TRUE(extra.WaitClosed()) << "a fifth connection was kept open";
  EXPECT_EQ(extra.Find(kSettings), nullptr);
  EXPECT_GE(ListenerLimit("max_connections"), 1);
  held.pop_back();
  // A slot frees once the proxy has seen the close.
  auto stub = EchoStub();
  bool ok = WaitUntil([&] { return ops::EchoUnary(stub.get()).ok(); }, 10000ms, 50ms);
  EXPECT_TRUE(ok);
}

// Finding 5: out of file descriptors, the proxy pauses accepting (no busy
// loop, no log flood), keeps serving its connections, and accepts again
// once descriptors free up.
TEST_F(HostileClientTest, FdExhaustionPausesAcceptingWithoutSpinning) {
  SetUpWith({});
  Canary canary(proxy_address());
  double base = canary.Baseline(20);
  canary.Start();
  ASSERT_TRUE(WaitUntil([&] { return canary.calls() >= 2; }, 10000ms));
  // Leave the proxy few descriptors beyond what it holds now.
  size_t open_fds = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(proxy_pid()) + "/fd")) {
    (void)e;
    ++open_fds;
  }
  // Only the soft limit: raising it back needs no privilege.
  const std::string pid = std::to_string(proxy_pid());
  auto soft = RunCommand({"prlimit", "--pid", pid, "--nofile", "--noheadings", "--output=SOFT"}, dir_.path());
  ASSERT_EQ(soft.exit_code, 0) << soft.err;
  std::string original = soft.out.substr(0, soft.out.find_first_of(" \n"));
  const std::string limit = std::to_string(open_fds + 8);
  auto r = RunCommand({"prlimit", "--pid", pid, "--nofile=" + limit + ":"}, dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::unique_ptr<RawConn>> conns;
  for (int i = 0; i < 40; ++i) conns.push_back(std::make_unique<RawConn>(proxy_address(), false));
  // The admin listener is out of descriptors too: a scrape attempt must not make it spin.
  ops::HttpCall(admin_address_, "GET", "/metrics", 300ms);
  double cpu0 = CpuSeconds(proxy_pid());
  auto t0 = Clock::now();
  std::this_thread::sleep_for(2s);  // a measurement window, not a wait for an event
  double busy = (CpuSeconds(proxy_pid()) - cpu0) / std::chrono::duration<double>(Clock::now() - t0).count();
  // A listener retrying accept() in a loop keeps a core busy per worker (2
  // here); the canary's own calls cost well under one.
  EXPECT_LT(busy, 0.9) << "share of a core used while out of descriptors";
  std::string err = proxy()->err();
  size_t lines = 0;
  for (size_t at = 0; (at = err.find("accept", at)) != std::string::npos; ++at) ++lines;
  EXPECT_LT(lines, 20u) << "accept errors flood the log";
  conns.clear();
  auto raise = RunCommand({"prlimit", "--pid", pid, "--nofile=" + original + ":"}, dir_.path());
  ASSERT_EQ(raise.exit_code, 0) << raise.err;
  ExpectCanaryUnharmed(canary, base);
  double pauses = ListenerLimit("accept_paused");
  EXPECT_GE(pauses, 1);
  EXPECT_LT(pauses, 60) << "accept() retried without pausing";
  auto stub = EchoStub();
  EXPECT_TRUE(WaitUntil([&] { return ops::EchoUnary(stub.get()).ok(); }, 10000ms, 50ms));
}

}  // namespace
}  // namespace sytest::hostile
