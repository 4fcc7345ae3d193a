// lb: least_request through the daemon: with one slow and one fast backend
// under concurrent load, the slow one gets fewer RPCs than round_robin gives it.
#include <atomic>
#include <iostream>
#include <map>
#include <thread>

#include "harness.h"

namespace sytest {
namespace {

using switchyard::test::EchoRequest;
using switchyard::test::EchoResponse;

class LeastRequestTest : public ProxyTest {
 protected:
  // RPCs the slow backend served out of kThreads x kPerThread concurrent calls.
  int64_t SlowShare(const std::string& lb) {
    Backend& fast = StartBackend("fast");
    backend_args_ = {"--unary-delay-ms", "100"};
    Backend& slow = StartBackend("slow");
    backend_args_.clear();
    ProxyConfig c = DefaultConfig({&fast, &slow});
    c.clusters[0].extra.push_back("lb: " + lb);
    StartProxy(c);
    auto stub = EchoStub();  // one connection: one worker sees all the load
    constexpr int kThreads = 8;
    constexpr int kPerThread = 25;
    std::atomic<int> failed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < kPerThread; ++i) {
          grpc::ClientContext ctx;
          ctx.set_deadline(In(20s));
          EchoResponse resp;
          if (!stub->Unary(&ctx, EchoRequest(), &resp).ok()) ++failed;
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failed.load(), 0);
    EXPECT_EQ(fast.Calls("Unary") + slow.Calls("Unary"), kThreads * kPerThread);
    std::cout << "lb: " << lb << ": the slow backend served " << slow.Calls("Unary") << " of "
              << kThreads * kPerThread << " RPCs\n";
    return slow.Calls("Unary");
  }
};

TEST_F(LeastRequestTest, RoundRobinSplitsEvenly) {
  int64_t slow = SlowShare("round_robin");
  EXPECT_NEAR(slow, 100, 10);
}

TEST_F(LeastRequestTest, LeastRequestSendsFewerToTheSlowBackend) {
  int64_t slow = SlowShare("least_request");
  // Round robin gives the slow backend half (100 of 200); least_request keeps
  // it to about one in-flight RPC while the fast one drains the rest.
  EXPECT_LT(slow, 60) << "slow backend served " << slow << " of 200";
}

}  // namespace
}  // namespace sytest
