// DATA forwarding through the real proxy in memory: payloads are read straight
// into the connection's output (NGHTTP2_DATA_FLAG_NO_COPY, http2/frame_sink.h).
// Bodies carry position-dependent bytes, so a lost, doubled or reordered
// frame shows up as a mismatch, not just a length difference.
#include <event2/event.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "common/log.h"
#include "mem_proxy.h"

namespace sytest::mem {
namespace {

constexpr const char* kConfig = R"(
listeners:
  - name: public
    address: 127.0.0.1:8080
    http2: { initial_stream_window: 1048576, initial_connection_window: 16777216 }
routes:
  - match: { service: switchyard.test.Echo }
    cluster: echo
    retry: { retry_on: [unavailable], max_attempts: 3, backoff: { base: 1ms, max: 1ms } }
clusters:
  - name: echo
    endpoints: [127.0.0.1:50051]
    retry_buffer: 4MiB
)";

// n bytes that differ with their position and with `seed`.
std::string Pattern(size_t n, unsigned seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + i / 251 + seed * 7) & 0xff);
  return s;
}

class BodyForwardingTest : public ::testing::Test {
 protected:
  void SetUp() override { switchyard::log::setLevel("off"); }

  // Pumps, and sleeps in the loop for the next timer (a retry backoff) while
  // `done` is false; bounded in rounds.
  static bool PumpUntil(InMemoryProxy& proxy, H2Peer& client, const std::function<bool()>& done) {
    for (int i = 0; i < 200; ++i) {
      if (!proxy.Pump({&client})) return false;
      if (done()) return true;
      event_base_loop(proxy.base(), EVLOOP_ONCE);
    }
    return done();
  }
};

// 1 MiB each way: more than the staging block (288 KiB), many 16 KiB frames.
TEST_F(BodyForwardingTest, LargeBodyCrossesManyFramesIntactBothWays) {
  InMemoryProxy proxy(kConfig);
  H2Peer::Options opts;
  opts.initial_window = 16 * 1024 * 1024;
  H2Peer client(H2Peer::Role::Client, proxy.Connect(), opts);
  std::string body = GrpcFrame(Pattern(1024 * 1024, 1));
  int32_t id = client.Request(GrpcRequest("/switchyard.test.Echo/Unary"), body);
  ASSERT_TRUE(proxy.Pump({&client}));

  ASSERT_EQ(proxy.echo_backends().size(), 1u);
  const H2Peer::Stream* up = proxy.echo_backends().front()->peer().stream(1);
  ASSERT_NE(up, nullptr);
  EXPECT_TRUE(up->data == body) << "backend got " << up->data.size() << " of " << body.size();
  EXPECT_TRUE(up->remote_ended);
  const H2Peer::Stream* down = client.stream(id);
  ASSERT_NE(down, nullptr);
  EXPECT_TRUE(down->data == body) << "client got " << down->data.size() << " of " << body.size();
  EXPECT_EQ(Find(down->trailers, "grpc-status"), "0");
  EXPECT_TRUE(down->remote_ended);
  EXPECT_EQ(down->close_code, 0u);
}

// Many streams in flight on both connections at once: their DATA frames
// interleave on the wire, and every stream must get exactly its own bytes.
TEST_F(BodyForwardingTest, InterleavedStreamsEachGetTheirOwnBytes) {
  InMemoryProxy proxy(kConfig);
  H2Peer::Options opts;
  opts.initial_window = 16 * 1024 * 1024;
  H2Peer client(H2Peer::Role::Client, proxy.Connect(), opts);
  std::vector<std::pair<int32_t, std::string>> calls;
  for (unsigned i = 0; i < 8; ++i) {
    std::string body = GrpcFrame(Pattern(100 * 1024 + i * 977, i + 2));
    calls.emplace_back(client.Request(GrpcRequest("/switchyard.test.Echo/Unary"), body), body);
  }
  ASSERT_TRUE(proxy.Pump({&client}));
  ASSERT_EQ(proxy.echo_backends().size(), 1u);
  EXPECT_EQ(proxy.echo_backends().front()->requests(), calls.size());
  for (const auto& [id, body] : calls) {
    const H2Peer::Stream* down = client.stream(id);
    ASSERT_NE(down, nullptr);
    EXPECT_TRUE(down->data == body) << "stream " << id << " got " << down->data.size();
    EXPECT_EQ(Find(down->trailers, "grpc-status"), "0");
    EXPECT_TRUE(down->remote_ended);
  }
}

