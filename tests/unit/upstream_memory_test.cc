// The upstream (backend-facing) side driven in memory: scripted backends on
// in-memory pipes answer RPCs that a raw nghttp2 client sends through the
// real proxy data path (tests/support/mem_proxy.h).
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/log.h"
#include "mem_proxy.h"

namespace sytest::mem {
namespace {

constexpr const char* kConfig = R"(
listeners:
  - name: public
    address: 127.0.0.1:8080
routes:
  - match: { service: switchyard.test.Echo }
    cluster: echo
clusters:
  - name: echo
    endpoints: [127.0.0.1:50051]
)";

const Fields kOk = {{":status", "200"}, {"content-type", "application/grpc"}};

class UpstreamMemoryTest : public ::testing::Test {
 protected:
  void SetUp() override { switchyard::log::setLevel("off"); }

  // A proxy whose every upstream connection gets a server peer that `answer`
  // scripts once a request has ended.
  InMemoryProxy& ProxyWithBackend(std::function<void(H2Peer&, int32_t)> answer) {
    proxy_ = std::make_unique<InMemoryProxy>(kConfig);
    proxy_->on_upstream = [this, answer](const std::string&, bufferevent* end) {
      backends_.push_back(std::make_unique<H2Peer>(H2Peer::Role::Server, end));
      H2Peer* peer = backends_.back().get();
      peer->on_remote_end = [peer, answer](int32_t id, const H2Peer::Stream&) { answer(*peer, id); };
      return peer;
    };
    return *proxy_;
  }

  std::unique_ptr<InMemoryProxy> proxy_;
  std::vector<std::unique_ptr<H2Peer>> backends_;  // destroyed before proxy_
};

// gRPC spec: a 1xx interim response before the real one is skipped. The
// final response's HEADERS comes to the proxy as a second HEADERS block.
TEST_F(UpstreamMemoryTest, InterimResponseBeforeTheRealOneIsSkipped) {
  InMemoryProxy& proxy = ProxyWithBackend([](H2Peer& b, int32_t id) {
    b.Headers(id, {{":status", "100"}}, false);
    b.Respond(id, kOk, GrpcFrame("pong"), Fields{{"grpc-status", "0"}});
  });
  H2Peer client(H2Peer::Role::Client, proxy.Connect());
  int32_t id = client.Request(GrpcRequest("/switchyard.test.Echo/Unary"), GrpcFrame("ping"));
  ASSERT_TRUE(proxy.Pump({&client}));

  const H2Peer::Stream* down = client.stream(id);
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(Find(down->headers, ":status"), "200");
  EXPECT_EQ(down->data, GrpcFrame("pong"));
  EXPECT_EQ(Find(down->trailers, "grpc-status"), "0");
}

TEST_F(UpstreamMemoryTest, TrailersAfterDataAreForwardedWithTheirMetadata) {
  InMemoryProxy& proxy = ProxyWithBackend([](H2Peer& b, int32_t id) {
    b.Respond(id, kOk, GrpcFrame("a") + GrpcFrame("b"),
              Fields{{"grpc-status", "5"}, {"grpc-message", "gone"}, {"x-trailer", "t"}});
  });
  H2Peer client(H2Peer::Role::Client, proxy.Connect());
  int32_t id = client.Request(GrpcRequest("/switchyard.test.Echo/ServerStream"), GrpcFrame("go"));
  ASSERT_TRUE(proxy.Pump({&client}));

  const H2Peer::Stream* down = client.stream(id);
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(down->data, GrpcFrame("a") + GrpcFrame("b"));
  EXPECT_EQ(Find(down->trailers, "grpc-status"), "5");
  EXPECT_EQ(Find(down->trailers, "grpc-message"), "gone");
  EXPECT_EQ(Find(down->trailers, "x-trailer"), "t");
}

TEST_F(UpstreamMemoryTest, BackendResetBecomesAGrpcStatusForTheClient) {
  InMemoryProxy& proxy = ProxyWithBackend([](H2Peer& b, int32_t id) { b.Reset(id, NGHTTP2_INTERNAL_ERROR); });
  H2Peer client(H2Peer::Role::Client, proxy.Connect());
  int32_t id = client.Request(GrpcRequest("/switchyard.test.Echo/Unary"), GrpcFrame("x"));
  ASSERT_TRUE(proxy.Pump({&client}));

  const H2Peer::Stream* down = client.stream(id);
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(Find(down->headers, ":status"), "200");
  EXPECT_EQ(Find(down->headers, "grpc-status"), "13");  // INTERNAL_ERROR -> INTERNAL
  EXPECT_FALSE(down->reset_received);
}

}  // namespace
}  // namespace sytest::mem
