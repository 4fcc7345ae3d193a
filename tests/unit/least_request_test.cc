// LeastRequest (power of two choices): prefers the less loaded endpoint,
// honours eligibility, and still spreads load across equals.
#include "upstream/least_request.h"

#include <gtest/gtest.h>

#include <vector>

namespace switchyard::upstream {
namespace {

TEST(LeastRequest, TwoEndpointsAlwaysTakesTheLessLoaded) {
  LeastRequest lr;
  std::vector<int> load = {5, 0};
  for (int i = 0; i < 100; ++i) {
    auto p = lr.pick(2, [](size_t) { return true; }, [&](size_t j) { return load[j]; });
    ASSERT_TRUE(p);
    EXPECT_EQ(*p, 1u);
  }
}

TEST(LeastRequest, SkipsIneligibleAndEmpty) {
  LeastRequest lr;
  auto never = lr.pick(3, [](size_t) { return false; }, [](size_t) { return 0; });
  EXPECT_FALSE(never);
  EXPECT_FALSE(lr.pick(0, [](size_t) { return true; }, [](size_t) { return 0; }));
  for (int i = 0; i < 50; ++i) {
    auto p = lr.pick(4, [](size_t j) { return j == 2; }, [](size_t) { return 0; });
    ASSERT_TRUE(p);
    EXPECT_EQ(*p, 2u);
  }
}

TEST(LeastRequest, EqualLoadsAreSpread) {
  LeastRequest lr(42);
  std::vector<int> hits(4, 0);
  for (int i = 0; i < 4000; ++i) {
    ++hits[*lr.pick(4, [](size_t) { return true; }, [](size_t) { return 0; })];
  }
  for (int h : hits) EXPECT_GT(h, 600);
}

TEST(LeastRequest, MostLoadedOfManyIsNeverPicked) {
  LeastRequest lr(7);
  std::vector<int> load = {1, 1, 9, 1};
  for (int i = 0; i < 500; ++i) {
    EXPECT_NE(*lr.pick(4, [](size_t) { return true; }, [&](size_t j) { return load[j]; }), 2u);
  }
}

}  // namespace
}  // namespace switchyard::upstream
