// event::Timer on a ManualClock: armed timers wait for advance(), fire on the
// loop's next pass in due order, can be cancelled or re-armed, and a zero
// delay runs on the next pass as with libevent's own timers. And the real
// clock still drives libevent timers. LazyTimer: cheap arm/cancel, never early.
#include "event/clock.h"

#include <gtest/gtest.h>

#include <string>

#include "event/loop.h"

namespace switchyard::event {
namespace {

using namespace std::chrono_literals;

class ManualClockTest : public ::testing::Test {
 protected:
  void pass() { event_base_loop(base_.get(), EVLOOP_NONBLOCK); }

  EventBasePtr base_{event_base_new()};
  ManualClock clock_;
  std::string fired_;
};

TEST_F(ManualClockTest, TimersFireOnlyWhenTimeReachesThemInDueOrder) {
  Timer a(base_.get(), [&] { fired_ += "a"; }, clock_);
  Timer b(base_.get(), [&] { fired_ += "b"; }, clock_);
  const auto t0 = clock_.now();
  a.arm(300ms);
  b.arm(100ms);
  EXPECT_TRUE(a.armed());
  EXPECT_EQ(clock_.untilNextTimer(), Duration(100ms));
  pass();
  EXPECT_EQ(fired_, "");
  clock_.advance(99ms);
  pass();
  EXPECT_EQ(fired_, "");
  clock_.advance(1ms);
  EXPECT_TRUE(b.armed());  // due and active: it runs on the next pass
  pass();
  EXPECT_EQ(fired_, "b");
  EXPECT_FALSE(b.armed());
  clock_.advance(1s);
  pass();
  EXPECT_EQ(fired_, "ba");
  EXPECT_EQ(clock_.now() - t0, Duration(1100ms));
  EXPECT_EQ(clock_.waitingTimers(), 0u);
}

TEST_F(ManualClockTest, CancelAndReArm) {
  Timer a(base_.get(), [&] { fired_ += "a"; }, clock_);
  a.arm(100ms);
  a.arm(200ms);  // replaces the first arming
  EXPECT_EQ(clock_.waitingTimers(), 1u);
  clock_.advance(150ms);
  pass();
  EXPECT_EQ(fired_, "");
  a.cancel();
  EXPECT_FALSE(a.armed());
  clock_.advance(1s);
  pass();
  EXPECT_EQ(fired_, "");
  // Cancelled after it came due but before the loop ran it: it does not run.
  a.arm(10ms);
  clock_.advance(10ms);
  a.cancel();
  pass();
  EXPECT_EQ(fired_, "");
}

TEST_F(ManualClockTest, ZeroDelayRunsOnTheNextPassAndDestructionCancels) {
  {
    Timer gone(base_.get(), [&] { fired_ += "x"; }, clock_);
    gone.arm(5ms);
  }
  EXPECT_EQ(clock_.waitingTimers(), 0u);
  Timer now(base_.get(), [&] { fired_ += "n"; }, clock_);
  now.arm(Duration::zero());
  pass();
  EXPECT_EQ(fired_, "n");
  clock_.advance(1s);
  pass();
  EXPECT_EQ(fired_, "n");
}

TEST(RealClock, DrivesLibeventTimers) {
  EventBasePtr base(event_base_new());
  bool fired = false;
  Timer t(base.get(), [&] { fired = true; });
  t.arm(1ms);
  EXPECT_TRUE(t.armed());
  for (int i = 0; i < 1000 && !fired; ++i) event_base_loop(base.get(), EVLOOP_ONCE);
  EXPECT_TRUE(fired);
  EXPECT_FALSE(t.armed());
}

}  // namespace
}  // namespace switchyard::event

namespace switchyard::event {
namespace {

using namespace std::chrono_literals;

class LazyTimerTest : public ::testing::Test {
 protected:
  void pass() { event_base_loop(base_.get(), EVLOOP_NONBLOCK); }

  EventBasePtr base_{event_base_new()};
  ManualClock clock_;
  int fired_ = 0;
};

// Arming and cancelling leave the pending event alone; it fires at the first
// due time, finds nothing due and stops.
TEST_F(LazyTimerTest, CancelledArmsNeverRunAndCostOneWakeUp) {
  LazyTimer t(base_.get(), [&] { ++fired_; }, clock_);
  for (int i = 0; i < 100; ++i) {
    t.arm(100ms);
    EXPECT_TRUE(t.armed());
    t.cancel();
    EXPECT_FALSE(t.armed());
  }
  EXPECT_EQ(clock_.waitingTimers(), 1u);
  clock_.advance(100ms);
  pass();
  EXPECT_EQ(fired_, 0);
  EXPECT_EQ(clock_.waitingTimers(), 0u);
}

// Re-armed later than the pending event: the event wakes early and waits for
// the rest, so fn runs at the last due time and not before.
TEST_F(LazyTimerTest, ReArmedLaterRunsAtTheLaterTimeOnly) {
  LazyTimer t(base_.get(), [&] { ++fired_; }, clock_);
  t.arm(100ms);
  clock_.advance(60ms);
  t.cancel();
  t.arm(100ms);  // due at 160 ms
  clock_.advance(40ms);  // the first event (100 ms) wakes
  pass();
  EXPECT_EQ(fired_, 0);
  EXPECT_TRUE(t.armed());
  EXPECT_EQ(clock_.untilNextTimer(), Duration(60ms));
  clock_.advance(59ms);
  pass();
  EXPECT_EQ(fired_, 0);
  clock_.advance(1ms);
  pass();
  EXPECT_EQ(fired_, 1);
  EXPECT_FALSE(t.armed());
  clock_.advance(1s);
  pass();
  EXPECT_EQ(fired_, 1);  // once
}

// Re-armed earlier than the pending event: the event is moved forward.
TEST_F(LazyTimerTest, ReArmedEarlierRunsAtTheEarlierTime) {
  LazyTimer t(base_.get(), [&] { ++fired_; }, clock_);
  t.arm(1s);
  t.arm(10ms);
  clock_.advance(10ms);
  pass();
  EXPECT_EQ(fired_, 1);
  // fn may arm the timer again.
  LazyTimer again(base_.get(), [&] { if (++fired_ < 4) again.arm(5ms); }, clock_);
  again.arm(5ms);
  for (int i = 0; i < 5; ++i) {
    clock_.advance(5ms);
    pass();
  }
  EXPECT_EQ(fired_, 4);
}

// Timer: a cancel after it fired, or before it was ever armed, is harmless.
TEST_F(LazyTimerTest, PlainTimerCancelAfterFiring) {
  Timer t(base_.get(), [&] { ++fired_; }, clock_);
  t.cancel();
  t.arm(10ms);
  clock_.advance(10ms);
  pass();
  EXPECT_EQ(fired_, 1);
  t.cancel();
  t.arm(10ms);
  EXPECT_TRUE(t.armed());
  clock_.advance(10ms);
  pass();
  EXPECT_EQ(fired_, 2);
}

}  // namespace
}  // namespace switchyard::event
