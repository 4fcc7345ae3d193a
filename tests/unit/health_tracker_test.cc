#include "upstream/health/health_tracker.h"

#include <gtest/gtest.h>

namespace switchyard::upstream::health {
namespace {

TEST(HealthTracker, StartsUnknown) {
  HealthTracker optimistic(2, 3, true);
  EXPECT_EQ(optimistic.state(), CheckState::Unknown);
  EXPECT_TRUE(optimistic.eligible());

  HealthTracker cautious(2, 3, false);
  EXPECT_EQ(cautious.state(), CheckState::Unknown);
  EXPECT_FALSE(cautious.eligible());
}

TEST(HealthTracker, FirstPassDecidesAtOnce) {
  HealthTracker t(5, 5, false);
  EXPECT_TRUE(t.record(true));
  EXPECT_EQ(t.state(), CheckState::Healthy);
  EXPECT_TRUE(t.eligible());
}

TEST(HealthTracker, FirstFailureDecidesAtOnce) {
  HealthTracker t(5, 5, true);
  EXPECT_TRUE(t.record(false));
  EXPECT_EQ(t.state(), CheckState::Unhealthy);
  EXPECT_FALSE(t.eligible());
}

TEST(HealthTracker, UnhealthyThresholdConsecutiveFailures) {
  HealthTracker t(2, 3, true);
  ASSERT_TRUE(t.record(true));
  EXPECT_FALSE(t.record(false));
  EXPECT_FALSE(t.record(false));
  EXPECT_EQ(t.state(), CheckState::Healthy);
  EXPECT_EQ(t.consecutiveFailures(), 2u);
  EXPECT_TRUE(t.record(false));
  EXPECT_EQ(t.state(), CheckState::Unhealthy);
  EXPECT_FALSE(t.eligible());
}

TEST(HealthTracker, PassResetsFailureStreak) {
  HealthTracker t(2, 3, true);
  ASSERT_TRUE(t.record(true));
  EXPECT_FALSE(t.record(false));
  EXPECT_FALSE(t.record(false));
  EXPECT_FALSE(t.record(true));
  EXPECT_EQ(t.consecutiveFailures(), 0u);
  EXPECT_FALSE(t.record(false));
  EXPECT_FALSE(t.record(false));
  EXPECT_EQ(t.state(), CheckState::Healthy);
  EXPECT_TRUE(t.record(false));
  EXPECT_EQ(t.state(), CheckState::Unhealthy);
}

TEST(HealthTracker, HealthyThresholdConsecutivePasses) {
  HealthTracker t(2, 3, false);
  ASSERT_TRUE(t.record(false));
  EXPECT_FALSE(t.record(true));
  EXPECT_EQ(t.state(), CheckState::Unhealthy);
  EXPECT_FALSE(t.record(false));  // streak broken
  EXPECT_EQ(t.consecutivePasses(), 0u);
  EXPECT_FALSE(t.record(true));
  EXPECT_EQ(t.consecutivePasses(), 1u);
  EXPECT_TRUE(t.record(true));
  EXPECT_EQ(t.state(), CheckState::Healthy);
  EXPECT_TRUE(t.eligible());
}

TEST(HealthTracker, RepeatedSameResultsDoNotChangeState) {
  HealthTracker t(1, 1, true);
  ASSERT_TRUE(t.record(true));
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(t.record(true));
  ASSERT_TRUE(t.record(false));
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(t.record(false));
  EXPECT_TRUE(t.record(true));
}

TEST(HealthTracker, ThresholdOfOneFlipsEachTime) {
  HealthTracker t(1, 1, false);
  EXPECT_TRUE(t.record(true));
  EXPECT_TRUE(t.record(false));
  EXPECT_TRUE(t.record(true));
  EXPECT_EQ(t.state(), CheckState::Healthy);
}

TEST(HealthTracker, ZeroThresholdActsAsOne) {
  HealthTracker t(0, 0, true);
  ASSERT_TRUE(t.record(true));
  EXPECT_TRUE(t.record(false));
  EXPECT_TRUE(t.record(true));
}

TEST(HealthTracker, ForceUnhealthyFromHealthy) {
  HealthTracker t(2, 5, true);
  ASSERT_TRUE(t.record(true));
  EXPECT_TRUE(t.forceUnhealthy());
  EXPECT_EQ(t.state(), CheckState::Unhealthy);
  EXPECT_FALSE(t.eligible());
  // Coming back still takes healthy_threshold passes.
  EXPECT_FALSE(t.record(true));
  EXPECT_TRUE(t.record(true));
  EXPECT_EQ(t.state(), CheckState::Healthy);
}

TEST(HealthTracker, ForceHealthyComesBackWithoutThreshold) {
  HealthTracker t(3, 1, false);
  ASSERT_TRUE(t.record(false));
  EXPECT_FALSE(t.record(true));  // one pass of three
  EXPECT_TRUE(t.forceHealthy());
  EXPECT_EQ(t.state(), CheckState::Healthy);
  EXPECT_TRUE(t.eligible());
  EXPECT_FALSE(t.forceHealthy());  // already healthy: no change
  // The earlier pass streak is gone; one failure (threshold 1) takes it out.
  EXPECT_TRUE(t.record(false));
  EXPECT_FALSE(t.eligible());
}

TEST(HealthTracker, ForceUnhealthyFromUnknown) {
  HealthTracker t(2, 5, true);
  EXPECT_TRUE(t.forceUnhealthy());
  EXPECT_EQ(t.state(), CheckState::Unhealthy);
  EXPECT_FALSE(t.eligible());
}

TEST(HealthTracker, ForceUnhealthyWhenUnhealthyResetsPassStreak) {
  HealthTracker t(2, 5, true);
  ASSERT_TRUE(t.record(false));
  EXPECT_FALSE(t.record(true));
  EXPECT_FALSE(t.forceUnhealthy());
  EXPECT_EQ(t.state(), CheckState::Unhealthy);
  EXPECT_FALSE(t.record(true));  // the earlier pass no longer counts
  EXPECT_TRUE(t.record(true));
}

TEST(HealthTracker, ForceResetsFailureStreakForLaterCounting) {
  HealthTracker t(1, 3, true);
  ASSERT_TRUE(t.record(true));
  EXPECT_FALSE(t.record(false));
  EXPECT_TRUE(t.forceUnhealthy());
  EXPECT_TRUE(t.record(true));
  // A fresh Healthy period needs the full unhealthy_threshold again.
  EXPECT_FALSE(t.record(false));
  EXPECT_FALSE(t.record(false));
  EXPECT_TRUE(t.record(false));
}

TEST(HealthTracker, StateNames) {
  EXPECT_STREQ(toString(CheckState::Unknown), "unknown");
  EXPECT_STREQ(toString(CheckState::Healthy), "healthy");
  EXPECT_STREQ(toString(CheckState::Unhealthy), "unhealthy");
}

}  // namespace
}  // namespace switchyard::upstream::health
