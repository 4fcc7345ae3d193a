// The downstream adapter driven in memory: a raw nghttp2 client session talks
// to a real DownstreamConnection, whose RPCs go through real
// UpstreamConnections to in-memory backends (tests/support/mem_proxy.h).
#include <gtest/gtest.h>

#include <string>

#include "common/log.h"
#include "mem_proxy.h"

namespace sytest::mem {
namespace {

constexpr const char* kConfig = R"(
listeners:
  - name: public
    address: 127.0.0.1:8080
    http2: { initial_stream_window: 65535 }
routes:
  - match: { service: switchyard.test.Echo }
    cluster: echo
clusters:
  - name: echo
    endpoints: [127.0.0.1:50051]
)";

class DownstreamMemoryTest : public ::testing::Test {
 protected:
  void SetUp() override { switchyard::log::setLevel("off"); }
};

TEST_F(DownstreamMemoryTest, UnaryRpcForwardsHeadersBodyAndTrailers) {
  InMemoryProxy proxy(kConfig);
  H2Peer client(H2Peer::Role::Client, proxy.Connect());
  std::string body = GrpcFrame("hello");
  int32_t id = client.Request(GrpcRequest("/switchyard.test.Echo/Unary", {{"x-custom", "v1"}}), body);
  ASSERT_GT(id, 0);
  ASSERT_TRUE(proxy.Pump({&client}));

  ASSERT_EQ(proxy.echo_backends().size(), 1u);
  auto& backend = proxy.echo_backends().front()->peer();
  const H2Peer::Stream* up = backend.stream(1);
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(Find(up->headers, ":path"), "/switchyard.test.Echo/Unary");
  EXPECT_EQ(Find(up->headers, "x-custom"), "v1");
  EXPECT_EQ(Find(up->headers, "te"), "trailers");
  EXPECT_EQ(Find(up->headers, "content-type"), "application/grpc");
  EXPECT_EQ(up->data, body);

  const H2Peer::Stream* down = client.stream(id);
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(Find(down->headers, ":status"), "200");
  EXPECT_EQ(down->data, body);
  EXPECT_EQ(Find(down->trailers, "grpc-status"), "0");
  EXPECT_TRUE(down->closed);
  EXPECT_EQ(down->close_code, 0u);
}

TEST_F(DownstreamMemoryTest, UnroutedMethodIsTrailersOnlyUnimplementedWithoutABackend) {
  InMemoryProxy proxy(kConfig);
  H2Peer client(H2Peer::Role::Client, proxy.Connect());
  int32_t id = client.Request(GrpcRequest("/other.Service/Call"), GrpcFrame("x"));
  ASSERT_TRUE(proxy.Pump({&client}));

  const H2Peer::Stream* down = client.stream(id);
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(Find(down->headers, ":status"), "200");
  EXPECT_EQ(Find(down->headers, "grpc-status"), "12");
  EXPECT_TRUE(down->trailers.empty());
  EXPECT_TRUE(down->remote_ended);
  EXPECT_TRUE(proxy.echo_backends().empty());
}

TEST_F(DownstreamMemoryTest, BackendTrailersOnlyStatusReachesTheClient) {
  InMemoryProxy proxy(kConfig);
  std::unique_ptr<EchoBackend> backend;
  proxy.on_upstream = [&](const std::string&, bufferevent* end) {
    backend = std::make_unique<EchoBackend>(end, /*status=*/7);
    return &backend->peer();
  };
  H2Peer client(H2Peer::Role::Client, proxy.Connect());
  int32_t id = client.Request(GrpcRequest("/switchyard.test.Echo/Unary"), GrpcFrame("x"));
  ASSERT_TRUE(proxy.Pump({&client}));

  const H2Peer::Stream* down = client.stream(id);
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(Find(down->headers, "grpc-status"), "7");
  EXPECT_TRUE(down->remote_ended);
  ASSERT_NE(backend, nullptr);
  EXPECT_EQ(backend->requests(), 1u);
}

// A request body four times the client's stream window only gets through if
// the proxy reopens that window as the backend takes the bytes; the response,
// four times the window the client grants, only as the client consumes it.
TEST_F(DownstreamMemoryTest, FlowControlWindowsReopenBothWays) {
  InMemoryProxy proxy(kConfig);
  H2Peer::Options opts;
  opts.manual_window = true;
  H2Peer client(H2Peer::Role::Client, proxy.Connect(), opts);
  std::string body = GrpcFrame(std::string(4 * 65535, 'a'));
  int32_t id = client.Request(GrpcRequest("/switchyard.test.Echo/Unary"), body);
  ASSERT_TRUE(proxy.Pump({&client}));

  ASSERT_EQ(proxy.echo_backends().size(), 1u);
  const H2Peer::Stream* up = proxy.echo_backends().front()->peer().stream(1);
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->data.size(), body.size());  // the proxy reopened the client's window

  const H2Peer::Stream* down = client.stream(id);
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(down->data.size(), 65535u);  // held at the window the client granted
  EXPECT_FALSE(down->remote_ended);

  size_t consumed = 0;
  for (int i = 0; i < 100 && !down->remote_ended; ++i) {
    size_t n = down->data.size() - consumed;
    client.Consume(id, n);
    consumed += n;
    ASSERT_TRUE(proxy.Pump({&client}));
    down = client.stream(id);
  }
  EXPECT_EQ(down->data, body);
  EXPECT_EQ(Find(down->trailers, "grpc-status"), "0");
}

TEST_F(DownstreamMemoryTest, ClientResetCancelsTheBackendStream) {
  InMemoryProxy proxy(kConfig);
  H2Peer client(H2Peer::Role::Client, proxy.Connect());
  // No END_STREAM: the backend waits for more.
  int32_t id = client.Request(GrpcRequest("/switchyard.test.Echo/Stream"), GrpcFrame("a"), false);
  ASSERT_TRUE(proxy.Pump({&client}));
  ASSERT_EQ(proxy.echo_backends().size(), 1u);
  auto& backend = proxy.echo_backends().front()->peer();
  ASSERT_NE(backend.stream(1), nullptr);
  EXPECT_FALSE(backend.stream(1)->closed);

  client.Reset(id, NGHTTP2_CANCEL);
  ASSERT_TRUE(proxy.Pump({&client}));
  const H2Peer::Stream* up = backend.stream(1);
  EXPECT_TRUE(up->reset_received);
  EXPECT_TRUE(up->closed);
  EXPECT_EQ(up->close_code, static_cast<uint32_t>(NGHTTP2_CANCEL));
}

TEST_F(DownstreamMemoryTest, GarbageAfterThePrefaceGetsGoawayAndTheConnectionCloses) {
  InMemoryProxy proxy(kConfig);
  H2Peer client(H2Peer::Role::Client, proxy.Connect());
  ASSERT_TRUE(proxy.Pump({&client}));
  // A DATA frame on stream 0 is a connection error (RFC 9113 6.1).
  client.WriteRaw(std::string("\x00\x00\x01\x00\x00\x00\x00\x00\x00x", 10));
  ASSERT_TRUE(proxy.Pump({&client}));
  EXPECT_TRUE(client.goaway_received());
  EXPECT_EQ(client.goaway_code(), static_cast<uint32_t>(NGHTTP2_PROTOCOL_ERROR));
  EXPECT_EQ(proxy.open_connections(), 0u);
  EXPECT_EQ(proxy.closed_connections(), 1u);
}

}  // namespace
}  // namespace sytest::mem
