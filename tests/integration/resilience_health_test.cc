// Health-checked backends under load: a killed backend, a backend flipping to
// NOT_SERVING (Check and Watch), a graceful backend shutdown, a black-holed
// backend, and a cluster with no healthy endpoint left.
#include <algorithm>
#include <csignal>

#include "resilience_support.h"

namespace sytest::resilience {
namespace {

class ResilienceHealthTest : public ResilienceTest {
 protected:
  // Flips one of two backends to NOT_SERVING and back while clients keep
  // calling; see the two tests below.
  void NotServingLeavesAndRejoins(const std::string& mode);
};

// SIGKILL of one of two backends under load: only the calls in flight on it
// fail, all with UNAVAILABLE and none hangs; within interval x
// unhealthy_threshold + 1 s every call succeeds again; restarted on the same
// port it passes its checks and takes about half of the traffic again.
TEST_F(ResilienceHealthTest, KilledBackendFailsOnlyInFlightCallsAndRejoinsAfterRestart) {
  Backend& a = StartBackend("a");
  Backend& b = StartBackend("b");
  const std::string b_address = b.address;
  // Outlier ejection off: active checks alone decide here (an ejection would
  // keep the restarted backend out for base_ejection_time).
  ASSERT_NO_FATAL_FAILURE(Start(Config({a.address, b.address}, {HealthCheck(), "outlier_detection: { enabled: false }"})));

  constexpr int kThreads = 4;
  Load load(proxy_address(), kThreads, /*sleep_ms=*/20, /*deadline=*/3000ms);
  ASSERT_TRUE(load.WaitForMore(60, 10000ms)) << "load did not get going";
  ASSERT_GT(b.Calls("Unary"), 0) << "backend b took no traffic before the kill";

  b.process->signal(SIGKILL);
  ASSERT_TRUE(b.process->waitExit(5000ms).has_value()) << "backend b did not die";
  const auto killed = Clock::now();
  EXPECT_TRUE(WaitForHealth(b_address, "unhealthy", 3000ms))
      << "the killed backend was not marked unhealthy: " << ClustersText();
  // Keep the load on past the recovery window, until enough calls started after it.
  const auto recovered_by = killed + kUnhealthyWithin + 1000ms;
  auto started_after_recovery = [&] {
    auto all = load.Calls();
    return std::count_if(all.begin(), all.end(), [&](const Call& c) { return c.start >= recovered_by; });
  };
  ASSERT_TRUE(WaitUntil([&] { return started_after_recovery() > 20; }, 15000ms, 20ms))
      << "the load stalled after the kill";
  load.Stop();

  auto calls = load.Calls();
  auto failures = Failed(calls);
  for (const auto& f : failures) {
    EXPECT_EQ(f.code, grpc::StatusCode::UNAVAILABLE) << "a call failed with something else than UNAVAILABLE: "
                                                     << Describe(f);
    EXPECT_LT(f.ms(), 1000) << "a failing call hung instead of failing fast: " << Describe(f);
    EXPECT_TRUE(f.start < recovered_by) << "a call started "
                                     << Ms(f.start - killed) << " ms after the kill still failed: " << Describe(f);
  }
  // Each client thread has one call in flight at a time.
  EXPECT_LE(failures.size(), static_cast<size_t>(kThreads))
      << "more calls failed than can have been in flight on the killed backend:" << DescribeAll(failures);
  size_t late = 0;
  for (const auto& c : calls) {
    if (c.start < recovered_by) continue;
    ++late;
    EXPECT_TRUE(c.ok() && c.backend == "a") << "after recovery: " << Describe(c);
  }
  EXPECT_GT(late, 10u) << "too few calls after the recovery window to judge it";

  // Restart on the same port: it must pass healthy_threshold checks and rejoin.
  Backend& b2 = StartBackend("b-restarted", b_address);
  ASSERT_EQ(b2.address, b_address);
  ASSERT_TRUE(WaitForHealth(b_address, "healthy", 5000ms))
      << "the restarted backend did not become healthy again: " << ClustersText();
  auto after = Sequential(200);
  auto after_failures = Failed(after);
  EXPECT_TRUE(after_failures.empty()) << "calls failed after the restart:" << DescribeAll(after_failures);
  size_t on_b = AnsweredBy(after, "b-restarted");
  EXPECT_GE(on_b, 70u) << "the restarted backend took " << on_b << " of 200 calls";
  EXPECT_LE(on_b, 130u) << "the restarted backend took " << on_b << " of 200 calls";
}

void ResilienceHealthTest::NotServingLeavesAndRejoins(const std::string& mode) {
  Backend& a = StartBackend("a");
  Backend& b = StartBackend("b");
  ASSERT_NO_FATAL_FAILURE(Start(Config({a.address, b.address}, {HealthCheck(mode)})));
  ASSERT_EQ(HealthOf(b.address), "healthy") << ClustersText();

  Load load(proxy_address(), 4, /*sleep_ms=*/10);
  ASSERT_TRUE(load.WaitForMore(60, 10000ms)) << "load did not get going";
  ASSERT_GT(b.Calls("Unary"), 0) << "backend b took no traffic";

  ASSERT_NO_FATAL_FAILURE(SetServing(b, false));
  const auto flipped = Clock::now();
  ASSERT_TRUE(WaitForHealth(b.address, "unhealthy", 3000ms))
      << "NOT_SERVING did not take the endpoint out (" << mode << "): " << ClustersText();
  std::cerr << "note: " << mode << ": unhealthy " << Ms(Clock::now() - flipped) << " ms after NOT_SERVING\n";
  // Calls that picked it before the change finish; after that it gets nothing.
  ASSERT_TRUE(load.WaitForEachThread(10000ms)) << "the load stalled";
  const int64_t out_before = b.Calls("Unary");
  ASSERT_TRUE(load.WaitForMore(80, 10000ms));
  EXPECT_EQ(b.Calls("Unary") - out_before, 0) << "the NOT_SERVING backend still got calls (" << mode << ")";

  ASSERT_NO_FATAL_FAILURE(SetServing(b, true));
  const auto serving = Clock::now();
  bool back = WaitForHealth(b.address, "healthy", 5000ms);
  EXPECT_TRUE(back) << "SERVING again did not bring the endpoint back within 5 s (" << mode
                    << "): " << ClustersText();
  if (back) std::cerr << "note: " << mode << ": healthy " << Ms(Clock::now() - serving) << " ms after SERVING\n";
  const int64_t in_before = b.Calls("Unary");
  ASSERT_TRUE(load.WaitForMore(80, 10000ms));
  EXPECT_GT(b.Calls("Unary") - in_before, 10) << "the backend got no traffic after SERVING again (" << mode << ")";
  load.Stop();

  auto failures = Failed(load.Calls());
  EXPECT_TRUE(failures.empty()) << failures.size() << " of " << load.Count() << " calls failed (" << mode
                                << "):" << DescribeAll(failures);
}

// mode: check. NOT_SERVING takes a backend out of rotation without a single
// failed call, and SERVING brings it back.
TEST_F(ResilienceHealthTest, NotServingLeavesRotationWithoutErrorsCheckMode) {
  NotServingLeavesAndRejoins("check");
}

// mode: watch. The same through a Health/Watch stream.
TEST_F(ResilienceHealthTest, NotServingLeavesRotationWithoutErrorsWatchMode) {
  NotServingLeavesAndRejoins("watch");
}

// SIGTERM to a backend under load (graceful Shutdown: GOAWAY, calls in flight
// finish): not a single call fails, and afterwards the other backend serves all.
TEST_F(ResilienceHealthTest, GracefulBackendShutdownFailsNoCall) {
  Backend& a = StartBackend("a");
  Backend& b = StartBackend("b");
  ASSERT_NO_FATAL_FAILURE(Start(Config({a.address, b.address}, {HealthCheck()})));

  Load load(proxy_address(), 4, /*sleep_ms=*/30);
  ASSERT_TRUE(load.WaitForMore(60, 10000ms)) << "load did not get going";
  ASSERT_GT(b.Calls("Unary"), 0) << "backend b took no traffic";

  b.control.reset();  // no idle control connection for the shutdown to wait on
  b.process->signal(SIGTERM);
  const auto term = Clock::now();
  auto code = b.process->waitExit(5000ms);
  ASSERT_TRUE(code.has_value()) << "backend b did not exit after SIGTERM";
  EXPECT_EQ(*code, 0);
  const auto exited = Clock::now();
  // The load runs on until the stopped backend is out of rotation (failed
  // checks, or ejected by the failures it caused first) and past it.
  ASSERT_TRUE(WaitUntil(
      [&] {
        std::string h = HealthOf(b.address);
        return h == "unhealthy" || h == "ejected";
      },
      kUnhealthyWithin + 5000ms, 20ms))
      << "the stopped backend stayed in rotation: " << ClustersText();
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto all = load.Calls();
        return std::count_if(all.begin(), all.end(), [&](const Call& c) { return c.start > exited + 200ms; }) > 20;
      },
      10000ms, 20ms))
      << "the load stalled after the shutdown";
  load.Stop();

  auto calls = load.Calls();
  auto failures = Failed(calls);
  EXPECT_TRUE(failures.empty()) << failures.size() << " of " << calls.size()
                                << " calls failed around a graceful shutdown:" << DescribeAll(failures);
  size_t finished_on_b_during_shutdown = 0;
  size_t later = 0;
  for (const auto& c : calls) {
    if (c.backend == "b" && c.end > term) ++finished_on_b_during_shutdown;
    if (c.start > exited + 200ms) {
      ++later;
      EXPECT_EQ(c.backend, "a") << Describe(c);
    }
  }
  std::cerr << "note: " << finished_on_b_during_shutdown << " calls on b finished after its SIGTERM\n";
  EXPECT_GT(later, 10u);
  EXPECT_EQ(HealthOf(a.address), "healthy");
}

