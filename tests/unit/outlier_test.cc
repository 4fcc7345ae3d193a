#include "upstream/health/outlier.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace switchyard::upstream::health {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

config::OutlierSpec spec(uint32_t pct = 50, Duration base = 30s, Duration max = 300s) {
  config::OutlierSpec s;
  s.enabled = true;
  s.consecutive_failures = 5;
  s.base_ejection_time = base;
  s.max_ejection_time = max;
  s.max_ejection_percent = pct;
  return s;
}

const Clock::time_point t0 = Clock::time_point() + 1000h;

TEST(OutlierTracker, EjectsAndExpires) {
  OutlierTracker o(spec());
  auto d = o.onFailureBurst("10.0.0.1:80", 4, t0);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(*d, Duration(30s));
  EXPECT_TRUE(o.ejected("10.0.0.1:80"));
  EXPECT_FALSE(o.ejected("10.0.0.2:80"));
  EXPECT_EQ(o.ejectedCount(), 1u);
  EXPECT_EQ(o.nextExpiry(), t0 + 30s);

  EXPECT_TRUE(o.expire(t0 + 29s).empty());
  EXPECT_TRUE(o.ejected("10.0.0.1:80"));
  EXPECT_EQ(o.expire(t0 + 30s), std::vector<std::string>{"10.0.0.1:80"});
  EXPECT_FALSE(o.ejected("10.0.0.1:80"));
  EXPECT_EQ(o.ejectedCount(), 0u);
  EXPECT_FALSE(o.nextExpiry().has_value());
  EXPECT_TRUE(o.expire(t0 + 60s).empty());
}

TEST(OutlierTracker, DisabledNeverEjects) {
  auto s = spec(100);
  s.enabled = false;
  OutlierTracker o(s);
  EXPECT_FALSE(o.onFailureBurst("10.0.0.1:80", 10, t0).has_value());
  EXPECT_FALSE(o.ejected("10.0.0.1:80"));
  EXPECT_EQ(o.ejectedCount(), 0u);
}

TEST(OutlierTracker, AlreadyEjectedIsNotEjectedAgain) {
  OutlierTracker o(spec());
  ASSERT_TRUE(o.onFailureBurst("a:1", 4, t0).has_value());
  EXPECT_FALSE(o.onFailureBurst("a:1", 4, t0 + 1s).has_value());
  EXPECT_EQ(o.ejectedCount(), 1u);
  EXPECT_EQ(o.ejectionCount("a:1"), 1u);
  // The original expiry stands.
  EXPECT_EQ(o.expire(t0 + 30s), std::vector<std::string>{"a:1"});
}

TEST(OutlierTracker, EjectionTimeGrowsWithEachEjection) {
  OutlierTracker o(spec(100, 30s, 300s));
  Clock::time_point now = t0;
  for (int n = 1; n <= 4; ++n) {
    auto d = o.onFailureBurst("a:1", 2, now);
    ASSERT_TRUE(d.has_value()) << n;
    EXPECT_EQ(*d, Duration(30s) * n) << n;
    EXPECT_EQ(o.ejectionCount("a:1"), static_cast<uint32_t>(n));
    now += *d;
    ASSERT_EQ(o.expire(now).size(), 1u);
  }
}

TEST(OutlierTracker, EjectionTimeIsCapped) {
  OutlierTracker o(spec(100, 30s, 100s));
  Clock::time_point now = t0;
  std::vector<Duration> got;
  for (int n = 0; n < 6; ++n) {
    auto d = o.onFailureBurst("a:1", 1, now);
    ASSERT_TRUE(d.has_value());
    got.push_back(*d);
    now += *d;
    o.expire(now);
  }
  EXPECT_EQ(got, (std::vector<Duration>{30s, 60s, 90s, 100s, 100s, 100s}));
}

TEST(OutlierTracker, MaxBelowBaseMeansBase) {
  OutlierTracker o(spec(100, 30s, 10s));
  auto d = o.onFailureBurst("a:1", 1, t0);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(*d, Duration(30s));
  o.expire(t0 + 30s);
  EXPECT_EQ(o.onFailureBurst("a:1", 1, t0 + 31s), Duration(30s));
}

TEST(OutlierTracker, MaxEjectionPercentHalfOfFour) {
  OutlierTracker o(spec(50));
  EXPECT_TRUE(o.onFailureBurst("a:1", 4, t0).has_value());
  EXPECT_TRUE(o.onFailureBurst("b:1", 4, t0).has_value());
  // A third would make 75% > 50%.
  EXPECT_FALSE(o.onFailureBurst("c:1", 4, t0).has_value());
  EXPECT_FALSE(o.ejected("c:1"));
  EXPECT_EQ(o.ejectedCount(), 2u);
  // The refusal does not count as an ejection.
  EXPECT_EQ(o.ejectionCount("c:1"), 0u);
  // Once one returns, another may go.
  o.expire(t0 + 30s);
  EXPECT_TRUE(o.onFailureBurst("c:1", 4, t0 + 30s).has_value());
}

