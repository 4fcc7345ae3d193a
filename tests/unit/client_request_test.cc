// ClientRequest in memory: the client's body decoded through its adapter,
// the framing checks and the refusals they report, the bytes queued for the
// attempt, the retry copy, and the client's window reopened only for what
// left (or will never leave) the proxy.
#include "proxy/client_request.h"

#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include <cstdlib>
#include <string>

#include "event/clock.h"
#include "grpc/web_framing.h"
#include "proxy/web_protocol.h"

namespace switchyard::proxy {
namespace {

using grpc::StatusCode;
using metrics::LocalError;

// One gRPC message; `flag` 1 marks it compressed.
std::string grpcMessage(const std::string& payload, char flag = 0) {
  std::string m(5, '\0');
  m[0] = flag;
  const auto n = static_cast<uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) m[1 + i] = static_cast<char>(n >> (24 - 8 * i));
  return m + payload;
}

const uint8_t* bytes(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// The client connection: only the window matters here.
class WindowDownstream final : public DownstreamSide {
 public:
  WorkerContext& worker() override { std::abort(); }  // ClientRequest never asks
  const ListenerInfo& listener() const override { return listener_; }
  const std::string& peerIp() const override { return peer_ip_; }
  Status respond(int32_t, const http2::NvList&, bool) override { return {}; }
  Status sendTrailers(int32_t, const http2::NvList&) override { return {}; }
  void resumeResponse(int32_t) override {}
  Status reset(int32_t, uint32_t) override { return {}; }
  void consume(int32_t stream_id, size_t n) override {
    EXPECT_EQ(stream_id, 7);
    consumed += n;
  }

  size_t consumed = 0;

 private:
  ListenerInfo listener_;
  std::string peer_ip_ = "127.0.0.1";
};

// Whole-message conversion, as JSON transcoding does it: the body is kept
// and becomes `message` once it ends.
class WholeProtocol final : public ProtocolAdapter {
 public:
  std::string_view name() const override { return "whole"; }
  bool wholeMessages() const override { return true; }
  Result<std::string> finishRequest() override {
    if (!converts) return Error{"field \"x\" is not a number"};
    return message;
  }
  bool converts = true;
  std::string message;
};

class ClientRequestTest : public ::testing::Test {
 protected:
  std::string take(size_t len, uint32_t* flags, ssize_t* rv) {
    std::string buf(len, '\0');
    *rv = request.read(reinterpret_cast<uint8_t*>(buf.data()), len, flags);
    buf.resize(*rv > 0 ? static_cast<size_t>(*rv) : 0);
    return buf;
  }
  // Decodes and forwards one chunk; the refusal, if any.
  std::optional<ClientRequest::Refusal> send(const std::string& chunk) {
    auto decoded = request.decode(bytes(chunk), chunk.size());
    if (decoded.refused) return decoded.refused;
    return request.forward(decoded.grpc);
  }

  WindowDownstream conn;
  http2::HeaderList headers;
  FlowBuffers flow;
  event::ManualClock clock;
  UpstreamAttempt attempt{clock};
  RetryState retry;
  ClientRequest request{conn, 7, headers, flow, attempt, retry};
};

TEST_F(ClientRequestTest, BytesWaitForTheAttemptAndPayTheClientAsTheyLeave) {
  request.route(0, 1024);
  std::string m = grpcMessage("hello");
  EXPECT_FALSE(send(m));
  EXPECT_EQ(conn.consumed, 0u);  // queued, not yet taken by the backend
  EXPECT_EQ(request.traffic().bytes, m.size());
  EXPECT_EQ(request.traffic().messages.messages(), 1u);

  uint32_t flags = 0;
  ssize_t rv = 0;
  EXPECT_EQ(take(4, &flags, &rv), m.substr(0, 4));
  EXPECT_EQ(conn.consumed, 4u);
  EXPECT_EQ(take(64, &flags, &rv), m.substr(4));
  EXPECT_EQ(flags, 0u);  // the client has not ended
  EXPECT_EQ(conn.consumed, m.size());
  take(64, &flags, &rv);
  EXPECT_EQ(rv, NGHTTP2_ERR_DEFERRED);

  EXPECT_FALSE(request.ended());
  EXPECT_FALSE(request.end());
  EXPECT_TRUE(request.ended());
  take(64, &flags, &rv);
  EXPECT_EQ(rv, 0);
  EXPECT_NE(flags & NGHTTP2_DATA_FLAG_EOF, 0u);
  // Everything sent fit the retry buffer: a retry could replay it.
  EXPECT_TRUE(retry.bodyRetained());
  EXPECT_EQ(flow.requestKept(), m.size());
}

TEST_F(ClientRequestTest, RetryCopyStopsAtTheRetryBuffer) {
  request.route(0, 8);
  std::string m = grpcMessage("more than eight bytes");
  EXPECT_FALSE(send(m));
  uint32_t flags = 0;
  ssize_t rv = 0;
  take(64, &flags, &rv);
  EXPECT_EQ(static_cast<size_t>(rv), m.size());
  EXPECT_FALSE(retry.bodyRetained());
  EXPECT_EQ(flow.requestKept(), 0u);
}

TEST_F(ClientRequestTest, OversizedMessageIsRefusedAndPaidAtOnce) {
  request.route(4, 1024);
  std::string m = grpcMessage("hello");
  auto refused = send(m);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->cause, LocalError::MessageTooLarge);
  EXPECT_EQ(refused->code, StatusCode::ResourceExhausted);
  EXPECT_EQ(refused->message, "request message of 5 bytes exceeds the route's limit of 4 bytes");
  EXPECT_TRUE(flow.requestEmpty());
  EXPECT_EQ(conn.consumed, m.size());
}

TEST_F(ClientRequestTest, CompressedMessageNeedsGrpcEncoding) {
  request.route(0, 1024);
  std::string m = grpcMessage("zz", 1);
  auto refused = send(m);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->cause, LocalError::BadRequest);
  EXPECT_EQ(refused->code, StatusCode::Internal);
  EXPECT_EQ(refused->message, "request message is compressed but the request has no grpc-encoding");
  EXPECT_EQ(conn.consumed, m.size());
  EXPECT_TRUE(flow.requestEmpty());
}