// A black-holed backend (accepts TCP, never reads or answers): calls sent to
// it end with DEADLINE_EXCEEDED at the proxy's 300 ms deadline, never later;
// once the checks mark it unhealthy every call goes to the good backend.
TEST_F(ResilienceHealthTest, BlackHoledBackendTimesOutThenLeavesRotation) {
  BlackHole hole;
  Backend& good = StartBackend("good");
  // Check timeout 1 s (not 200 ms): the first failed check decides at once, and
  // the hole must stay in rotation long enough for the first calls to reach it.
  ProxyConfig c = Config({hole.address(), good.address}, {HealthCheck("check", "1s")});
  c.routes[0].timeout_max = "300ms";  // the proxy, not the client, enforces 300 ms
  ASSERT_NO_FATAL_FAILURE(Start(c));

  auto channel = MakeChannel(proxy_address());
  ASSERT_TRUE(Connect(channel));
  auto stub = switchyard::test::Echo::NewStub(channel);
  std::vector<Call> early(6);
  {
    std::vector<std::thread> threads;
    for (size_t i = 0; i < early.size(); ++i) {
      threads.emplace_back([&, i] { early[i] = UnaryCall(stub.get(), 3000ms); });
    }
    for (auto& t : threads) t.join();
  }
  int timed_out = 0;
  for (const auto& call : early) {
    if (call.ok()) {
      EXPECT_EQ(call.backend, "good") << Describe(call);
      continue;
    }
    EXPECT_EQ(call.code, grpc::StatusCode::DEADLINE_EXCEEDED) << Describe(call);
    if (call.code != grpc::StatusCode::DEADLINE_EXCEEDED) continue;
    ++timed_out;
    EXPECT_GE(call.ms(), 250) << "ended before the deadline: " << Describe(call);
    // Generous: ended by the proxy's timeout, well before the client's own 3 s.
    EXPECT_LT(call.ms(), 2500) << "not ended by the proxy's timeout: " << Describe(call);
  }
  EXPECT_GT(timed_out, 0) << "no call reached the black hole while it was still in rotation; /clusters: "
                          << ClustersText();

  ASSERT_TRUE(WaitForHealth(hole.address(), "unhealthy", 5000ms))
      << "the black hole was not marked unhealthy: " << ClustersText();
  auto later = Sequential(20, 3000ms);
  for (const auto& call : later) {
    EXPECT_TRUE(call.ok() && call.backend == "good") << "after the hole was marked unhealthy: " << Describe(call);
  }
}

