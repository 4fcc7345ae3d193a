// Http1Connection on the real data path over in-memory pipes: what the
// backend receives for an HTTP/1.1 gRPC-Web request (pseudo-fields from the
// request line and Host, no connection fields), pipelined requests answered
// in order, and a chunked body much larger than the listener's stream window
// (reading pauses and resumes as the backend takes the bytes).
#include <event2/buffer.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>

#include "common/log.h"
#include "mem_proxy.h"

namespace sytest::mem {
namespace {

std::string Config(const std::string& listener_extra = "") {
  return R"(
listeners:
  - name: public
    address: 127.0.0.1:8080
    grpc_web: {}
)" + listener_extra + R"(
routes:
  - match: { service: switchyard.test.Echo }
    cluster: echo
clusters:
  - name: echo
    endpoints: [127.0.0.1:50051]
)";
}

std::string WebRequest(const std::string& body, const std::string& extra = "") {
  return "POST /switchyard.test.Echo/Unary HTTP/1.1\r\nHost: echo.test\r\n"
         "Content-Type: application/grpc-web+proto\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n" + extra + "\r\n" + body;
}

std::string Drain(bufferevent* peer) {
  evbuffer* in = bufferevent_get_input(peer);
  std::string out(evbuffer_get_length(in), '\0');
  evbuffer_remove(in, out.data(), out.size());
  return out;
}

size_t Count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = hay.find(needle); pos != std::string::npos; pos = hay.find(needle, pos + 1)) ++n;
  return n;
}

// The client's end of the pipe: owned by the test.
using PeerEnd = std::unique_ptr<bufferevent, decltype(&bufferevent_free)>;

class Http1MemoryTest : public ::testing::Test {
 protected:
  void SetUp() override { switchyard::log::setLevel("off"); }
};

