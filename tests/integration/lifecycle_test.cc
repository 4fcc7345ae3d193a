// Daemon lifecycle: SIGTERM drains in-flight RPCs and then exits cleanly.
#include <csignal>
#include <sstream>
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

// The demo client (used by scripts/demo.sh) shows Greeter calls alternating
// between two backends through the proxy.
TEST_F(LifecycleTest, DemoClientShowsCallsAlternating) {
  Backend& a = StartBackend("backend-a");
  Backend& b = StartBackend("backend-b");
  ProxyConfig c = DefaultConfig({&a, &b});
  c.routes = {{"helloworld.Greeter", "", "", "echo", "", ""}};
  StartProxy(c);
  CommandResult r = RunCommand({DemoClientBinary(), "--target", proxy_address(), "--count", "6"}, dir_.path(), 30000ms);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  std::vector<std::string> who;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    auto pos = line.find("[x-backend: ");
    if (pos != std::string::npos) who.push_back(line.substr(pos + 12, line.find(']', pos) - pos - 12));
  }
  ASSERT_EQ(who.size(), 6u) << r.out;
  for (size_t i = 1; i < who.size(); ++i) EXPECT_NE(who[i], who[i - 1]) << "calls did not alternate:\n" << r.out;
}

}  // namespace
}  // namespace sytest
