// Metadata and status pass through the proxy unchanged: ASCII and binary keys,
// initial and trailing, error codes with messages and binary details, and the
// Trailers-Only response shape.
#include "harness.h"
#include "raw_h2.h"

namespace sytest {
namespace {

using switchyard::test::EchoRequest;
using switchyard::test::EchoResponse;
using namespace std::string_literals;

class MetadataStatusTest : public ProxyTest {
 protected:
  void SetUp() override {
    backend_ = &StartBackend("backend-a");
    StartProxy(DefaultConfig({backend_}));
  }
  Backend* backend_ = nullptr;
};

std::string AllBytes() {
  std::string s;
  for (int i = 0; i < 256; ++i) s.push_back(static_cast<char>(i));
  return s;
}

// Custom ASCII and -bin request metadata reach the backend and come back, byte
// for byte, in both the initial and the trailing response metadata.
TEST_F(MetadataStatusTest, MetadataRoundTripInitialAndTrailing) {
  auto stub = EchoStub();
  const std::string ascii = "Hello, metadata! ~ 0123456789";
  const std::string binary = AllBytes();
  for (const char* kind : {"unary", "server-stream"}) {
    SCOPED_TRACE(kind);
    grpc::ClientContext ctx;
    ctx.set_deadline(In(10s));
    ctx.AddMetadata("x-echo-ascii", ascii);
    ctx.AddMetadata("x-echo-blob-bin", binary);
    ctx.AddMetadata("x-not-echoed", "stays-behind");
    EchoRequest req;
    req.set_echo_metadata(true);
    req.set_payload("p");
    grpc::Status s;
    if (std::string(kind) == "unary") {
      EchoResponse resp;
      s = stub->Unary(&ctx, req, &resp);
    } else {
      req.set_count(3);
      auto r = stub->ServerStream(&ctx, req);
      EchoResponse resp;
      int n = 0;
      while (r->Read(&resp)) n++;
      s = r->Finish();
      EXPECT_EQ(n, 3);
    }
    ASSERT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
    const auto& initial = ctx.GetServerInitialMetadata();
    const auto& trailing = ctx.GetServerTrailingMetadata();
    EXPECT_EQ(MetadataValue(initial, "x-echo-ascii"), ascii);
    EXPECT_EQ(MetadataValue(initial, "x-echo-blob-bin"), binary);
    EXPECT_EQ(MetadataValue(trailing, "x-echo-ascii"), ascii);
    EXPECT_EQ(MetadataValue(trailing, "x-echo-blob-bin"), binary);
    EXPECT_EQ(MetadataValue(trailing, "x-backend"), "backend-a");
    EXPECT_EQ(initial.count("x-not-echoed"), 0u);
  }
}

// An application error status keeps its code, its (non-ASCII, percent-
// encoded on the wire) message and its binary details
// (grpc-status-details-bin) through the proxy.
TEST_F(MetadataStatusTest, ErrorStatusWithMessageAndDetailsPassesThrough) {
  auto stub = EchoStub();
  const std::string message = "widget 42 not found: caf\xc3\xa9 100% gone\t(really)";
  const std::string details = "\x08\x05\x12\x04nope\x00\xff\x80"s + AllBytes();
  grpc::ClientContext ctx;
  ctx.set_deadline(In(10s));
  EchoRequest req;
  req.set_fail_code(grpc::StatusCode::NOT_FOUND);
  req.set_fail_message(message);
  req.set_fail_details(details);
  EchoResponse resp;
  grpc::Status s = stub->Unary(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(), message);
  EXPECT_EQ(s.error_details(), details);
  EXPECT_EQ(MetadataValue(ctx.GetServerTrailingMetadata(), "x-backend"), "backend-a");
}

// A status sent after streamed messages (real trailers, not Trailers-Only)
// arrives after all the messages.
TEST_F(MetadataStatusTest, ErrorAfterStreamedMessagesPassesThrough) {
  auto stub = EchoStub();
  grpc::ClientContext ctx;
  ctx.set_deadline(In(10s));
  EchoRequest req;
  req.set_count(5);
  req.set_fail_code(grpc::StatusCode::ABORTED);
  req.set_fail_message("stopped after five");
  req.set_fail_details("detail-bytes\x01\x02");
  auto r = stub->ServerStream(&ctx, req);
  EchoResponse resp;
  int n = 0;
  while (r->Read(&resp)) n++;
  grpc::Status s = r->Finish();
  EXPECT_EQ(n, 5);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_EQ(s.error_message(), "stopped after five");
  EXPECT_EQ(s.error_details(), "detail-bytes\x01\x02");
}

// A backend's Trailers-Only error (one HEADERS frame with END_STREAM, no DATA)
// reaches the client in the same shape, with grpc-status and grpc-message
// intact. Checked on the wire with a raw HTTP/2 client, against the backend
// directly first (to prove the backend really sends Trailers-Only).
TEST_F(MetadataStatusTest, TrailersOnlyStaysTrailersOnly) {
  EchoRequest req;
  req.set_fail_code(grpc::StatusCode::PERMISSION_DENIED);
  req.set_fail_message("no entry");
  const std::string body = GrpcFrame(req.SerializeAsString());
  const HeaderList headers = {{"content-type", "application/grpc"}, {"te", "trailers"}};

  for (const std::string& target : {backend_->address, proxy_address()}) {
    SCOPED_TRACE(target == proxy_address() ? "through the proxy" : "backend directly");
    H2Result r = H2Request(target, "/switchyard.test.Echo/Unary", headers, body, 10s);
    ASSERT_EQ(r.error, "");
    ASSERT_EQ(r.blocks.size(), 1u) << "expected exactly one HEADERS block (Trailers-Only)";
    EXPECT_TRUE(r.blocks[0].end_stream);
    EXPECT_EQ(r.Field(0, ":status"), "200");
    EXPECT_EQ(r.Field(0, "grpc-status"), "7");
    EXPECT_EQ(r.Field(0, "grpc-message"), "no entry");
    EXPECT_EQ(r.Field(0, "x-backend"), "backend-a");
    EXPECT_EQ(r.Field(0, "content-type").rfind("application/grpc", 0), 0u);
    EXPECT_EQ(r.data_frames, 0);
    EXPECT_EQ(r.body, "");
  }

  // And the gRPC library sees the status as sent.
  auto stub = EchoStub();
  grpc::ClientContext ctx;
  ctx.set_deadline(In(10s));
  EchoResponse resp;
  grpc::Status s = stub->Unary(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(s.error_message(), "no entry");
}

// A request whose content-type is not application/grpc* is answered with
// HTTP 415 by the proxy and never reaches the backend.
TEST_F(MetadataStatusTest, NonGrpcContentTypeGets415) {
  EchoRequest req;
  req.set_payload("x");
  H2Result r = H2Request(proxy_address(), "/switchyard.test.Echo/Unary",
                         {{"content-type", "text/plain"}, {"te", "trailers"}}, GrpcFrame(req.SerializeAsString()), 10s);
  ASSERT_EQ(r.error, "");
  ASSERT_FALSE(r.blocks.empty());
  EXPECT_EQ(r.Field(0, ":status"), "415");
  EXPECT_EQ(backend_->Calls("Unary"), 0);
}

// gzip-compressed messages (grpc-encoding: gzip) in both directions pass
// through and decompress to the original bytes.
TEST_F(MetadataStatusTest, GzipCompressionPassesThrough) {
  ChannelOptions opts;
  opts.gzip = true;
  auto stub = EchoStub(opts);
  std::string payload;
  for (int i = 0; payload.size() < 1024 * 1024; ++i) payload += "compressible line " + std::to_string(i % 100) + "\n";
  for (bool compress_response : {false, true}) {
    SCOPED_TRACE(compress_response ? "compressed response" : "plain response");
    grpc::ClientContext ctx;
    ctx.set_deadline(In(30s));
    EchoRequest req;
    req.set_payload(payload);
    req.set_compress_response(compress_response);
    EchoResponse resp;
    grpc::Status s = stub->Unary(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
    EXPECT_TRUE(resp.payload() == payload);
  }
}

}  // namespace
}  // namespace sytest
