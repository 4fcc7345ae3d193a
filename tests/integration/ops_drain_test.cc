// SIGTERM drain: in-flight streams finish, new connections are refused, /ready
// fails, the daemon exits 0 within drain_timeout; streams longer than the
// timeout are cut with a status; a second signal exits at once.
#include "ops_support.h"

namespace sytest::ops {
namespace {

using switchyard::test::EchoRequest;
using switchyard::test::EchoResponse;

class OpsDrainTest : public OpsTest {
 protected:
  // Starts one backend and the daemon with the given drain_timeout.
  void StartWithDrainTimeout(const std::string& drain_timeout) {
    Backend& b = StartBackend("backend-a");
    ASSERT_NO_FATAL_FAILURE(StartProxyWith(DefaultConfig({&b}), "drain_timeout: " + drain_timeout + "\n"));
  }

  // A server stream of count messages, interval_ms apart.
  struct Stream {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<switchyard::test::Echo::Stub> stub;
    grpc::ClientContext ctx;
    std::unique_ptr<grpc::ClientReader<EchoResponse>> reader;
    std::vector<int64_t> seqs;
  };
  std::unique_ptr<Stream> OpenStream(int count, int interval_ms, std::chrono::milliseconds deadline) {
    auto s = std::make_unique<Stream>();
    s->channel = MakeChannel(proxy_address());
    s->stub = switchyard::test::Echo::NewStub(s->channel);
    s->ctx.set_deadline(In(deadline));
    EchoRequest req;
    req.set_count(count);
    req.set_interval_ms(interval_ms);
    s->reader = s->stub->ServerStream(&s->ctx, req);
    return s;
  }
  // Reads up to n messages; returns how many arrived.
  static int ReadN(Stream& s, int n) {
    EchoResponse msg;
    int got = 0;
    while (got < n && s.reader->Read(&msg)) {
      s.seqs.push_back(msg.seq());
      ++got;
    }
    return got;
  }
  static void ReadAll(Stream& s) { ReadN(s, 1 << 30); }

  bool ReadyIs503Draining() {
    HttpResponse r = Admin("/ready");
    return r.status == 503 && r.body.find("draining") != std::string::npos;
  }
};

// SIGTERM mid-stream: /ready turns 503 at once, new connections are refused,
// the stream still delivers all 50 messages with OK, and the daemon exits 0
// before drain_timeout because the last connection closed.
TEST_F(OpsDrainTest, DrainLetsStreamFinishAndRefusesNewConnections) {
  ASSERT_NO_FATAL_FAILURE(StartWithDrainTimeout("10s"));
  HttpResponse ready = Admin("/ready");
  ASSERT_EQ(ready.status, 200) << ready.body;

  auto stream = OpenStream(50, 50, 30000ms);
  ASSERT_EQ(ReadN(*stream, 5), 5) << "stream did not start";

  proxy_->signal(SIGTERM);
  const auto term = Clock::now();
  // /ready must fail right away (first poll within ~100 ms), not at exit.
  bool not_ready = WaitUntil([&] { return ReadyIs503Draining(); }, 2000ms, 20ms);
  EXPECT_TRUE(not_ready) << "/ready did not answer 503 draining after SIGTERM: " << Admin("/ready").status;
  EXPECT_LT(Ms(Clock::now() - term), 1000) << "/ready took too long to fail";

  bool refused = WaitUntil(
      [&] {
        int fd = ConnectTcp(proxy_address(), 500ms);
        if (fd >= 0) ::close(fd);
        return fd < 0;
      },
      2000ms, 20ms);
  EXPECT_TRUE(refused) << "new TCP connections are still accepted during the drain";
  {
    auto fresh = switchyard::test::Echo::NewStub(MakeChannel(proxy_address()));
    grpc::Status s = EchoUnary(fresh.get(), nullptr, 2000ms);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << "an RPC on a new connection: " << s.error_message();
  }

  ReadAll(*stream);
  grpc::Status s = stream->reader->Finish();
  EXPECT_TRUE(s.ok()) << "stream cut by the drain: " << s.error_code() << " " << s.error_message();
  ASSERT_EQ(stream->seqs.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(stream->seqs[i], i);

  // The client keeps its channel; the daemon must still finish the drain.
  auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(term + 10000ms - Clock::now());
  auto code = WaitProxyExit(std::max(remaining, 0ms) + 500ms);
  ASSERT_TRUE(code.has_value()) << "switchyard still running " << Ms(Clock::now() - term)
                                << " ms after SIGTERM (drain_timeout 10s)";
  EXPECT_EQ(*code, 0);
  EXPECT_EQ(ProxyErr().find("drain_timeout passed"), std::string::npos)
      << "the drain ran into drain_timeout although every RPC had finished";
}

// drain_timeout 1s with a 10 s stream: the client gets UNAVAILABLE instead of
// hanging, and the daemon exits 0 about a second after the timeout.
TEST_F(OpsDrainTest, DrainTimeoutCutsLongStreamWithStatus) {
  ASSERT_NO_FATAL_FAILURE(StartWithDrainTimeout("1s"));
  auto stream = OpenStream(100, 100, 30000ms);
  ASSERT_EQ(ReadN(*stream, 3), 3) << "stream did not start";

  proxy_->signal(SIGTERM);
  const auto term = Clock::now();
  ReadAll(*stream);
  grpc::Status s = stream->reader->Finish();
  const auto ended = Clock::now();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << "status after drain_timeout: " << s.error_code()
                                                             << " " << s.error_message();
  EXPECT_LT(stream->seqs.size(), 100u) << "the stream was not cut";
  // 1 s timeout, documented extra second, and slack for a loaded host.
  EXPECT_LT(Ms(ended - term), 3500) << "the client waited too long for the cut stream to end";

  auto left = 3500ms - std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - term);
  auto code = WaitProxyExit(std::max(left, 0ms));
  ASSERT_TRUE(code.has_value()) << "switchyard still running " << Ms(Clock::now() - term)
                                << " ms after SIGTERM with drain_timeout 1s";
  EXPECT_EQ(*code, 0);
  EXPECT_GE(Ms(Clock::now() - term), 900) << "exited before drain_timeout although a stream was open";
}

// A second SIGTERM during a drain ends the process at once instead of
// waiting out drain_timeout (30 s here), and the open stream ends with a status.
TEST_F(OpsDrainTest, SecondSignalExitsImmediately) {
  ASSERT_NO_FATAL_FAILURE(StartWithDrainTimeout("30s"));
  auto stream = OpenStream(100, 100, 30000ms);
  ASSERT_EQ(ReadN(*stream, 3), 3) << "stream did not start";

  proxy_->signal(SIGTERM);
  ASSERT_TRUE(WaitUntil([&] { return ReadyIs503Draining(); }, 2000ms, 20ms)) << "drain did not start";
  EXPECT_TRUE(proxy_->running());
  proxy_->signal(SIGTERM);
  const auto second = Clock::now();
  auto code = WaitProxyExit(2000ms);
  ASSERT_TRUE(code.has_value()) << "switchyard still running 2 s after the second SIGTERM";
  EXPECT_EQ(*code, 0);

  ReadAll(*stream);
  grpc::Status s = stream->reader->Finish();
  EXPECT_FALSE(s.ok()) << "a 10 s stream cannot have completed";
  EXPECT_LT(Ms(Clock::now() - second), 4000) << "the client hung after the daemon exited";
}

}  // namespace
}  // namespace sytest::ops
