// RetryState and the retry-delay rules: what may still be replayed, the retry
// budget, gRPC A6 pushback and backoff with an injected random value.
#include "proxy/retry_state.h"

#include <gtest/gtest.h>

#include <string>

#include "proxy/cluster_table.h"

namespace switchyard::proxy {
namespace {

using namespace std::chrono_literals;

// Within the limit the request stays replayable, and counting starts again
// with each replay (the replayed bytes are sent, and counted, again).
TEST(RetryState, RetainsWhileTheRequestFitsTheLimit) {
  RetryState r;
  EXPECT_TRUE(r.retain(3, 10));
  EXPECT_TRUE(r.retain(7, 10));
  EXPECT_TRUE(r.bodyRetained());
  r.replayed();
  EXPECT_TRUE(r.retain(10, 10));
  EXPECT_TRUE(r.bodyRetained());
}

// Past the cluster's retry_buffer the RPC is committed: nothing is kept.
TEST(RetryState, StopsRetainingPastTheLimit) {
  RetryState r;
  EXPECT_TRUE(r.retain(4, 6));
  EXPECT_FALSE(r.retain(3, 6));
  EXPECT_FALSE(r.bodyRetained());
  r.replayed();
  EXPECT_FALSE(r.retain(1, 6));
  EXPECT_FALSE(r.bodyRetained());
}

// Once the kept bytes are dropped (the request was discarded), the RPC can no
// longer be replayed: a retry would send the backend a request without its body.
TEST(RetryState, DroppedCopyCannotBeReplayed) {
  RetryState r;
  EXPECT_TRUE(r.retain(3, 10));
  r.dropRetained();
  EXPECT_FALSE(r.bodyRetained());
  EXPECT_FALSE(r.retain(1, 10));
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
