// End-to-end flow control: a client that stops reading a fast stream must
// push back through the proxy to the backend instead of making the proxy
// buffer the stream.
#include <algorithm>
#include <atomic>
#include <csignal>
#include <thread>

#include "harness.h"

namespace sytest {
namespace {

using switchyard::test::EchoRequest;
using switchyard::test::EchoResponse;

class FlowControlTest : public ProxyTest {
 protected:
  void SetUp() override {
    backend_ = &StartBackend("backend-a");
    StartProxy(DefaultConfig({backend_}));
  }
  Backend* backend_ = nullptr;
};

// 256 MiB server stream (4096 x 64 KiB) to a client that pauses reading for
// 3 s: proxy RSS grows by less than 64 MiB while paused, and afterwards the
// whole stream arrives intact.
TEST_F(FlowControlTest, SlowReaderKeepsProxyMemoryBounded) {
  constexpr int kMessages = 4096;
  constexpr int kSize = 64 * 1024;
  constexpr long kMaxGrowthKb = 64 * 1024;
  auto stub = EchoStub();
  {  // warm up the proxy's connections and allocator
    grpc::ClientContext ctx;
    ctx.set_deadline(In(10s));
    EchoRequest req;
    req.set_count(64);
    req.set_response_size(kSize);
    auto r = stub->ServerStream(&ctx, req);
    EchoResponse resp;
    while (r->Read(&resp)) {
    }
    ASSERT_TRUE(r->Finish().ok());
  }
  const long baseline = ReadRssKb(proxy_pid());
  ASSERT_GT(baseline, 0);

  grpc::ClientContext ctx;
  ctx.set_deadline(In(100s));
  EchoRequest req;
  req.set_count(kMessages);
  req.set_response_size(kSize);
  auto r = stub->ServerStream(&ctx, req);
  EchoResponse resp;
  int n = 0;
  int bad = 0;
  auto check = [&] {
    if (resp.seq() != n || resp.payload().size() != static_cast<size_t>(kSize) ||
        resp.payload() != Pattern(kSize, n)) {
      bad++;
    }
    n++;
  };
  for (int i = 0; i < 16 && r->Read(&resp); ++i) check();
  ASSERT_EQ(n, 16);

  // Paused: sample the proxy's RSS while the backend would happily send all
  // 256 MiB.
  long peak_paused = baseline;
  auto pause_until = Clock::now() + 3s;
  for (int i = 0; i < 1000 && Clock::now() < pause_until; ++i) {
    peak_paused = std::max(peak_paused, ReadRssKb(proxy_pid()));
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_LT(peak_paused - baseline, kMaxGrowthKb)
      << "proxy RSS grew from " << baseline << " KiB to " << peak_paused << " KiB while the client was paused";

  long peak_after = peak_paused;
  while (r->Read(&resp)) {
    check();
    if (n % 256 == 0) peak_after = std::max(peak_after, ReadRssKb(proxy_pid()));
  }
  grpc::Status s = r->Finish();
  ASSERT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message() << " after " << n << " messages";
  EXPECT_EQ(n, kMessages);
  EXPECT_EQ(bad, 0);
  std::cout << "proxy RSS: baseline " << baseline << " KiB, peak while paused " << peak_paused
            << " KiB, peak while draining " << peak_after << " KiB\n";
}

// Same in the other direction: a backend that reads a client stream slowly
// (it sleeps before reading anything) must not make the proxy buffer what the
// client pushes.
TEST_F(FlowControlTest, SlowBackendKeepsProxyMemoryBoundedOnClientStream) {
  constexpr long kMaxGrowthKb = 64 * 1024;
  auto stub = EchoStub();
  const long baseline = ReadRssKb(proxy_pid());
  ASSERT_GT(baseline, 0);
  // The backend's ClientStream handler reads everything before answering, so
  // make it slow by stopping the backend process for a while instead.
  grpc::ClientContext ctx;
  ctx.set_deadline(In(100s));
  EchoResponse resp;
  auto writer = stub->ClientStream(&ctx, &resp);
  std::atomic<int> written{0};
  std::atomic<bool> done{false};
  const std::string chunk(64 * 1024, 'w');
  std::thread producer([&] {
    EchoRequest req;
    req.set_payload(chunk);
    for (int i = 0; i < 2048; ++i) {  // 128 MiB
      if (!writer->Write(req)) break;
      written++;
    }
    writer->WritesDone();
    done = true;
  });
  ASSERT_TRUE(WaitUntil([&] { return written.load() > 8; }, 10000ms));
  backend_->process->signal(SIGSTOP);
  long peak = baseline;
  auto until = Clock::now() + 3s;
  for (int i = 0; i < 1000 && Clock::now() < until; ++i) {
    peak = std::max(peak, ReadRssKb(proxy_pid()));
    std::this_thread::sleep_for(50ms);
  }
  int written_while_stopped = written.load();
  backend_->process->signal(SIGCONT);
  EXPECT_LT(peak - baseline, kMaxGrowthKb) << "proxy RSS grew from " << baseline << " KiB to " << peak
                                           << " KiB while the backend was stopped";
  EXPECT_LT(written_while_stopped, 2048) << "client could write everything with the backend stopped";
  producer.join();
  grpc::Status s = writer->Finish();
  ASSERT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
  EXPECT_EQ(resp.received_messages(), 2048);
  EXPECT_EQ(resp.received_bytes(), 2048LL * 64 * 1024);
}

}  // namespace
}  // namespace sytest
