// Every way a backend stream can fail, as the gRPC status the client gets
// (gRPC spec, HTTP2 transport mapping) and the local-error cause counted.
#include "proxy/upstream_failure.h"

#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

namespace switchyard::proxy {
namespace {

using grpc::StatusCode;
using metrics::LocalError;
using upstream::StreamFailure;

TEST(UpstreamFailure, RstStreamCodesMapAsTheSpecSays) {
  struct Case {
    uint32_t h2;
    StatusCode want;
  } cases[] = {
      {NGHTTP2_NO_ERROR, StatusCode::Internal},
      {NGHTTP2_PROTOCOL_ERROR, StatusCode::Internal},
      {NGHTTP2_INTERNAL_ERROR, StatusCode::Internal},
      {NGHTTP2_FLOW_CONTROL_ERROR, StatusCode::Internal},
      {NGHTTP2_SETTINGS_TIMEOUT, StatusCode::Internal},
      {NGHTTP2_STREAM_CLOSED, StatusCode::Internal},
      {NGHTTP2_FRAME_SIZE_ERROR, StatusCode::Internal},
      {NGHTTP2_REFUSED_STREAM, StatusCode::Unavailable},
      {NGHTTP2_CANCEL, StatusCode::Cancelled},
      {NGHTTP2_COMPRESSION_ERROR, StatusCode::Internal},
      {NGHTTP2_CONNECT_ERROR, StatusCode::Internal},
      {NGHTTP2_ENHANCE_YOUR_CALM, StatusCode::ResourceExhausted},
      {NGHTTP2_INADEQUATE_SECURITY, StatusCode::PermissionDenied},
      {NGHTTP2_HTTP_1_1_REQUIRED, StatusCode::Internal},
  };
  for (const auto& c : cases) {
    auto a = answerForUpstreamFailure(StreamFailure::Reset, c.h2, "10.0.0.1:80");
    EXPECT_EQ(a.code, c.want) << nghttp2_http2_strerror(c.h2);
    EXPECT_EQ(a.cause, LocalError::UpstreamReset);
    EXPECT_NE(a.message.find(nghttp2_http2_strerror(c.h2)), std::string::npos) << a.message;
  }
}

// Connection-level failures (connect, loss, GOAWAY/REFUSED_STREAM) are UNAVAILABLE.
TEST(UpstreamFailure, ConnectionFailuresAreUnavailable) {
  auto refused = answerForUpstreamFailure(StreamFailure::Refused, 0, "10.0.0.1:80");
  EXPECT_EQ(refused.code, StatusCode::Unavailable);
  EXPECT_EQ(refused.cause, LocalError::UpstreamReset);
  EXPECT_EQ(refused.message, "backend 10.0.0.1:80 refused the stream");

  auto connect = answerForUpstreamFailure(StreamFailure::ConnectFailed, 0, "10.0.0.1:80");
  EXPECT_EQ(connect.code, StatusCode::Unavailable);
  EXPECT_EQ(connect.cause, LocalError::UpstreamConnectFailure);
  EXPECT_EQ(connect.message, "cannot connect to backend 10.0.0.1:80");

  auto lost = answerForUpstreamFailure(StreamFailure::ConnectionLost, 0, "[::1]:80");
  EXPECT_EQ(lost.code, StatusCode::Unavailable);
  EXPECT_EQ(lost.cause, LocalError::UpstreamReset);
  EXPECT_EQ(lost.message, "connection to backend [::1]:80 lost");
}

// A stream that closed cleanly without trailers is the backend's bug: INTERNAL, not counted.
TEST(UpstreamFailure, CleanCloseWithoutResponseIsInternal) {
  auto a = answerForUpstreamFailure(StreamFailure::None, 0, "10.0.0.1:80");
  EXPECT_EQ(a.code, StatusCode::Internal);
  EXPECT_EQ(a.cause, std::nullopt);
}

// Only failures that provably never reached the backend allow a transparent retry.
TEST(UpstreamFailure, OnlyUnsentRequestsRetryTransparently) {
  EXPECT_TRUE(neverReachedBackend(StreamFailure::Refused));
  EXPECT_TRUE(neverReachedBackend(StreamFailure::ConnectFailed));
  EXPECT_FALSE(neverReachedBackend(StreamFailure::Reset));
  EXPECT_FALSE(neverReachedBackend(StreamFailure::ConnectionLost));
  EXPECT_FALSE(neverReachedBackend(StreamFailure::None));
}

// Trailers without grpc-status become UNKNOWN, a body cut inside a message
// INTERNAL (which wins over what the trailers say); others go through.
TEST(UpstreamFailure, TrailersThatCannotEndAGrpcResponseAreReplaced) {
  auto missing = answerForTrailers(/*has_grpc_status=*/false, /*partial_message=*/false);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->code, StatusCode::Unknown);
  EXPECT_EQ(missing->message, "backend ended the stream without grpc-status");
  EXPECT_FALSE(missing->cause);
  auto cut = answerForTrailers(/*has_grpc_status=*/true, /*partial_message=*/true);
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->code, StatusCode::Internal);
  EXPECT_EQ(cut->message, "backend response ended inside a gRPC message");
  EXPECT_FALSE(answerForTrailers(/*has_grpc_status=*/true, /*partial_message=*/false));
}

}  // namespace
}  // namespace switchyard::proxy