TEST_F(Http1MemoryTest, BackendSeesGrpcWithPseudoFieldsFromTheRequestLine) {
  InMemoryProxy proxy(Config());
  PeerEnd peer(proxy.ConnectHttp1(), &bufferevent_free);  // freed before the proxy (declared after it)
  bufferevent* client = peer.get();
  std::string body = GrpcFrame("hello");
  std::string req = WebRequest(body, "Connection: keep-alive\r\nX-Tenant: blue\r\n");
  bufferevent_write(client, req.data(), req.size());
  ASSERT_TRUE(proxy.Pump({}));

  ASSERT_EQ(proxy.echo_backends().size(), 1u);
  const H2Peer::Stream* up = proxy.echo_backends().front()->peer().stream(1);
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(Find(up->headers, ":method"), "POST");
  EXPECT_EQ(Find(up->headers, ":path"), "/switchyard.test.Echo/Unary");
  EXPECT_EQ(Find(up->headers, ":authority"), "echo.test");
  EXPECT_EQ(Find(up->headers, ":scheme"), "http");
  EXPECT_EQ(Find(up->headers, "content-type"), "application/grpc+proto");
  EXPECT_EQ(Find(up->headers, "x-tenant"), "blue");
  EXPECT_EQ(Find(up->headers, "host"), std::nullopt);
  EXPECT_EQ(Find(up->headers, "connection"), std::nullopt);
  EXPECT_EQ(Find(up->headers, "content-length"), std::nullopt);
  EXPECT_EQ(up->data, body);

  std::string answer = Drain(client);
  EXPECT_EQ(answer.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << answer;
  EXPECT_NE(answer.find("transfer-encoding: chunked\r\n"), std::string::npos) << answer;
  EXPECT_NE(answer.find("hello"), std::string::npos) << answer;
  EXPECT_NE(answer.find("grpc-status:0"), std::string::npos) << answer;
  EXPECT_EQ(answer.substr(answer.size() - 5), "0\r\n\r\n") << answer;
  EXPECT_EQ(proxy.open_connections(), 1u);  // kept alive
}

// Connection-specific fields never reach the backend (RFC 9110 7.6.1): the
// fields Connection names, and Keep-Alive, Proxy-Connection, TE,
// Transfer-Encoding and Upgrade; end-to-end fields do.
TEST_F(Http1MemoryTest, HopByHopFieldsAreNotForwarded) {
  InMemoryProxy proxy(Config());
  PeerEnd peer(proxy.ConnectHttp1(), &bufferevent_free);  // freed before the proxy (declared after it)
  bufferevent* client = peer.get();
  std::string body = GrpcFrame("hop");
  std::string req = WebRequest(body,
                               "Connection: keep-alive, X-Hop-Secret , x-other-hop\r\n"
                               "X-Hop-Secret: s3cret\r\nX-Other-Hop: 1\r\nKeep-Alive: timeout=5\r\n"
                               "Proxy-Connection: keep-alive\r\nTE: gzip\r\nUpgrade: websocket\r\n"
                               "X-Tenant: blue\r\n");
  bufferevent_write(client, req.data(), req.size());
  ASSERT_TRUE(proxy.Pump({}));
  ASSERT_EQ(proxy.echo_backends().size(), 1u);
  const H2Peer::Stream* up = proxy.echo_backends().front()->peer().stream(1);
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(Find(up->headers, "x-hop-secret"), std::nullopt);
  EXPECT_EQ(Find(up->headers, "x-other-hop"), std::nullopt);
  EXPECT_EQ(Find(up->headers, "keep-alive"), std::nullopt);
  EXPECT_EQ(Find(up->headers, "proxy-connection"), std::nullopt);
  EXPECT_EQ(Find(up->headers, "upgrade"), std::nullopt);
  EXPECT_EQ(Find(up->headers, "connection"), std::nullopt);
  EXPECT_NE(Find(up->headers, "te"), std::optional<std::string>("gzip"));
  EXPECT_EQ(Find(up->headers, "x-tenant"), "blue");
  EXPECT_EQ(up->data, body);
}

TEST_F(Http1MemoryTest, PipelinedRequestsAreAnsweredInOrder) {
  InMemoryProxy proxy(Config());
  PeerEnd peer(proxy.ConnectHttp1(), &bufferevent_free);  // freed before the proxy (declared after it)
  bufferevent* client = peer.get();
  std::string all = WebRequest(GrpcFrame("first")) + WebRequest(GrpcFrame("second")) +
                    WebRequest(GrpcFrame("third"), "Connection: close\r\n");
  bufferevent_write(client, all.data(), all.size());
  ASSERT_TRUE(proxy.Pump({}));
  std::string answer = Drain(client);
  EXPECT_EQ(Count(answer, "HTTP/1.1 200 OK"), 3u) << answer;
  size_t first = answer.find("first"), second = answer.find("second"), third = answer.find("third");
  ASSERT_NE(third, std::string::npos) << answer;
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  EXPECT_EQ(proxy.echo_backends().front()->requests(), 3u);
  EXPECT_EQ(proxy.closed_connections(), 1u);  // "Connection: close" on the last
}

TEST_F(Http1MemoryTest, ChunkedBodyFarLargerThanTheStreamWindow) {
  InMemoryProxy proxy(Config("    http2: { initial_stream_window: 1024 }\n"));
  PeerEnd peer(proxy.ConnectHttp1(), &bufferevent_free);  // freed before the proxy (declared after it)
  bufferevent* client = peer.get();
  // 100 KiB: far beyond the 1 KiB window, and below what the in-memory pipe
  // and the echo backend's own windows hold at once (larger bodies are
  // covered over real sockets by Http1Test.BodyLargerThanTheStreamWindow).
  std::string payload(100 * 1024, 'p');
  for (size_t i = 0; i < payload.size(); i += 7) payload[i] = static_cast<char>('a' + i % 26);
  std::string framed = GrpcFrame(payload);
  std::string req =
      "POST /switchyard.test.Echo/Unary HTTP/1.1\r\nHost: echo.test\r\n"
      "Content-Type: application/grpc-web\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (size_t pos = 0; pos < framed.size(); pos += 3000) {
    std::string piece = framed.substr(pos, 3000);
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
    req += size + piece + "\r\n";
  }
  req += "0\r\n\r\n";
  bufferevent_write(client, req.data(), req.size());
  ASSERT_TRUE(proxy.Pump({}));
  ASSERT_EQ(proxy.echo_backends().size(), 1u);
  const H2Peer::Stream* up = proxy.echo_backends().front()->peer().stream(1);
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->data.size(), framed.size());
  EXPECT_TRUE(up->data == framed);
  std::string answer = Drain(client);
  EXPECT_EQ(answer.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << answer.substr(0, 200);
  EXPECT_NE(answer.find("grpc-status:0"), std::string::npos);
}

TEST_F(Http1MemoryTest, PlainGrpcGets415AndTheConnectionCloses) {
  InMemoryProxy proxy(Config());
  PeerEnd peer(proxy.ConnectHttp1(), &bufferevent_free);  // freed before the proxy (declared after it)
  bufferevent* client = peer.get();
  std::string body = GrpcFrame("x");
  std::string req = "POST /switchyard.test.Echo/Unary HTTP/1.1\r\nHost: h\r\nContent-Type: application/grpc\r\n"
                    "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  bufferevent_write(client, req.data(), req.size());
  ASSERT_TRUE(proxy.Pump({}));
  std::string answer = Drain(client);
  EXPECT_EQ(answer.rfind("HTTP/1.1 415 Unsupported Media Type\r\n", 0), 0u) << answer;
  EXPECT_NE(answer.find("connection: close"), std::string::npos) << answer;
  EXPECT_TRUE(proxy.echo_backends().empty());
  EXPECT_EQ(proxy.closed_connections(), 1u);
}

}  // namespace
}  // namespace sytest::mem
