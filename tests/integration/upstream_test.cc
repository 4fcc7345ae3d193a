// What the proxy makes of backends that are not well-behaved gRPC servers
// (non-200 answers, stream resets), how it spreads RPCs over upstream
// connections under a small SETTINGS_MAX_CONCURRENT_STREAMS, and the access log.
#include <gtest/gtest.h>

#include <regex>
#include <thread>

#include "harness.h"
#include "ops_support.h"
#include "scripted_h2_backend.h"

namespace sytest {
namespace {

using ops::GenericUnary;

class UpstreamTest : public ProxyTest {
 protected:
  // One worker, so one upstream pool sees every RPC; outlier detection off so
  // the deliberate failures do not eject the only endpoint.
  void StartFor(const ScriptedH2Backend& backend) {
    ASSERT_TRUE(backend.ok()) << "the scripted backend could not listen";
    ProxyConfig c;
    c.workers = 1;
    c.admin_address = "127.0.0.1:0";  // not the default 9901, which another daemon may hold
    c.listeners.push_back({"public", "127.0.0.1:0", "", ""});
    c.routes.push_back({"", "", "/scripted.", "scripted", "", ""});
    c.clusters.push_back({"scripted", {backend.address()}, {"outlier_detection: { enabled: false }"}});
    ASSERT_NO_FATAL_FAILURE(StartProxy(c));
    channel_ = MakeChannel(proxy_address());
  }
  grpc::Status Call(const std::string& method) { return GenericUnary(channel_, "/scripted.Backend/" + method); }

  std::shared_ptr<grpc::Channel> channel_;
};

// gRPC's HTTP-to-status mapping for answers without grpc-status, each one
// still a valid gRPC response naming the HTTP status.
TEST_F(UpstreamTest, NonGrpcHttpStatusMapsToGrpcCode) {
  ScriptedH2Backend backend;
  ASSERT_NO_FATAL_FAILURE(StartFor(backend));
  const std::vector<std::pair<int, grpc::StatusCode>> cases = {
      {400, grpc::StatusCode::INTERNAL},          {401, grpc::StatusCode::UNAUTHENTICATED},
      {403, grpc::StatusCode::PERMISSION_DENIED}, {404, grpc::StatusCode::UNIMPLEMENTED},
      {429, grpc::StatusCode::UNAVAILABLE},       {502, grpc::StatusCode::UNAVAILABLE},
      {503, grpc::StatusCode::UNAVAILABLE},       {504, grpc::StatusCode::UNAVAILABLE},
      {500, grpc::StatusCode::UNKNOWN},
  };
  for (const auto& [http, code] : cases) {
    grpc::Status s = Call("Status" + std::to_string(http));
    EXPECT_EQ(s.error_code(), code) << "HTTP " << http << ": " << s.error_message();
    EXPECT_NE(s.error_message().find(std::to_string(http)), std::string::npos)
        << "HTTP " << http << ": the message does not name the status: " << s.error_message();
  }
  EXPECT_TRUE(Call("Ok").ok()) << "a well-formed answer after the failures";
}

// A backend's RST_STREAM ends the client's RPC with the code the gRPC spec
// maps it to.
TEST_F(UpstreamTest, BackendResetMapsToGrpcCode) {
  ScriptedH2Backend backend;
  ASSERT_NO_FATAL_FAILURE(StartFor(backend));
  const std::vector<std::pair<uint32_t, grpc::StatusCode>> cases = {
      {0x8, grpc::StatusCode::CANCELLED},            // CANCEL
      {0xb, grpc::StatusCode::RESOURCE_EXHAUSTED},   // ENHANCE_YOUR_CALM
      {0x2, grpc::StatusCode::INTERNAL},             // INTERNAL_ERROR
      {0xc, grpc::StatusCode::PERMISSION_DENIED},    // INADEQUATE_SECURITY
  };
  for (const auto& [h2, code] : cases) {
    grpc::Status s = Call("Reset" + std::to_string(h2));
    EXPECT_EQ(s.error_code(), code) << "RST_STREAM " << h2 << ": " << s.error_message();
  }
  EXPECT_EQ(backend.requests(), static_cast<int>(cases.size())) << "a reset after the request was retried";
  EXPECT_TRUE(Call("Ok").ok());
}

// With the backend allowing 2 streams per connection, 6 concurrent RPCs from
// one client connection are multiplexed 2 per upstream connection over 3
// connections, and all succeed. The calls go out in pairs, each pair once the
// backend holds the previous one, so every new connection has received the
// backend's SETTINGS before the pool has to judge it full.
TEST_F(UpstreamTest, StreamLimitOpensAnotherConnection) {
  ScriptedH2Backend backend(/*max_concurrent_streams=*/2, /*hold=*/std::chrono::milliseconds(1500));
  ASSERT_NO_FATAL_FAILURE(StartFor(backend));
  ASSERT_TRUE(Call("Ok").ok());  // the first connection has the backend's SETTINGS now
  ASSERT_EQ(backend.connections(), 1);

  constexpr int kCalls = 6;
  std::vector<grpc::Status> results(kCalls);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCalls; ++i) {
    threads.emplace_back([&, i] { results[i] = Call("HoldOk"); });
    if (i % 2 == 1) {
      EXPECT_TRUE(WaitUntil([&] { return backend.openStreams() == i + 1; }, 1000ms))
          << "the backend holds " << backend.openStreams() << " streams, expected " << i + 1;
    }
  }
  for (auto& t : threads) t.join();