TEST_F(ClientRequestTest, CompressedMessageWithGrpcEncodingIsQueued) {
  headers.addOwned("grpc-encoding", "gzip");
  request.route(0, 1024);
  EXPECT_FALSE(send(grpcMessage("zz", 1)));
  EXPECT_FALSE(flow.requestEmpty());
  EXPECT_EQ(conn.consumed, 0u);
}

TEST_F(ClientRequestTest, DroppedBytesAreCountedAndPaid) {
  request.drop(10);
  EXPECT_EQ(conn.consumed, 10u);
  EXPECT_EQ(request.traffic().bytes, 10u);
  EXPECT_EQ(request.traffic().messages.messages(), 0u);
}

TEST_F(ClientRequestTest, DiscardPaysForQueuedBytesAndDropsTheRetryCopy) {
  request.route(0, 1024);
  std::string m = grpcMessage("hello");
  EXPECT_FALSE(send(m));
  uint32_t flags = 0;
  ssize_t rv = 0;
  take(3, &flags, &rv);
  EXPECT_EQ(conn.consumed, 3u);
  request.discard();
  EXPECT_EQ(conn.consumed, m.size());
  EXPECT_TRUE(flow.requestEmpty());
  EXPECT_FALSE(retry.bodyRetained());
  EXPECT_EQ(flow.replayRequest(), 0u);  // the three bytes sent are no longer kept
}