// The request ends on a DATA frame (END_STREAM, no trailers) — here an empty
// one sent after the body; the response ends with trailers after its DATA
// (the provider's EOF with NO_END_STREAM).
TEST_F(BodyForwardingTest, EndStreamWithAndWithoutTrailers) {
  InMemoryProxy proxy(kConfig);
  H2Peer client(H2Peer::Role::Client, proxy.Connect());
  std::string body = GrpcFrame(Pattern(40000, 3));
  int32_t id = client.Request(GrpcRequest("/switchyard.test.Echo/Unary"), body, false);
  ASSERT_TRUE(proxy.Pump({&client}));
  ASSERT_EQ(proxy.echo_backends().size(), 1u);
  auto& backend = proxy.echo_backends().front()->peer();
  ASSERT_NE(backend.stream(1), nullptr);
  EXPECT_FALSE(backend.stream(1)->remote_ended);

  client.SendData(id, "", true);
  ASSERT_TRUE(proxy.Pump({&client}));
  const H2Peer::Stream* up = backend.stream(1);
  EXPECT_TRUE(up->data == body);
  EXPECT_TRUE(up->remote_ended);
  EXPECT_TRUE(up->trailers.empty());

  const H2Peer::Stream* down = client.stream(id);
  ASSERT_NE(down, nullptr);
  EXPECT_TRUE(down->data == body);
  EXPECT_EQ(Find(down->trailers, "grpc-status"), "0");
  EXPECT_TRUE(down->remote_ended);
  EXPECT_EQ(down->close_code, 0u);
}

// The first attempt's body went out as NO_COPY frames; the retry replays
// the copy RetryState kept, byte for byte.
TEST_F(BodyForwardingTest, RetryReplaysTheRequestBodyAfterItWasSent) {
  InMemoryProxy proxy(kConfig);
  std::unique_ptr<H2Peer> backend;
  std::vector<std::string> received;
  proxy.on_upstream = [&](const std::string&, bufferevent* end) {
    H2Peer::Options o;
    o.initial_window = 16 * 1024 * 1024;
    backend = std::make_unique<H2Peer>(H2Peer::Role::Server, end, o);
    backend->on_remote_end = [&](int32_t sid, const H2Peer::Stream& st) {
      received.push_back(st.data);
      Fields headers = {{":status", "200"}, {"content-type", "application/grpc"}};
      if (received.size() == 1) {
        headers.emplace_back("grpc-status", "14");
        backend->RespondTrailersOnly(sid, headers);
      } else {
        backend->Respond(sid, headers, st.data, Fields{{"grpc-status", "0"}});
      }
    };
    return backend.get();
  };
  H2Peer::Options opts;
  opts.initial_window = 16 * 1024 * 1024;
  H2Peer client(H2Peer::Role::Client, proxy.Connect(), opts);
  std::string body = GrpcFrame(Pattern(300 * 1024, 4));
  int32_t id = client.Request(GrpcRequest("/switchyard.test.Echo/Unary"), body);
  ASSERT_TRUE(PumpUntil(proxy, client, [&] {
    const H2Peer::Stream* s = client.stream(id);
    return s != nullptr && s->remote_ended;
  }));
  ASSERT_EQ(received.size(), 2u);
  EXPECT_TRUE(received[0] == body) << "first attempt got " << received[0].size();
  EXPECT_TRUE(received[1] == body) << "retry got " << received[1].size();
  const H2Peer::Stream* down = client.stream(id);
  EXPECT_TRUE(down->data == body);
  EXPECT_EQ(Find(down->trailers, "grpc-status"), "0");
}

// DATA is queued toward a client that stopped granting window, and the
// client resets the stream: nothing more is sent on it, and the next RPC on
// the same connections gets exactly its bytes.
TEST_F(BodyForwardingTest, StreamResetWhileItsDataIsQueued) {
  InMemoryProxy proxy(kConfig);
  H2Peer::Options opts;
  opts.manual_window = true;  // 65535 per stream, reopened only by Consume
  H2Peer client(H2Peer::Role::Client, proxy.Connect(), opts);
  std::string first = GrpcFrame(Pattern(500 * 1024, 5));
  int32_t id = client.Request(GrpcRequest("/switchyard.test.Echo/Unary"), first);
  ASSERT_TRUE(proxy.Pump({&client}));
  const H2Peer::Stream* down = client.stream(id);
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(down->data.size(), 65535u);  // the rest waits in the proxy
  EXPECT_TRUE(down->data == first.substr(0, 65535));
  EXPECT_FALSE(down->remote_ended);

  client.Reset(id, NGHTTP2_CANCEL);
  ASSERT_TRUE(proxy.Pump({&client}));
  down = client.stream(id);
  EXPECT_EQ(down->data.size(), 65535u);
  EXPECT_FALSE(client.session_failed());
  // The reset stream's bytes still count against the connection's window.
  client.Consume(id, down->data.size());

  std::string second = GrpcFrame(Pattern(30000, 6));
  int32_t id2 = client.Request(GrpcRequest("/switchyard.test.Echo/Unary"), second);
  ASSERT_TRUE(proxy.Pump({&client}));
  const H2Peer::Stream* next = client.stream(id2);
  ASSERT_NE(next, nullptr);
  EXPECT_TRUE(next->data == second);
  EXPECT_EQ(Find(next->trailers, "grpc-status"), "0");
  EXPECT_EQ(proxy.open_connections(), 1u);
}

}  // namespace
}  // namespace sytest::mem