  for (int i = 0; i < kCalls; ++i) {
    EXPECT_TRUE(results[i].ok()) << "call " << i << ": " << results[i].error_code() << " "
                                 << results[i].error_message();
  }
  EXPECT_LE(backend.maxConcurrentOnOneConnection(), 2) << "the proxy exceeded the backend's stream limit";
  EXPECT_EQ(backend.maxConcurrentOnOneConnection(), 2) << "streams were not multiplexed";
  EXPECT_GE(backend.connections(), kCalls / 2) << "no further connections were opened";
  EXPECT_EQ(backend.requests(), kCalls + 1);
}

// One access-log line per RPC with peer, method, cluster, endpoint, status,
// duration and bytes each way.
TEST_F(UpstreamTest, AccessLogLineNamesEveryField) {
  Backend& b = StartBackend("backend-a");
  ProxyConfig c = DefaultConfig({&b});
  ASSERT_NO_FATAL_FAILURE(StartProxy(c));
  auto stub = EchoStub();
  switchyard::test::EchoRequest req;
  req.set_payload("twelve bytes");
  switchyard::test::EchoResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(In(5000ms));
  ASSERT_TRUE(stub->Unary(&ctx, req, &resp).ok());
  EXPECT_EQ(GenericUnary(MakeChannel(proxy_address()), "/no.such.Service/Call").error_code(),
            grpc::StatusCode::UNIMPLEMENTED);

  const std::regex ok_line("127\\.0\\.0\\.1 \"/switchyard\\.test\\.Echo/Unary\" listener=public cluster=echo endpoint=" +
                           std::regex_replace(b.address, std::regex("\\."), "\\.") +
                           " grpc_status=0 duration_ms=[0-9.]+ bytes_in=([1-9][0-9]*) bytes_out=([1-9][0-9]*) "
                           "msgs_in=1 msgs_out=1");
  const std::regex no_route_line(
      "127\\.0\\.0\\.1 \"/no\\.such\\.Service/Call\" listener=public cluster=- endpoint=- grpc_status=12 ");
  std::string log;
  bool found = WaitUntil(
      [&] {
        log = ReadFile(dir() / "switchyard.out");
        return std::regex_search(log, ok_line) && std::regex_search(log, no_route_line);
      },
      5000ms);
  EXPECT_TRUE(found) << "access log lines missing or malformed:\n" << log;
}

}  // namespace
}  // namespace sytest
