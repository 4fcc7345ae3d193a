// Deadlines and cancellation: the client's grpc-timeout, the route's default
// and max timeouts, and client cancellation all end the call at the backend.
#include "harness.h"

namespace sytest {
namespace {

using switchyard::test::EchoRequest;
using switchyard::test::EchoResponse;

class DeadlineTest : public ProxyTest {
 protected:
  void SetUp() override { backend_ = &StartBackend("backend-a"); }
  // Echo routed to the backend with the given route timeouts ("" = unset).
  void StartWithRouteTimeouts(const std::string& timeout_default, const std::string& timeout_max) {
    ProxyConfig c = DefaultConfig({backend_});
    c.routes.front().timeout_default = timeout_default;
    c.routes.front().timeout_max = timeout_max;
    StartProxy(c);
  }
  // Waits (bounded) until the backend has counted at least n cancelled calls
  // and none is still running.
  bool BackendSawCancellation(int64_t n = 1) {
    return WaitUntil(
        [&] {
          auto st = backend_->Stats();
          return st.cancellations() >= n && st.active() == 0;
        },
        3000ms, 20ms);
  }
  static int64_t Ms(Clock::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

  // A unary call the backend works on for sleep_ms, with the given client
  // deadline (0 = none), timed from the client's side.
  struct TimedCall {
    grpc::Status status;
    int64_t ms = 0;
  };
  TimedCall SlowUnary(std::chrono::milliseconds deadline, int sleep_ms) {
    auto stub = EchoStub();
    grpc::ClientContext ctx;
    if (deadline.count() > 0) ctx.set_deadline(In(deadline));
    EchoRequest req;
    req.set_sleep_ms(sleep_ms);
    EchoResponse resp;
    auto start = Clock::now();
    TimedCall t;
    t.status = stub->Unary(&ctx, req, &resp);
    t.ms = Ms(Clock::now() - start);
    return t;
  }

  Backend* backend_ = nullptr;
};

// A client deadline shorter than the backend's work ends the call with
// DEADLINE_EXCEEDED on time, and the backend's handler is cancelled.
TEST_F(DeadlineTest, ClientDeadlineExceededAgainstSlowBackend) {
  StartWithRouteTimeouts("", "");
  // Sanitizer builds stretch the times, so the call still reaches the
  // backend before its deadline passes.
  const auto deadline = std::chrono::milliseconds(static_cast<int>(300 * kSanitizerSlack));
  TimedCall c = SlowUnary(deadline, 5000 * static_cast<int>(kSanitizerSlack));
  EXPECT_EQ(c.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << c.status.error_message();
  // Generous bound (loaded CI): ended by the deadline, not by the backend's
  // answer after 5 s.
  EXPECT_LT(c.ms, 2500 * kSanitizerSlack) << "DEADLINE_EXCEEDED did not end the call at the deadline";
  EXPECT_TRUE(BackendSawCancellation()) << "backend handler was not cancelled; stats: "
                                        << backend_->Stats().ShortDebugString();
}

// The client's deadline is forwarded: the backend sees at most the time the
// client allowed (grpc-timeout propagated, not dropped or extended).
TEST_F(DeadlineTest, ClientDeadlinePropagatesToBackend) {
  StartWithRouteTimeouts("", "30s");
  auto stub = EchoStub();
  grpc::ClientContext ctx;
  ctx.set_deadline(In(2000ms));
  EchoRequest req;
  EchoResponse resp;
  grpc::Status s = stub->Unary(&ctx, req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
  auto st = backend_->Stats();
  EXPECT_GT(st.last_deadline_remaining_ms(), 0) << "backend saw no deadline";
  EXPECT_LE(st.last_deadline_remaining_ms(), 2000);
}

// With no client deadline, the route's default timeout ends the call with
// DEADLINE_EXCEEDED (an explicit grpc-status 4, not an HTTP error) and cancels
// the backend.
TEST_F(DeadlineTest, RouteDefaultTimeoutAppliesWithoutClientDeadline) {
  StartWithRouteTimeouts("300ms", "");
  TimedCall c = SlowUnary(0ms, 5000);  // no client deadline
  EXPECT_EQ(c.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << c.status.error_message();
  EXPECT_GE(c.ms, 250) << "ended before the route default timeout";
  EXPECT_LT(c.ms, 2500) << "route default timeout (300 ms) not enforced before the backend's 5 s answer";
  EXPECT_TRUE(BackendSawCancellation()) << "backend handler was not cancelled; stats: "
                                        << backend_->Stats().ShortDebugString();
}

// A client deadline longer than the route's max is capped: the backend sees
// at most max remaining, and a slow call ends with DEADLINE_EXCEEDED at max.
TEST_F(DeadlineTest, RouteMaxCapsLongerClientDeadline) {
  StartWithRouteTimeouts("", "500ms");
  auto stub = EchoStub();
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(30s));
    EchoRequest req;
    EchoResponse resp;
    grpc::Status s = stub->Unary(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
    auto st = backend_->Stats();
    EXPECT_GT(st.last_deadline_remaining_ms(), 0) << "backend saw no deadline at all";
    EXPECT_LE(st.last_deadline_remaining_ms(), 500) << "backend saw the client's 30 s instead of the route max";
  }
  TimedCall c = SlowUnary(30000ms, 5000);
  EXPECT_EQ(c.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << c.status.error_message();
  EXPECT_LT(c.ms, 2500) << "route max (500 ms) not enforced before the backend's 5 s answer";
  EXPECT_TRUE(BackendSawCancellation());
}

// A deadline that passes in the middle of a server stream ends the stream
// with DEADLINE_EXCEEDED after some messages, and cancels the backend.
TEST_F(DeadlineTest, DeadlineEndsServerStreamMidway) {
  StartWithRouteTimeouts("", "");
  auto stub = EchoStub();
  grpc::ClientContext ctx;
  // Stretched in sanitizer builds: some messages arrive before the deadline.
  ctx.set_deadline(In(std::chrono::milliseconds(static_cast<int>(500 * kSanitizerSlack))));
  EchoRequest req;
  req.set_count(1000);
  req.set_interval_ms(20);
  auto r = stub->ServerStream(&ctx, req);
  EchoResponse resp;
  int n = 0;
  while (r->Read(&resp)) n++;
  grpc::Status s = r->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << s.error_message();
  EXPECT_GT(n, 0);
  EXPECT_LT(n, 1000);
  EXPECT_TRUE(BackendSawCancellation());
}

// ClientContext::TryCancel in the middle of a server stream reaches the
// backend: its handler observes cancellation within a bounded wait.
TEST_F(DeadlineTest, ClientCancelMidServerStreamReachesBackend) {
  StartWithRouteTimeouts("", "");
  auto stub = EchoStub();
  grpc::ClientContext ctx;
  ctx.set_deadline(In(60s));
  EchoRequest req;
  req.set_count(100000);
  req.set_interval_ms(10);
  auto r = stub->ServerStream(&ctx, req);
  EchoResponse resp;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(r->Read(&resp));
  ctx.TryCancel();
  for (int i = 0; i < 200000 && r->Read(&resp); ++i) {
  }
  grpc::Status s = r->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(BackendSawCancellation()) << "backend never saw the cancel; stats: "
                                        << backend_->Stats().ShortDebugString();
}

// TryCancel on a bidi stream that the backend is waiting on also reaches it.
TEST_F(DeadlineTest, ClientCancelMidBidiReachesBackend) {
  StartWithRouteTimeouts("", "");
  auto stub = EchoStub();
  grpc::ClientContext ctx;
  ctx.set_deadline(In(60s));
  auto stream = stub->Bidi(&ctx);
  EchoRequest req;
  req.set_value(1);
  EchoResponse resp;
  ASSERT_TRUE(stream->Write(req));
  ASSERT_TRUE(stream->Read(&resp));
  ASSERT_TRUE(WaitUntil([&] { return backend_->Stats().active() == 1; }, 2000ms));
  ctx.TryCancel();
  grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(BackendSawCancellation()) << "backend never saw the cancel; stats: "
                                        << backend_->Stats().ShortDebugString();
}

}  // namespace
}  // namespace sytest
