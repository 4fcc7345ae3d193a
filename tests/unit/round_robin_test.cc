#include "upstream/round_robin.h"

#include <gtest/gtest.h>

#include <vector>

namespace switchyard::upstream {
namespace {

const auto kAll = [](size_t) { return true; };

TEST(RoundRobin, FiftyFiftyInStrictAlternation) {
  RoundRobin rr;
  int counts[2] = {0, 0};
  std::optional<size_t> prev;
  for (int i = 0; i < 100; ++i) {
    auto p = rr.pick(2, kAll);
    ASSERT_TRUE(p.has_value());
    ASSERT_LT(*p, 2u);
    if (prev) {
      EXPECT_NE(*p, *prev) << "pick " << i;
    }
    prev = p;
    ++counts[*p];
  }
  EXPECT_EQ(counts[0], 50);
  EXPECT_EQ(counts[1], 50);
}

TEST(RoundRobin, CyclesInOrderStartingAtZero) {
  RoundRobin rr;
  std::vector<size_t> got;
  for (int i = 0; i < 7; ++i) got.push_back(*rr.pick(3, kAll));
  EXPECT_EQ(got, (std::vector<size_t>{0, 1, 2, 0, 1, 2, 0}));
}

TEST(RoundRobin, StartOffset) {
  RoundRobin rr(5);
  std::vector<size_t> got;
  for (int i = 0; i < 4; ++i) got.push_back(*rr.pick(3, kAll));
  EXPECT_EQ(got, (std::vector<size_t>{2, 0, 1, 2}));
}

TEST(RoundRobin, SkipsIneligibleWithoutSkew) {
  RoundRobin rr;
  const auto not1 = [](size_t i) { return i != 1; };
  std::vector<size_t> got;
  for (int i = 0; i < 6; ++i) got.push_back(*rr.pick(4, not1));
  EXPECT_EQ(got, (std::vector<size_t>{0, 2, 3, 0, 2, 3}));

  // 90 picks over three eligible of four: exactly 30 each.
  RoundRobin rr2;
  int counts[4] = {0, 0, 0, 0};
  for (int i = 0; i < 90; ++i) ++counts[*rr2.pick(4, not1)];
  EXPECT_EQ(counts[0], 30);
  EXPECT_EQ(counts[1], 0);
  EXPECT_EQ(counts[2], 30);
  EXPECT_EQ(counts[3], 30);
}

TEST(RoundRobin, RecoveredEndpointRejoinsInOrder) {
  RoundRobin rr;
  std::vector<bool> healthy = {true, false, true};
  const auto ok = [&](size_t i) { return static_cast<bool>(healthy[i]); };
  EXPECT_EQ(rr.pick(3, ok), 0u);
  EXPECT_EQ(rr.pick(3, ok), 2u);
  healthy[1] = true;
  EXPECT_EQ(rr.pick(3, ok), 0u);
  EXPECT_EQ(rr.pick(3, ok), 1u);
  EXPECT_EQ(rr.pick(3, ok), 2u);
}

TEST(RoundRobin, NoneEligible) {
  RoundRobin rr;
  int calls = 0;
  const auto none = [&](size_t) {
    ++calls;
    return false;
  };
  EXPECT_EQ(rr.pick(5, none), std::nullopt);
  EXPECT_EQ(calls, 5);  // each index tried exactly once
  EXPECT_EQ(rr.pick(0, kAll), std::nullopt);
  // A failed pick does not move the rotation.
  EXPECT_EQ(rr.pick(5, kAll), 0u);
}

TEST(RoundRobin, SingleEndpoint) {
  RoundRobin rr;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(rr.pick(1, kAll), 0u);
  EXPECT_EQ(rr.pick(1, [](size_t) { return false; }), std::nullopt);
}

TEST(RoundRobin, NChanges) {
  RoundRobin rr;
  EXPECT_EQ(rr.pick(5, kAll), 0u);
  EXPECT_EQ(rr.pick(5, kAll), 1u);
  EXPECT_EQ(rr.pick(5, kAll), 2u);
  EXPECT_EQ(rr.pick(5, kAll), 3u);
  // Shrinks to 2: continues from (3 + 1) mod 2 = 0, always in range.
  EXPECT_EQ(rr.pick(2, kAll), 0u);
  EXPECT_EQ(rr.pick(2, kAll), 1u);
  EXPECT_EQ(rr.pick(2, kAll), 0u);
  // Grows to 4: continues after the last pick.
  EXPECT_EQ(rr.pick(4, kAll), 1u);
  EXPECT_EQ(rr.pick(4, kAll), 2u);
  EXPECT_EQ(rr.pick(4, kAll), 3u);
  EXPECT_EQ(rr.pick(4, kAll), 0u);
  for (size_t n = 1; n < 10; ++n) {
    auto p = rr.pick(n, kAll);
    ASSERT_TRUE(p.has_value());
    EXPECT_LT(*p, n);
  }
}

TEST(RoundRobin, Reset) {
  RoundRobin rr;
  EXPECT_EQ(rr.pick(3, kAll), 0u);
  EXPECT_EQ(rr.pick(3, kAll), 1u);
  rr.reset();
  EXPECT_EQ(rr.pick(3, kAll), 0u);
  RoundRobin rr2(2);
  EXPECT_EQ(rr2.pick(3, kAll), 2u);
  EXPECT_EQ(rr2.pick(3, kAll), 0u);
  rr2.reset();
  EXPECT_EQ(rr2.pick(3, kAll), 2u);
}

}  // namespace
}  // namespace switchyard::upstream
