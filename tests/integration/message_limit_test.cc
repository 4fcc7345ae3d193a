// Per-message size limits through the daemon: a message whose length prefix
// is over the route's limit ends the RPC with RESOURCE_EXHAUSTED before it is
// buffered or forwarded, in either direction; smaller messages pass.
#include "harness.h"

namespace sytest {
namespace {

using switchyard::test::EchoRequest;
using switchyard::test::EchoResponse;

class MessageLimitTest : public ProxyTest {
 protected:
  void StartWithLimits(const Backend& b) {
    ProxyConfig c = DefaultConfig({});
    c.clusters = {{"echo", {b.address}, {}}};
    c.routes_yaml =
        "  - match: { service: switchyard.test.Echo }\n"
        "    cluster: echo\n"
        "    max_request_message_bytes: 1MiB\n"
        "    max_response_message_bytes: 1MiB\n";
    StartProxy(c);
  }

  grpc::Status Unary(const EchoRequest& req, EchoResponse* resp = nullptr) {
    auto stub = EchoStub();
    grpc::ClientContext ctx;
    ctx.set_deadline(In(20s));
    EchoResponse ignored;
    return stub->Unary(&ctx, req, resp != nullptr ? resp : &ignored);
  }
};

// 5 MiB against a 1 MiB limit: refused with the sizes named, and the proxy's
// resident memory does not grow by the message's size.
TEST_F(MessageLimitTest, OversizedRequestRefusedWithoutBufferingIt) {
  Backend& b = StartBackend("backend-a");
  StartWithLimits(b);
  EchoRequest small;
  small.set_payload(std::string(512 * 1024, 's'));
  ASSERT_TRUE(Unary(small).ok());  // under the limit: passes, and warms the proxy up
  const long before_kb = ReadRssKb(proxy_pid());
  ASSERT_GT(before_kb, 0);
  EchoRequest big;
  big.set_payload(std::string(5 * 1024 * 1024, 'b'));
  for (int i = 0; i < 3; ++i) {
    grpc::Status s = Unary(big);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
    EXPECT_NE(s.error_message().find("exceeds the route's limit of 1048576 bytes"), std::string::npos)
        << s.error_message();
  }
  const long after_kb = ReadRssKb(proxy_pid());
  EXPECT_LT(after_kb - before_kb, 5 * 1024 * kSanitizerSlack) << "RSS grew from " << before_kb << " kB to " << after_kb << " kB";
  EXPECT_EQ(b.Calls("Unary"), 1) << "an oversized message reached the backend's handler";
  ASSERT_TRUE(Unary(small).ok()) << "the connection and route still work";
}

// A backend answer over the limit ends the call with RESOURCE_EXHAUSTED too.
TEST_F(MessageLimitTest, OversizedResponseRefused) {
  Backend& b = StartBackend("backend-a");
  StartWithLimits(b);
  EchoRequest req;
  req.set_response_size(2 * 1024 * 1024);
  grpc::Status s = Unary(req);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_NE(s.error_message().find("response message of"), std::string::npos) << s.error_message();
  req.set_response_size(900 * 1024);
  EchoResponse resp;
  ASSERT_TRUE(Unary(req, &resp).ok());
  EXPECT_EQ(resp.payload().size(), 900u * 1024);
}

}  // namespace
}  // namespace sytest
