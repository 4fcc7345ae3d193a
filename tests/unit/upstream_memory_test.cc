// The upstream (backend-facing) side driven in memory: scripted backends on
// in-memory pipes answer RPCs that a raw nghttp2 client sends through the
// real proxy data path (tests/support/mem_proxy.h).
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

// Header fields are handed to nghttp2 by reference (NvList::addKept): the RPC
// keeps their bytes until nghttp2 has written the HEADERS frame or dropped it.
// These two tests end an RPC while its HEADERS still wait in nghttp2's queue;
// under AddressSanitizer, bytes freed too early are a use-after-free here.
// Each carries a field too large for the HPACK table, so that no table entry
// keeps its bytes alive: only the RPC does.
const std::string kLarge(5000, 'v');

// The client's request and its RST_STREAM arrive in one read: the RPC opens
// its backend stream and is gone before the backend connection is written.
TEST_F(UpstreamMemoryTest, RequestResetBeforeItsHeadersLeaveNeverReachesTheBackend) {
  size_t answered = 0;
  InMemoryProxy& proxy = ProxyWithBackend([&answered](H2Peer& b, int32_t id) {
    ++answered;
    b.Respond(id, kOk, GrpcFrame("pong"), Fields{{"grpc-status", "0"}});
  });
  H2Peer client(H2Peer::Role::Client, proxy.Connect());
  int32_t gone = client.Request(
      GrpcRequest("/switchyard.test.Echo/Unary", {{"x-meta", "m"}, {"x-large", kLarge}}),
      GrpcFrame("ping"));
  client.Reset(gone, NGHTTP2_CANCEL);
  ASSERT_TRUE(proxy.Pump({&client}));
  EXPECT_EQ(answered, 0u);
  ASSERT_NE(client.stream(gone), nullptr);
  EXPECT_TRUE(client.stream(gone)->headers.empty());

  // The backend connection still carries the next RPC, headers intact.
  int32_t next = client.Request(GrpcRequest("/switchyard.test.Echo/Unary", {{"x-meta", "n"}}),
                                GrpcFrame("ping"));
  ASSERT_TRUE(proxy.Pump({&client}));
  EXPECT_EQ(answered, 1u);
  ASSERT_FALSE(backends_.empty());
  const H2Peer::Stream* up = backends_.back()->stream(1);
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(Find(up->headers, "x-meta"), "n");
  EXPECT_EQ(Find(up->headers, ":path"), "/switchyard.test.Echo/Unary");
  ASSERT_NE(client.stream(next), nullptr);
  EXPECT_EQ(Find(client.stream(next)->trailers, "grpc-status"), "0");
}

// The client stops reading while a large response fills the proxy's output,
// so a second RPC's response HEADERS wait in nghttp2's queue; the client then
// resets that RPC. Its HEADERS must never go out, and the first response must
// arrive whole once the client reads again.
TEST_F(UpstreamMemoryTest, ResponseHeadersQueuedBehindABacklogDieWithTheirStream) {
  std::vector<int32_t> waiting;  // backend stream ids whose request ended
  InMemoryProxy& proxy =
      ProxyWithBackend([&waiting](H2Peer&, int32_t id) { waiting.push_back(id); });
  bufferevent* client_end = proxy.Connect();
  H2Peer::Options big_window;
  big_window.initial_window = 8 << 20;
  H2Peer client(H2Peer::Role::Client, client_end, big_window);
  int32_t bulk = client.Request(GrpcRequest("/switchyard.test.Echo/Unary"), GrpcFrame("bulk"));
  int32_t small = client.Request(GrpcRequest("/switchyard.test.Echo/Unary"), GrpcFrame("small"));
  ASSERT_TRUE(proxy.Pump({&client}));
  ASSERT_EQ(waiting.size(), 2u);
  ASSERT_EQ(backends_.size(), 1u);
  H2Peer& backend = *backends_.front();

  bufferevent_disable(client_end, EV_READ);  // bytes for the client now stay in the proxy
  const std::string body = GrpcFrame(std::string(1 << 20, 'x'));
  Fields bulk_headers = kOk;
  bulk_headers.push_back({"x-large", kLarge});
  backend.Respond(waiting[0], bulk_headers, body, Fields{{"grpc-status", "0"}, {"x-large", kLarge}});
  ASSERT_TRUE(proxy.Pump({&client}));
  Fields late_headers = kOk;
  late_headers.push_back({"x-large", kLarge});
  backend.Respond(waiting[1], late_headers, GrpcFrame("late"),
                  Fields{{"grpc-status", "0"}, {"x-trailer", "t"}});
  ASSERT_TRUE(proxy.Pump({&client}));
  client.Reset(small, NGHTTP2_CANCEL);
  ASSERT_TRUE(proxy.Pump({&client}));

  bufferevent_enable(client_end, EV_READ);
  ASSERT_TRUE(proxy.Pump({&client}));
  ASSERT_NE(client.stream(small), nullptr);
  EXPECT_TRUE(client.stream(small)->headers.empty());
  EXPECT_TRUE(client.stream(small)->data.empty());
  const H2Peer::Stream* down = client.stream(bulk);
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(Find(down->headers, ":status"), "200");
  EXPECT_EQ(Find(down->headers, "x-large"), kLarge);
  EXPECT_EQ(Find(down->trailers, "x-large"), kLarge);
  EXPECT_EQ(down->data.size(), body.size());
  EXPECT_EQ(down->data, body);
  EXPECT_EQ(Find(down->trailers, "grpc-status"), "0");
}

}  // namespace
}  // namespace sytest::mem