// gRPC-Web text: base64 in, gRPC framing out; the client's window reopens
// for the base64 characters the forwarded bytes came from.
TEST_F(ClientRequestTest, WebTextIsDecodedAndPaidInClientBytes) {
  auto type = grpc::parseWebContentType("application/grpc-web-text");
  ASSERT_TRUE(type);
  WebProtocol web(*type, nullptr, "");
  request.setProtocol(web);
  request.route(0, 1024);
  std::string text = "AAAAAAJoaQ==";  // one message, "hi"
  EXPECT_FALSE(send(text));
  EXPECT_EQ(request.traffic().messages.messages(), 1u);
  uint32_t flags = 0;
  ssize_t rv = 0;
  EXPECT_EQ(take(64, &flags, &rv), grpcMessage("hi"));
  EXPECT_EQ(conn.consumed, text.size());
}

TEST_F(ClientRequestTest, WebTextEndingInsideABase64GroupIsRefused) {
  auto type = grpc::parseWebContentType("application/grpc-web-text");
  ASSERT_TRUE(type);
  WebProtocol web(*type, nullptr, "");
  request.setProtocol(web);
  EXPECT_FALSE(send("AAAAAAJoa"));
  auto refused = request.end();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->cause, LocalError::BadRequest);
  EXPECT_EQ(refused->code, StatusCode::Internal);
  EXPECT_EQ(refused->message, "grpc-web request body ends inside a base64 group");
  EXPECT_TRUE(request.ended());
}

TEST_F(ClientRequestTest, MalformedBodyIsRefusedAndPaid) {
  auto type = grpc::parseWebContentType("application/grpc-web-text");
  ASSERT_TRUE(type);
  WebProtocol web(*type, nullptr, "");
  request.setProtocol(web);
  auto decoded = request.decode(bytes(std::string("!!!!")), 4);
  ASSERT_TRUE(decoded.refused);
  EXPECT_EQ(decoded.refused->code, StatusCode::Internal);
  EXPECT_EQ(decoded.refused->message, "malformed grpc-web request body");
  EXPECT_EQ(conn.consumed, 4u);
}

TEST_F(ClientRequestTest, WholeRequestBecomesOneMessageOnceTheBodyEnded) {
  WholeProtocol whole;
  whole.message = grpcMessage("{converted}");
  request.setProtocol(whole);
  request.route(0, 1024);
  std::string body = R"({"x": 1})";
  auto decoded = request.decode(bytes(body), body.size());
  EXPECT_FALSE(decoded.refused);
  EXPECT_TRUE(decoded.kept);
  EXPECT_EQ(conn.consumed, body.size());  // the adapter holds it: the window reopens at once
  EXPECT_TRUE(flow.requestEmpty());
  EXPECT_FALSE(request.end());
  EXPECT_FALSE(request.finishWhole());
  EXPECT_EQ(request.traffic().bytes, body.size());
  EXPECT_EQ(request.traffic().messages.messages(), 1u);
  uint32_t flags = 0;
  ssize_t rv = 0;
  EXPECT_EQ(take(64, &flags, &rv), whole.message);
  EXPECT_NE(flags & NGHTTP2_DATA_FLAG_EOF, 0u);
}

TEST_F(ClientRequestTest, WholeRequestThatDoesNotConvertOrIsTooLargeIsRefused) {
  WholeProtocol whole;
  whole.converts = false;
  request.setProtocol(whole);
  request.route(4, 1024);
  auto refused = request.finishWhole();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->cause, LocalError::TranscodeFailed);
  EXPECT_EQ(refused->code, StatusCode::InvalidArgument);
  EXPECT_EQ(refused->message, "field \"x\" is not a number");

  whole.converts = true;
  whole.message = grpcMessage("12345");
  refused = request.finishWhole();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->cause, LocalError::MessageTooLarge);
  EXPECT_EQ(refused->code, StatusCode::ResourceExhausted);
  EXPECT_TRUE(flow.requestEmpty());
}

}  // namespace
}  // namespace switchyard::proxy
