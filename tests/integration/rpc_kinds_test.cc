// All four gRPC call kinds through the proxy, at volume and at size.
#include <atomic>
#include <random>
#include <thread>

#include "harness.h"

namespace sytest {
namespace {

using switchyard::test::EchoRequest;
using switchyard::test::EchoResponse;

class RpcKindsTest : public ProxyTest {
 protected:
  void SetUp() override {
    Backend& b = StartBackend("backend-a");
    StartProxy(DefaultConfig({&b}));
  }
};

// A unary call is forwarded to the backend and its answer comes back intact.
TEST_F(RpcKindsTest, UnaryRoundTrip) {
  auto stub = EchoStub();
  grpc::ClientContext ctx;
  ctx.set_deadline(In(10s));
  EchoRequest req;
  req.set_payload("hello through the proxy");
  EchoResponse resp;
  grpc::Status s = stub->Unary(&ctx, req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
  EXPECT_EQ(resp.payload(), "hello through the proxy");
  EXPECT_EQ(resp.backend(), "backend-a");
  EXPECT_EQ(MetadataValue(ctx.GetServerTrailingMetadata(), "x-backend"), "backend-a");
}

// 10,000 server-stream messages arrive complete, in order, then status OK.
TEST_F(RpcKindsTest, ServerStreamTenThousandMessages) {
  auto stub = EchoStub();
  grpc::ClientContext ctx;
  ctx.set_deadline(In(90s));
  EchoRequest req;
  req.set_count(10000);
  req.set_response_size(100);
  auto reader = stub->ServerStream(&ctx, req);
  EchoResponse resp;
  int64_t n = 0;
  int64_t bad = 0;
  while (reader->Read(&resp)) {
    if (resp.seq() != n || resp.payload() != Pattern(100, n)) bad++;
    n++;
  }
  grpc::Status s = reader->Finish();
  ASSERT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message() << " after " << n << " messages";
  EXPECT_EQ(n, 10000);
  EXPECT_EQ(bad, 0) << "messages out of order or corrupted";
}

// 10,000 client-stream messages all reach the backend, in order (checksum).
TEST_F(RpcKindsTest, ClientStreamTenThousandMessages) {
  auto stub = EchoStub();
  grpc::ClientContext ctx;
  ctx.set_deadline(In(90s));
  EchoResponse resp;
  auto writer = stub->ClientStream(&ctx, &resp);
  uint64_t checksum = kFnvOffset;
  int64_t bytes = 0;
  int written = 0;
  for (int i = 0; i < 10000; ++i) {
    EchoRequest req;
    req.set_payload("message-" + std::to_string(i));
    checksum = Fnv1a(checksum, req.payload());
    bytes += static_cast<int64_t>(req.payload().size());
    if (!writer->Write(req)) break;
    written++;
  }
  writer->WritesDone();
  grpc::Status s = writer->Finish();
  ASSERT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message() << " after " << written << " writes";
  EXPECT_EQ(written, 10000);
  EXPECT_EQ(resp.received_messages(), 10000);
  EXPECT_EQ(resp.received_bytes(), bytes);
  EXPECT_EQ(resp.checksum(), checksum) << "backend saw the messages in a different order or altered";
}

// 10,000 bidi rounds where each request carries the previous reply's value:
// proves strict request/response interleaving works both ways.
TEST_F(RpcKindsTest, BidiPingPongTenThousandRounds) {
  auto stub = EchoStub();
  grpc::ClientContext ctx;
  ctx.set_deadline(In(100s));
  auto stream = stub->Bidi(&ctx);
  uint64_t value = 42;
  int rounds = 0;
  for (int i = 0; i < 10000; ++i) {
    EchoRequest req;
    req.set_value(value);
    if (!stream->Write(req)) break;
    EchoResponse resp;
    if (!stream->Read(&resp)) break;
    if (resp.value() != NextValue(value) || resp.seq() != i) {
      ADD_FAILURE() << "round " << i << ": got value " << resp.value() << " seq " << resp.seq() << ", want "
                    << NextValue(value);
      break;
    }
    value = resp.value();
    rounds++;
  }
  stream->WritesDone();
  grpc::Status s = stream->Finish();
  ASSERT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message() << " after " << rounds << " rounds";
  EXPECT_EQ(rounds, 10000);
}

// One 4 MiB message each way (larger than any HTTP/2 window or frame).
TEST_F(RpcKindsTest, FourMiBMessageBothWays) {
  auto stub = EchoStub();
  std::string payload(4 * 1024 * 1024, '\0');
  std::mt19937_64 rng(7);
  for (auto& c : payload) c = static_cast<char>(rng());
  grpc::ClientContext ctx;
  ctx.set_deadline(In(60s));
  EchoRequest req;
  req.set_payload(payload);
  EchoResponse resp;
  grpc::Status s = stub->Unary(&ctx, req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
  ASSERT_EQ(resp.payload().size(), payload.size());
  EXPECT_TRUE(resp.payload() == payload) << "4 MiB payload corrupted";
}

// All four kinds interleaved on one connection at the same time.
TEST_F(RpcKindsTest, ConcurrentCallsOfAllKindsShareOneConnection) {
  auto channel = MakeChannel(proxy_address());
  auto stub = switchyard::test::Echo::NewStub(channel);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      grpc::ClientContext ctx;
      ctx.set_deadline(In(60s));
      EchoRequest req;
      req.set_payload(std::to_string(t).insert(0, 1, 't'));  // not "t" + ...: GCC 12 -O3 -Wrestrict
      switch (t % 4) {
        case 0: {
          EchoResponse resp;
          if (stub->Unary(&ctx, req, &resp).ok() && resp.payload() == req.payload()) ok++;
          break;
        }
        case 1: {
          req.set_count(500);
          req.set_response_size(1000);
          auto r = stub->ServerStream(&ctx, req);
          EchoResponse resp;
          int n = 0;
          while (r->Read(&resp)) n++;
          if (r->Finish().ok() && n == 500) ok++;
          break;
        }
        case 2: {
          EchoResponse resp;
          auto w = stub->ClientStream(&ctx, &resp);
          for (int i = 0; i < 500; ++i) w->Write(req);
          w->WritesDone();
          if (w->Finish().ok() && resp.received_messages() == 500) ok++;
          break;
        }
        default: {
          auto st = stub->Bidi(&ctx);
          int n = 0;
          for (int i = 0; i < 500; ++i) {
            EchoResponse resp;
            if (!st->Write(req) || !st->Read(&resp)) break;
            n++;
          }
          st->WritesDone();
          if (st->Finish().ok() && n == 500) ok++;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 8);
}

}  // namespace
}  // namespace sytest
