// RetryState and the retry-delay rules: the retained request copy, the retry
// budget, gRPC A6 pushback and backoff with an injected random value.
#include "proxy/retry_state.h"

#include <gtest/gtest.h>

#include <string>

#include "proxy/cluster_table.h"

namespace switchyard::proxy {
namespace {

using namespace std::chrono_literals;

std::string drain(ByteQueue& q) {
  std::string s(q.size(), '\0');
  q.take(reinterpret_cast<uint8_t*>(s.data()), s.size());
  return s;
}

const uint8_t* bytes(const char* s) { return reinterpret_cast<const uint8_t*>(s); }

// What was sent is replayed in front of what is still queued.
TEST(RetryState, ReplaysRetainedBytesBeforeQueuedOnes) {
  RetryState r;
  r.retain(bytes("abc"), 3, 10);
  r.retain(bytes("de"), 2, 10);
  ByteQueue queue;
  queue.append(bytes("fg"), 2);
  EXPECT_EQ(r.replayInto(queue), 5u);
  EXPECT_EQ(drain(queue), "abcdefg");
  EXPECT_TRUE(r.bodyRetained());
}

// Past the cluster's retry_buffer the RPC is committed: nothing is kept.
TEST(RetryState, StopsRetainingPastTheLimit) {
  RetryState r;
  r.retain(bytes("abcd"), 4, 6);
  r.retain(bytes("efg"), 3, 6);
  EXPECT_FALSE(r.bodyRetained());
  ByteQueue queue;
  EXPECT_EQ(r.replayInto(queue), 0u);
  r.retain(bytes("h"), 1, 6);
  EXPECT_FALSE(r.bodyRetained());
}

// Once the kept copy is dropped (the request was discarded), the RPC can no
// longer be replayed: a retry would send the backend a request without its body.
TEST(RetryState, DroppedCopyCannotBeReplayed) {
  RetryState r;
  r.retain(bytes("abc"), 3, 10);
  r.dropRetained();
  EXPECT_FALSE(r.bodyRetained());
  ByteQueue queue;
  EXPECT_EQ(r.replayInto(queue), 0u);
  r.retain(bytes("d"), 1, 10);
  EXPECT_FALSE(r.bodyRetained());
}

// Retries in flight stay within budget_percent of active RPCs, with a floor.
TEST(RetryState, BudgetHasAFloorAndAShare) {
  ClusterCounters counters;
  config::RetryBudgetSpec budget;  // 20 %, floor 3
  {
    RetryState rpcs[20];
    for (auto& r : rpcs) r.joinCounters(&counters);
    EXPECT_EQ(counters.active_rpcs, 20u);
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE(rpcs[i].budgetAllows(budget)) << i;
      rpcs[i].enterBudget();
    }
    EXPECT_FALSE(rpcs[4].budgetAllows(budget));  // 5 > max(3, 20 % of 20)
    EXPECT_TRUE(rpcs[0].budgetAllows(budget));   // already counted: retrying again is fine
    EXPECT_EQ(counters.active_retries, 4u);
  }
  // Leaving the RPCs gives everything back.
  EXPECT_EQ(counters.active_rpcs, 0u);
  EXPECT_EQ(counters.active_retries, 0u);
}

TEST(RetryState, CountsTransparentRetries) {
  RetryState r;
  EXPECT_TRUE(r.mayRetryTransparently(2));
  r.transparentRetryStarted();
  r.transparentRetryStarted();
  EXPECT_FALSE(r.mayRetryTransparently(2));
}

TEST(RetryDelay, PushbackIsMillisecondsOrNoRetry) {
  EXPECT_EQ(pushbackDelay("0"), Duration(0ms));
  EXPECT_EQ(pushbackDelay("250"), Duration(250ms));
  EXPECT_EQ(pushbackDelay("-1"), std::nullopt);
  EXPECT_EQ(pushbackDelay(""), std::nullopt);
  EXPECT_EQ(pushbackDelay("12x"), std::nullopt);
  EXPECT_EQ(pushbackDelay(" 5"), std::nullopt);
}

// Full jitter: the random value picks a point in [0, cap], the cap doubling
// per attempt from backoff_base up to backoff_max.
TEST(RetryDelay, BackoffDoublesUpToTheMaxWithFullJitter) {
  config::RetryPolicySpec p;
  p.backoff_base = 10ms;
  p.backoff_max = 35ms;
  const uint64_t top = static_cast<uint64_t>(Duration(10ms).count());  // random == cap
  EXPECT_EQ(backoffDelay(p, 1, top), Duration(10ms));
  EXPECT_EQ(backoffDelay(p, 1, top + 1), Duration::zero());  // wraps: uniform modulo cap+1
  EXPECT_EQ(backoffDelay(p, 2, static_cast<uint64_t>(Duration(20ms).count())), Duration(20ms));
  EXPECT_EQ(backoffDelay(p, 3, static_cast<uint64_t>(Duration(35ms).count())), Duration(35ms));
  EXPECT_EQ(backoffDelay(p, 30, ~0ULL), Duration(~0ULL % (Duration(35ms).count() + 1)));
  for (uint64_t r : {0ULL, 1ULL, 12345678ULL, ~0ULL}) {
    EXPECT_LE(backoffDelay(p, 5, r), Duration(35ms));
    EXPECT_GE(backoffDelay(p, 5, r), Duration::zero());
  }
}

TEST(RetryDelay, RetryOnListsGrpcCodes) {
  config::RetryPolicySpec p;
  p.retry_on = {14, 8};
  EXPECT_TRUE(retryableStatus(p, 14));
  EXPECT_TRUE(retryableStatus(p, 8));
  EXPECT_FALSE(retryableStatus(p, 2));
}

}  // namespace
}  // namespace switchyard::proxy
