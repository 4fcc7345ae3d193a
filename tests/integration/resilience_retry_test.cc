// Failures the client must not see (transparent retries of attempts that never
// reached a backend, per-route retry policy) and the one it must see quickly
// (every endpoint down).
#include "resilience_support.h"

namespace sytest::resilience {
namespace {

class ResilienceRetryTest : public ResilienceTest {
 protected:
  // A loopback address where nothing listens (connect is refused at once),
  // held closed until the test ends.
  std::string RefusingAddress() {
    closed_.push_back(std::make_unique<sytest::ClosedPort>());
    return closed_.back()->address();
  }
  std::vector<std::unique_ptr<sytest::ClosedPort>> closed_;
};

// Every endpoint refuses connections: each call fails with UNAVAILABLE at once
// (not a timeout), and the message names the cluster or an endpoint.
TEST_F(ResilienceRetryTest, AllEndpointsDownFailsFastWithUnavailable) {
  const std::string p1 = RefusingAddress();
  const std::string p2 = RefusingAddress();
  ASSERT_NO_FATAL_FAILURE(Start(Config({p1, p2})));

  auto calls = Sequential(20, 5000ms);
  for (const auto& call : calls) {
    EXPECT_EQ(call.code, grpc::StatusCode::UNAVAILABLE) << Describe(call);
    // Generous (sanitizer builds): refused at once, not after the 5 s deadline.
    EXPECT_LT(call.ms(), 1000) << "not answered promptly: " << Describe(call);
    bool named = call.message.find(kCluster) != std::string::npos || call.message.find(p1) != std::string::npos ||
                 call.message.find(p2) != std::string::npos;
    EXPECT_TRUE(named) << "message names neither the cluster nor an endpoint: " << Describe(call);
  }
}

// A backend that resets every new stream with REFUSED_STREAM, next to a good
// one: 100 calls, no error reaches the client, the good backend answers all,
// and the refusing server really was tried (the retries were needed).
TEST_F(ResilienceRetryTest, RefusedStreamsAreRetriedTransparently) {
  RefusingH2Server refuser;
  Backend& good = StartBackend("good");
  // Outlier ejection off: the refusing endpoint stays in rotation throughout.
  ASSERT_NO_FATAL_FAILURE(Start(Config({refuser.address(), good.address}, {"outlier_detection: { enabled: false }"})));

  constexpr int kThreads = 4;
  std::vector<std::vector<Call>> per_thread(kThreads);
  {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        auto channel = MakeChannel(proxy_address());
        Connect(channel);
        auto stub = switchyard::test::Echo::NewStub(channel);
        for (int i = 0; i < 25; ++i) per_thread[static_cast<size_t>(t)].push_back(UnaryCall(stub.get(), 5000ms));
      });
    }
    for (auto& th : threads) th.join();
  }
  std::vector<Call> calls;
  for (auto& v : per_thread) calls.insert(calls.end(), v.begin(), v.end());
  ASSERT_EQ(calls.size(), 100u);
  auto failures = Failed(calls);
  EXPECT_TRUE(failures.empty()) << failures.size() << " of 100 calls failed:" << DescribeAll(failures);
  EXPECT_EQ(AnsweredBy(calls, "good"), calls.size() - failures.size());
  EXPECT_EQ(good.Calls("Unary"), 100);
  EXPECT_GE(refuser.Refused(), 30) << "the refusing server was hardly tried; the test proves nothing";
}

// Cluster [closed port, good backend] without health checks: all 50 calls
// succeed, the failed connects being retried on the good backend.
TEST_F(ResilienceRetryTest, ConnectFailureIsRetriedTransparently) {
  const std::string closed = RefusingAddress();
  Backend& good = StartBackend("good");
  ASSERT_NO_FATAL_FAILURE(Start(Config({closed, good.address}, {"outlier_detection: { enabled: false }"})));

  auto calls = Sequential(50, 5000ms);
  auto failures = Failed(calls);
  EXPECT_TRUE(failures.empty()) << failures.size() << " of 50 calls failed:" << DescribeAll(failures);
  EXPECT_EQ(AnsweredBy(calls, "good"), 50u);
  EXPECT_EQ(good.Calls("Unary"), 50);
}

// Route retry policy (retry_on UNAVAILABLE, max_attempts 3) over one backend
// that always answers UNAVAILABLE Trailers-Only and one good one: every call
// succeeds; only retried attempts carry grpc-previous-rpc-attempts.
TEST_F(ResilienceRetryTest, RetryPolicyRetriesUnavailableOnAnotherEndpoint) {
  ScriptedEcho failing("failing", ScriptedEcho::Mode::UnavailableTrailersOnly);
  ScriptedEcho good("good", ScriptedEcho::Mode::Ok);
  ASSERT_NO_FATAL_FAILURE(Start(Config({failing.address(), good.address()}, {"outlier_detection: { enabled: false }"}),
                                {"retry: { retry_on: [UNAVAILABLE], max_attempts: 3 }"}));

  // One after the other, so the retry budget (min_retry_concurrency) never binds.
  auto calls = Sequential(40, 5000ms);
  auto failures = Failed(calls);
  EXPECT_TRUE(failures.empty()) << failures.size() << " of 40 calls failed despite the retry policy:"
                                << DescribeAll(failures);
  EXPECT_EQ(AnsweredBy(calls, "good"), 40u);

  auto failing_seen = failing.PreviousAttempts();
  auto good_seen = good.PreviousAttempts();
  EXPECT_GE(failing_seen.size(), 10u) << "the failing backend was hardly tried; the test proves nothing";
  for (const auto& v : failing_seen) {
    EXPECT_EQ(v, "") << "a first attempt carried grpc-previous-rpc-attempts";
  }
  EXPECT_EQ(good_seen.size(), 40u);
  size_t retried = std::count(good_seen.begin(), good_seen.end(), "1");
  size_t first = std::count(good_seen.begin(), good_seen.end(), "");
  EXPECT_EQ(retried, failing_seen.size()) << "every call that failed on 'failing' must reach 'good' as retry #1";
  EXPECT_EQ(retried + first, good_seen.size()) << "unexpected grpc-previous-rpc-attempts values on 'good'";
}

