// Per-message size limits on the real data path, in memory: a message whose
// gRPC length prefix is over the route's limit ends the RPC with
// RESOURCE_EXHAUSTED, and the backend's stream is reset rather than left
// open or fed the oversized message, in either direction.
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
    max_request_message_bytes: 1KiB
    max_response_message_bytes: 1KiB
clusters:
  - name: echo
    endpoints: [127.0.0.1:50051]
)";

const Fields kOk = {{":status", "200"}, {"content-type", "application/grpc"}};

// The 5-byte gRPC prefix of an uncompressed message of `len` bytes.
std::string Prefix(uint32_t len) {
  std::string p(5, '\0');
  p[1] = static_cast<char>(len >> 24);
  p[2] = static_cast<char>(len >> 16);
  p[3] = static_cast<char>(len >> 8);
  p[4] = static_cast<char>(len);
  return p;
}

// grpc-status of a finished client stream: from its trailers, or from the
// headers of a Trailers-Only answer.
std::string StatusOf(const H2Peer::Stream& s) {
  if (auto t = Find(s.trailers, "grpc-status")) return *t;
  return Find(s.headers, "grpc-status").value_or("<none>");
}

class MessageLimitMemoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    switchyard::log::setLevel("off");
    proxy_ = std::make_unique<InMemoryProxy>(kConfig);
    proxy_->on_upstream = [this](const std::string&, bufferevent* end) {
      backend_ = std::make_unique<H2Peer>(H2Peer::Role::Server, end);
      H2Peer* peer = backend_.get();
      peer->on_request = [this](int32_t id, const H2Peer::Stream&) { backend_stream_ = id; };
      peer->on_remote_end = [this](int32_t id, const H2Peer::Stream&) {
        if (answer_) answer_(*backend_, id);
      };
      return peer;
    };
  }

  std::unique_ptr<InMemoryProxy> proxy_;
  std::unique_ptr<H2Peer> backend_;  // destroyed before proxy_
  int32_t backend_stream_ = 0;
  std::function<void(H2Peer&, int32_t)> answer_;
};

// A 2 KiB request message against 1 KiB: the client gets RESOURCE_EXHAUSTED
// as soon as the prefix is seen; the backend's stream (opened with the
// headers) is reset and never gets the message's bytes.
TEST_F(MessageLimitMemoryTest, OversizedRequestResetsTheBackendStream) {
  H2Peer client(H2Peer::Role::Client, proxy_->Connect());
  int32_t id = client.Request(GrpcRequest("/switchyard.test.Echo/Unary"), "", /*end_stream=*/false);
  ASSERT_TRUE(proxy_->Pump({&client}));
  client.SendData(id, Prefix(2048) + std::string(100, 'x'), /*end=*/false);
  ASSERT_TRUE(proxy_->Pump({&client}));

  const H2Peer::Stream* down = client.stream(id);
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(Find(down->headers, ":status"), "200");
  EXPECT_EQ(StatusOf(*down), "8");  // RESOURCE_EXHAUSTED
  EXPECT_NE(Find(down->headers, "grpc-message").value_or("").find("1024"), std::string::npos);
  ASSERT_NE(backend_, nullptr) << "the request headers never reached a backend";
  ASSERT_NE(backend_stream_, 0);
  const H2Peer::Stream* up = backend_->stream(backend_stream_);
  ASSERT_NE(up, nullptr);
  EXPECT_TRUE(up->closed);
  EXPECT_TRUE(up->reset_received) << "the backend stream was left open";
  EXPECT_TRUE(up->data.empty()) << "the backend got " << up->data.size() << " bytes of the oversized message";
}

// A 2 KiB response message against 1 KiB: the client's RPC ends with
// RESOURCE_EXHAUSTED and the backend's stream, still open, is reset.
TEST_F(MessageLimitMemoryTest, OversizedResponseResetsTheBackendStream) {
  answer_ = [](H2Peer& b, int32_t id) {
    b.Respond(id, kOk, GrpcFrame(std::string(2048, 'r')), std::nullopt);
    b.SendData(id, "", /*end=*/false);  // and the stream stays open after it
  };
  H2Peer client(H2Peer::Role::Client, proxy_->Connect());
  int32_t id = client.Request(GrpcRequest("/switchyard.test.Echo/Unary"), GrpcFrame("ping"));
  ASSERT_TRUE(proxy_->Pump({&client}));

  const H2Peer::Stream* down = client.stream(id);
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(StatusOf(*down), "8");  // RESOURCE_EXHAUSTED
  EXPECT_LT(down->data.size(), 2048u) << "the oversized message was forwarded";
  ASSERT_NE(backend_, nullptr);
  const H2Peer::Stream* up = backend_->stream(backend_stream_);
  ASSERT_NE(up, nullptr);
  EXPECT_TRUE(up->closed);
  EXPECT_TRUE(up->reset_received) << "the backend stream was left open";
}

}  // namespace
}  // namespace sytest::mem