// Every endpoint NOT_SERVING: calls fail at once with UNAVAILABLE and a
// message naming the cluster, instead of waiting or timing out.
TEST_F(ResilienceHealthTest, NoHealthyEndpointFailsFastNamingCluster) {
  Backend& a = StartBackend("a");
  Backend& b = StartBackend("b");
  ASSERT_NO_FATAL_FAILURE(Start(Config({a.address, b.address}, {HealthCheck()})));
  ASSERT_NO_FATAL_FAILURE(SetServing(a, false));
  ASSERT_NO_FATAL_FAILURE(SetServing(b, false));
  ASSERT_TRUE(WaitForHealth(a.address, "unhealthy", 3000ms)) << ClustersText();
  ASSERT_TRUE(WaitForHealth(b.address, "unhealthy", 3000ms)) << ClustersText();

  auto calls = Sequential(10, 3000ms);
  for (const auto& call : calls) {
    EXPECT_EQ(call.code, grpc::StatusCode::UNAVAILABLE) << Describe(call);
    EXPECT_NE(call.message.find(kCluster), std::string::npos) << "message does not name the cluster: "
                                                              << Describe(call);
    // Generous (sanitizer builds): answered at once, not after the 3 s deadline.
    EXPECT_LT(call.ms(), 1000) << "not answered promptly: " << Describe(call);
  }
  EXPECT_EQ(a.Calls("Unary") + b.Calls("Unary"), 0) << "a NOT_SERVING backend got calls";
}

}  // namespace
}  // namespace sytest::resilience