// A request that spans several of the proxy's 16 KiB buffer blocks (48 KiB,
// inside the default 64 KiB retry_buffer) is sent whole to the failing
// backend, which reads it and answers UNAVAILABLE; the policy retry replays
// the kept bytes, and the good backend must echo exactly the bytes the
// client sent, for every call.
TEST_F(ResilienceRetryTest, RetryPolicyReplaysALargeRequestByteForByte) {
  ScriptedEcho failing("failing", ScriptedEcho::Mode::UnavailableTrailersOnly);
  ScriptedEcho good("good", ScriptedEcho::Mode::Ok);
  ASSERT_NO_FATAL_FAILURE(Start(Config({failing.address(), good.address()}, {"outlier_detection: { enabled: false }"}),
                                {"retry: { retry_on: [UNAVAILABLE], max_attempts: 3 }"}));

  auto channel = MakeChannel(proxy_address());
  ASSERT_TRUE(Connect(channel));
  auto stub = switchyard::test::Echo::NewStub(channel);
  for (int i = 0; i < 24; ++i) {
    std::string payload(48 * 1024 + i * 500, '\0');
    for (size_t k = 0; k < payload.size(); ++k) payload[k] = static_cast<char>('a' + (k * 31 + i) % 26);
    grpc::ClientContext ctx;
    ctx.set_deadline(In(5000ms));
    EchoRequest req;
    req.set_payload(payload);
    EchoResponse resp;
    grpc::Status st = stub->Unary(&ctx, req, &resp);
    ASSERT_TRUE(st.ok()) << "call " << i << ": " << st.error_code() << " " << st.error_message();
    EXPECT_EQ(resp.backend(), "good");
    ASSERT_EQ(resp.payload().size(), payload.size()) << "call " << i;
    EXPECT_TRUE(resp.payload() == payload) << "call " << i << ": the replayed request was altered";
  }
  EXPECT_GE(failing.Calls(), 5u) << "the failing backend was hardly tried; no replay was tested";
  EXPECT_EQ(good.Calls(), 24u);
}

// Past the cluster's retry_buffer the proxy keeps nothing to replay: the
// failing backend's UNAVAILABLE reaches the client instead of a retry that
// would send a request without its body.
TEST_F(ResilienceRetryTest, RequestLargerThanTheRetryBufferIsNotRetried) {
  ScriptedEcho failing("failing", ScriptedEcho::Mode::UnavailableTrailersOnly);
  ScriptedEcho good("good", ScriptedEcho::Mode::Ok);
  ASSERT_NO_FATAL_FAILURE(Start(Config({failing.address(), good.address()},
                                       {"outlier_detection: { enabled: false }", "retry_buffer: 16KiB"}),
                                {"retry: { retry_on: [UNAVAILABLE], max_attempts: 3 }"}));

  auto channel = MakeChannel(proxy_address());
  ASSERT_TRUE(Connect(channel));
  auto stub = switchyard::test::Echo::NewStub(channel);
  size_t unavailable = 0;
  for (int i = 0; i < 24; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(5000ms));
    EchoRequest req;
    req.set_payload(std::string(40 * 1024, 'x'));
    EchoResponse resp;
    grpc::Status st = stub->Unary(&ctx, req, &resp);
    if (st.ok()) {
      EXPECT_EQ(resp.payload().size(), 40u * 1024) << "call " << i;
      continue;
    }
    ++unavailable;
    EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE) << st.error_message();
    EXPECT_NE(st.error_message().find("failing on purpose"), std::string::npos) << st.error_message();
  }
  EXPECT_GE(unavailable, 5u) << "the failing backend was hardly tried";
  EXPECT_EQ(unavailable, failing.Calls()) << "a call over retry_buffer was sent again";
  for (const auto& v : good.PreviousAttempts()) EXPECT_EQ(v, "") << "a retry reached the good backend";
}

// The same two backends without a retry policy: some calls fail with the
// backend's UNAVAILABLE, which shows the policy is what hides them above.
TEST_F(ResilienceRetryTest, WithoutRetryPolicyUnavailableReachesClient) {
  ScriptedEcho failing("failing", ScriptedEcho::Mode::UnavailableTrailersOnly);
  ScriptedEcho good("good", ScriptedEcho::Mode::Ok);
  ASSERT_NO_FATAL_FAILURE(Start(Config({failing.address(), good.address()}, {"outlier_detection: { enabled: false }"})));

  auto calls = Sequential(40, 5000ms);
  auto failures = Failed(calls);
  EXPECT_GE(failures.size(), 10u) << "without a retry policy the failing backend's answers must reach the client";
  for (const auto& f : failures) {
    EXPECT_EQ(f.code, grpc::StatusCode::UNAVAILABLE) << Describe(f);
    EXPECT_NE(f.message.find("failing on purpose"), std::string::npos) << "not the backend's status: " << Describe(f);
  }
  EXPECT_EQ(failures.size(), failing.Calls()) << "each call on 'failing' fails exactly once, with no retry";
  for (const auto& v : good.PreviousAttempts()) EXPECT_EQ(v, "");
}

}  // namespace
}  // namespace sytest::resilience
