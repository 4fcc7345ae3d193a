// gRPC-Web on the real data path over in-memory pipes: the backend sees
// plain gRPC, the client gets the gRPC-Web body with the trailer frame, also
// through a client window smaller than one base64 group, and a backend's
// Trailers-Only answer becomes headers plus a trailer frame.
#include <gtest/gtest.h>

#include <memory>

#include "common/log.h"
#include "grpc/web_framing.h"
#include "mem_proxy.h"

namespace sytest::mem {
namespace {

constexpr const char* kConfig = R"(
listeners:
  - name: public
    address: 127.0.0.1:8080
    grpc_web: { cors: { allow_origins: ["https://app.example.com"] } }
routes:
  - match: { service: switchyard.test.Echo }
    cluster: echo
clusters:
  - name: echo
    endpoints: [127.0.0.1:50051]
)";

// `body` is what the client sends (its content-length is checked by nghttp2).
Fields WebRequest(const std::string& content_type, const std::string& body) {
  return {{":method", "POST"},
          {":scheme", "https"},
          {":path", "/switchyard.test.Echo/Unary"},
          {":authority", "switchyard.test"},
          {"content-type", content_type},
          {"content-length", std::to_string(body.size())},
          {"origin", "https://app.example.com"},
          {"x-grpc-web", "1"}};
}

std::string Decode(const std::string& text) {
  switchyard::grpc::Base64Decoder d;
  std::string out;
  EXPECT_TRUE(d.feed(reinterpret_cast<const uint8_t*>(text.data()), text.size(), out));
  EXPECT_TRUE(d.complete());
  return out;
}

std::string Text(const std::string& bytes) {
  std::string out;
  switchyard::grpc::base64Encode(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), out);
  return out;
}

class GrpcWebMemoryTest : public ::testing::Test {
 protected:
  void SetUp() override { switchyard::log::setLevel("off"); }
};

TEST_F(GrpcWebMemoryTest, BinaryUnaryBecomesGrpcUpstreamAndTrailerFrameDownstream) {
  InMemoryProxy proxy(kConfig);
  H2Peer client(H2Peer::Role::Client, proxy.Connect());
  std::string body = GrpcFrame("hello");
  int32_t id = client.Request(WebRequest("application/grpc-web+proto", body), body);
  ASSERT_TRUE(proxy.Pump({&client}));

  ASSERT_EQ(proxy.echo_backends().size(), 1u);
  const H2Peer::Stream* up = proxy.echo_backends().front()->peer().stream(1);
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(Find(up->headers, "content-type"), "application/grpc+proto");
  EXPECT_EQ(Find(up->headers, "te"), "trailers");
  EXPECT_EQ(Find(up->headers, "content-length"), std::nullopt);
  EXPECT_EQ(Find(up->headers, "origin"), std::nullopt);
  EXPECT_EQ(up->data, body);

  const H2Peer::Stream* down = client.stream(id);
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(Find(down->headers, ":status"), "200");
  EXPECT_EQ(Find(down->headers, "content-type"), "application/grpc-web+proto");
  EXPECT_EQ(Find(down->headers, "access-control-allow-origin"), "https://app.example.com");
  EXPECT_TRUE(down->trailers.empty()) << "no HTTP/2 trailers: the status is in the body";
  EXPECT_EQ(down->data, body + switchyard::grpc::trailerFrame({{"grpc-status", "0"}}));
  EXPECT_TRUE(down->remote_ended);
}

// A client window of 3 bytes is smaller than one base64 group: the encoded
// response still goes out whole, a few characters per DATA frame.
TEST_F(GrpcWebMemoryTest, TextThroughAWindowSmallerThanABase64Group) {
  InMemoryProxy proxy(kConfig);
  H2Peer::Options options;
  options.initial_window = 3;
  H2Peer client(H2Peer::Role::Client, proxy.Connect(), options);
  std::string message(1000, 'x');
  for (size_t i = 0; i < message.size(); ++i) message[i] = static_cast<char>(i * 31);
  std::string framed = GrpcFrame(message);
  std::string text = Text(framed);
  int32_t id = client.Request(WebRequest("application/grpc-web-text", text), text);
  ASSERT_TRUE(proxy.Pump({&client}));

  const H2Peer::Stream* up = proxy.echo_backends().front()->peer().stream(1);
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(Find(up->headers, "content-type"), "application/grpc");
  EXPECT_EQ(up->data, framed);

  const H2Peer::Stream* down = client.stream(id);
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(Find(down->headers, "content-type"), "application/grpc-web-text");
  ASSERT_TRUE(down->remote_ended) << "the response stalled after " << down->data.size() << " bytes";
  EXPECT_EQ(Decode(down->data), framed + switchyard::grpc::trailerFrame({{"grpc-status", "0"}}));
}

// gRPC-Web cannot carry a status in headers alone: a backend's Trailers-Only
// answer reaches the client as headers plus a trailer frame.
TEST_F(GrpcWebMemoryTest, BackendTrailersOnlyBecomesHeadersAndATrailerFrame) {
  InMemoryProxy proxy(kConfig);
  std::unique_ptr<EchoBackend> backend;  // destroyed before the proxy
  proxy.on_upstream = [&](const std::string&, bufferevent* end) {
    backend = std::make_unique<EchoBackend>(end, 5);
    return &backend->peer();
  };
  H2Peer client(H2Peer::Role::Client, proxy.Connect());
  int32_t id = client.Request(WebRequest("application/grpc-web", GrpcFrame("x")), GrpcFrame("x"));
  ASSERT_TRUE(proxy.Pump({&client}));
  const H2Peer::Stream* down = client.stream(id);
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(Find(down->headers, ":status"), "200");
  EXPECT_EQ(Find(down->headers, "grpc-status"), std::nullopt);
  EXPECT_EQ(Find(down->headers, "content-type"), "application/grpc-web");
  ASSERT_GE(down->data.size(), 5u);
  EXPECT_EQ(static_cast<uint8_t>(down->data[0]), 0x80);
  auto fields = switchyard::grpc::parseTrailerBlock(down->data.substr(5));
  ASSERT_TRUE(fields);
  bool found = false;
  for (const auto& [name, value] : *fields) {
    if (name == "grpc-status") found = value == "5";
    EXPECT_NE(name, ":status");
    EXPECT_NE(name, "content-type");
  }
  EXPECT_TRUE(found) << down->data;
  EXPECT_TRUE(down->remote_ended);
}

TEST_F(GrpcWebMemoryTest, ProxyMadeStatusIsATrailerFrame) {
  InMemoryProxy proxy(kConfig);
  H2Peer client(H2Peer::Role::Client, proxy.Connect());
  Fields req = WebRequest("application/grpc-web", GrpcFrame("x"));
  req[2].second = "/other.Service/Call";  // no route: UNIMPLEMENTED
  int32_t id = client.Request(req, GrpcFrame("x"));
  ASSERT_TRUE(proxy.Pump({&client}));
  const H2Peer::Stream* down = client.stream(id);
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(Find(down->headers, ":status"), "200");
  EXPECT_EQ(Find(down->headers, "grpc-status"), std::nullopt);
  EXPECT_EQ(Find(down->headers, "content-type"), "application/grpc-web");
  EXPECT_EQ(down->data, switchyard::grpc::trailerFrame(
                            {{"grpc-status", "12"}, {"grpc-message", "no route for method /other.Service/Call"}}));
  EXPECT_TRUE(down->remote_ended);
}

}  // namespace
}  // namespace sytest::mem
