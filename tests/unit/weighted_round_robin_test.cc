// Smooth weighted round-robin over endpoint indexes (endpoint weights) and the
// per-cluster active-RPC count behind circuit_breaker.max_active_rpcs.
#include "upstream/weighted_round_robin.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "upstream/circuit_breaker.h"

namespace switchyard::upstream {
namespace {

const auto kAll = [](size_t) { return true; };

std::vector<size_t> picks(WeightedRoundRobin& wrr, const std::vector<uint32_t>& w, int count,
                          const std::function<bool(size_t)>& eligible = kAll) {
  std::vector<size_t> got;
  for (int i = 0; i < count; ++i) {
    auto p = wrr.pick(w.size(), eligible, [&](size_t k) { return w[k]; });
    if (!p) break;
    got.push_back(*p);
  }
  return got;
}

TEST(WeightedRoundRobin, ThreeToOneIsExactAndSpreadOut) {
  WeightedRoundRobin wrr;
  EXPECT_EQ(picks(wrr, {3, 1}, 8), (std::vector<size_t>{0, 0, 1, 0, 0, 0, 1, 0}));
}

TEST(WeightedRoundRobin, NginxSequenceForFiveOneOne) {
  // The example of nginx's commit introducing the algorithm: a a b a c a a.
  WeightedRoundRobin wrr;
  EXPECT_EQ(picks(wrr, {5, 1, 1}, 14),
            (std::vector<size_t>{0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 0, 2, 0, 0}));
}

TEST(WeightedRoundRobin, SharesAreExactOverEveryFullCycle) {
  WeightedRoundRobin wrr;
  std::vector<uint32_t> w{2, 128, 1, 7};
  uint32_t total = 2 + 128 + 1 + 7;
  for (int cycle = 0; cycle < 3; ++cycle) {
    std::vector<uint32_t> counts(w.size(), 0);
    for (size_t p : picks(wrr, w, static_cast<int>(total))) ++counts[p];
    EXPECT_EQ(counts, w) << "cycle " << cycle;
  }
}

TEST(WeightedRoundRobin, IneligibleIndexesAreSkippedAndTheRestKeepTheirRatio) {
  WeightedRoundRobin wrr;
  // Index 0 (weight 3) is down: 1 and 2 share 1:2.
  auto got = picks(wrr, {3, 1, 2}, 6, [](size_t i) { return i != 0; });
  EXPECT_EQ(got, (std::vector<size_t>{2, 1, 2, 2, 1, 2}));
  EXPECT_FALSE(wrr.pick(3, [](size_t) { return false; }, [](size_t) { return 1; }).has_value());
  EXPECT_FALSE(wrr.pick(0, kAll, [](size_t) { return 1; }).has_value());
}

TEST(WeightedRoundRobin, AChangedEndpointCountStartsAfresh) {
  WeightedRoundRobin wrr;
  picks(wrr, {1, 5}, 3);
  EXPECT_EQ(picks(wrr, {3, 1, 1}, 5), (std::vector<size_t>{0, 1, 0, 2, 0}));
}

TEST(WeightedRoundRobin, ZeroWeightCountsAsOne) {
  WeightedRoundRobin wrr;
  EXPECT_EQ(picks(wrr, {0, 1}, 4), (std::vector<size_t>{0, 1, 0, 1}));
}

TEST(ActiveRpcSlot, RefusesPastTheLimitAndGivesPlacesBack) {
  auto counter = std::make_shared<ActiveRpcCounter>(0);
  std::vector<ActiveRpcSlot> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(ActiveRpcSlot::tryAcquire(counter, 3));
    EXPECT_TRUE(held.back().held());
  }
  EXPECT_FALSE(ActiveRpcSlot::tryAcquire(counter, 3).held());
  EXPECT_EQ(counter->load(), 3u) << "a refused RPC leaves the count as it was";
  held.pop_back();
  EXPECT_EQ(counter->load(), 2u);
  ActiveRpcSlot moved = std::move(held.front());
  EXPECT_FALSE(held.front().held());
  EXPECT_EQ(counter->load(), 2u) << "moving a place does not count it twice";
  EXPECT_TRUE(ActiveRpcSlot::tryAcquire(counter, 3).held());  // released again at once
  held.clear();
  moved.release();
  EXPECT_EQ(counter->load(), 0u);
}

TEST(ActiveRpcSlot, ZeroMeansNoLimitButStillCounts) {
  auto counter = std::make_shared<ActiveRpcCounter>(0);
  std::vector<ActiveRpcSlot> held;
  for (int i = 0; i < 100; ++i) held.push_back(ActiveRpcSlot::tryAcquire(counter, 0));
  EXPECT_EQ(counter->load(), 100u);
}

TEST(ActiveRpcSlot, SharedByNameAcrossSnapshots) {
  auto a = clusterActiveRpcCounter("cb-test-cluster");
  auto b = clusterActiveRpcCounter("cb-test-cluster");
  EXPECT_EQ(a.get(), b.get());
  EXPECT_NE(a.get(), clusterActiveRpcCounter("cb-test-other").get());
}

TEST(ActiveRpcSlot, TheLimitHoldsAcrossThreads) {
  auto counter = std::make_shared<ActiveRpcCounter>(0);
  constexpr uint32_t kMax = 10;
  std::atomic<uint32_t> admitted{0};
  std::vector<std::thread> threads;
  std::vector<std::vector<ActiveRpcSlot>> kept(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        auto slot = ActiveRpcSlot::tryAcquire(counter, kMax);
        if (slot.held()) {
          ++admitted;
          kept[t].push_back(std::move(slot));
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(admitted.load(), kMax);
  EXPECT_EQ(counter->load(), kMax);
}

}  // namespace
}  // namespace switchyard::upstream