TEST(OutlierTracker, MaxEjectionPercentRoundsDown) {
  // 3 endpoints at 50%: 1 ejected = 33% fits, 2 = 67% does not.
  OutlierTracker o(spec(50));
  EXPECT_TRUE(o.onFailureBurst("a:1", 3, t0).has_value());
  EXPECT_FALSE(o.onFailureBurst("b:1", 3, t0).has_value());
}

TEST(OutlierTracker, TwoEndpointsAtFiftyPercentAllowsOne) {
  OutlierTracker o(spec(50));
  EXPECT_TRUE(o.onFailureBurst("a:1", 2, t0).has_value());
  EXPECT_FALSE(o.onFailureBurst("b:1", 2, t0).has_value());
}

TEST(OutlierTracker, SingleEndpointClusterNotEjectedBelowHundredPercent) {
  OutlierTracker o(spec(99));
  EXPECT_FALSE(o.onFailureBurst("a:1", 1, t0).has_value());
  OutlierTracker all(spec(100));
  EXPECT_TRUE(all.onFailureBurst("a:1", 1, t0).has_value());
}

TEST(OutlierTracker, SmallPercentOfSmallClusterEjectsNone) {
  // 10% of 5 endpoints is half an endpoint: nobody may be ejected (Envoy's rule).
  OutlierTracker o(spec(10));
  EXPECT_FALSE(o.onFailureBurst("a:1", 5, t0).has_value());
  // 10% of 10 is one.
  EXPECT_TRUE(o.onFailureBurst("a:1", 10, t0).has_value());
  EXPECT_FALSE(o.onFailureBurst("b:1", 10, t0).has_value());
}

TEST(OutlierTracker, PercentAboveHundredIsClamped) {
  OutlierTracker o(spec(250));
  EXPECT_TRUE(o.onFailureBurst("a:1", 2, t0).has_value());
  EXPECT_TRUE(o.onFailureBurst("b:1", 2, t0).has_value());
  // Never more ejected than there are endpoints.
  EXPECT_FALSE(o.onFailureBurst("c:1", 2, t0).has_value());
}

TEST(OutlierTracker, EmptyClusterEjectsNothing) {
  OutlierTracker o(spec(100));
  EXPECT_FALSE(o.onFailureBurst("a:1", 0, t0).has_value());
}

TEST(OutlierTracker, ExpireReturnsOnlyDueEndpointsInOrder) {
  OutlierTracker o(spec(100, 10s, 100s));
  ASSERT_TRUE(o.onFailureBurst("c:1", 3, t0).has_value());
  ASSERT_TRUE(o.onFailureBurst("a:1", 3, t0 + 1s).has_value());
  ASSERT_TRUE(o.onFailureBurst("b:1", 3, t0 + 5s).has_value());
  EXPECT_EQ(o.nextExpiry(), t0 + 10s);
  EXPECT_EQ(o.expire(t0 + 11s), (std::vector<std::string>{"a:1", "c:1"}));
  EXPECT_EQ(o.ejectedCount(), 1u);
  EXPECT_EQ(o.nextExpiry(), t0 + 15s);
  EXPECT_EQ(o.expire(t0 + 15s), std::vector<std::string>{"b:1"});
}

TEST(OutlierTracker, ForgetDropsEjectionAndHistory) {
  OutlierTracker o(spec(50));
  ASSERT_TRUE(o.onFailureBurst("a:1", 2, t0).has_value());
  EXPECT_FALSE(o.onFailureBurst("b:1", 2, t0).has_value());
  o.forget("a:1");
  EXPECT_FALSE(o.ejected("a:1"));
  EXPECT_EQ(o.ejectedCount(), 0u);
  EXPECT_EQ(o.ejectionCount("a:1"), 0u);
  EXPECT_TRUE(o.expire(t0 + 1h).empty());
  // Room again, and a re-added endpoint starts from the base time.
  EXPECT_EQ(o.onFailureBurst("a:1", 2, t0 + 1s), Duration(30s));
  o.forget("never-seen:1");  // harmless
  EXPECT_EQ(o.ejectedCount(), 1u);
}

TEST(OutlierTracker, ForgetNotEjectedKeepsCount) {
  OutlierTracker o(spec(100));
  ASSERT_TRUE(o.onFailureBurst("a:1", 2, t0).has_value());
  ASSERT_TRUE(o.onFailureBurst("b:1", 2, t0).has_value());
  o.expire(t0 + 30s);
  ASSERT_TRUE(o.onFailureBurst("a:1", 2, t0 + 31s).has_value());
  o.forget("b:1");  // not ejected any more
  EXPECT_EQ(o.ejectedCount(), 1u);
  EXPECT_TRUE(o.ejected("a:1"));
}

}  // namespace
}  // namespace switchyard::upstream::health
