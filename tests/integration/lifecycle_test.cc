// Daemon lifecycle: SIGTERM drains in-flight RPCs and then exits cleanly.
#include <csignal>
#include <thread>

#include "harness.h"

namespace sytest {
namespace {

using switchyard::test::EchoRequest;
using switchyard::test::EchoResponse;

class LifecycleTest : public ProxyTest {};

// An RPC in flight when SIGTERM arrives still completes OK, and the daemon
// then exits with status 0 well before the drain timeout.
TEST_F(LifecycleTest, SigtermDrainsInFlightRpcThenExitsZero) {
  Backend& b = StartBackend("backend-a");
  StartProxy(DefaultConfig({&b}));
  auto stub = EchoStub();
  grpc::Status status;
  EchoResponse resp;
  std::thread call([&] {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(20s));
    EchoRequest req;
    req.set_sleep_ms(1000);
    req.set_payload("in flight");
    status = stub->Unary(&ctx, req, &resp);
  });
  ASSERT_TRUE(WaitUntil([&] { return b.Stats().active() == 1; }, 5000ms)) << "call never reached the backend";
  proxy()->signal(SIGTERM);
  call.join();
  EXPECT_TRUE(status.ok()) << "in-flight RPC broken by SIGTERM: " << status.error_code() << ": "
                           << status.error_message();
  EXPECT_EQ(resp.payload(), "in flight");
  stub.reset();  // drop the idle connection so the drain has nothing to wait for
  auto code = proxy()->waitExit(10000ms);
  ASSERT_TRUE(code.has_value()) << "switchyard still running 10 s after SIGTERM with nothing in flight";
  EXPECT_EQ(*code, 0) << "stderr:\n" << proxy()->err();
  proxy_.reset();
}

}  // namespace
}  // namespace sytest
