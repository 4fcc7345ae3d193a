// event::DeadlineQueue on a ManualClock: deadlines run in due order whatever
// order they were armed in, never early; cancelled or destroyed entries never
// run; a callback may cancel a later entry; arming many calls with the same
// timeout keeps one libevent timer.
#include "event/deadline_queue.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace switchyard::event {
namespace {

using namespace std::chrono_literals;

class DeadlineQueueTest : public ::testing::Test {
 protected:
  void pass() { event_base_loop(base_.get(), EVLOOP_NONBLOCK); }
  std::function<void()> mark(char c) {
    return [this, c] { fired_ += c; };
  }

  EventBasePtr base_{event_base_new()};
  ManualClock clock_;
  DeadlineQueue queue_{base_.get(), clock_};
  std::string fired_;
};

TEST_F(DeadlineQueueTest, EntriesRunInDueOrderAndNeverEarly) {
  DeadlineQueue::Entry a(mark('a')), b(mark('b')), c(mark('c')), d(mark('d'));
  const auto t0 = clock_.now();
  queue_.arm(b, t0 + 20ms);
  queue_.arm(d, t0 + 40ms);
  queue_.arm(a, t0 + 10ms);  // earlier than every other: the timer moves up
  queue_.arm(c, t0 + 30ms);  // in the middle
  clock_.advance(9ms);
  pass();
  EXPECT_EQ(fired_, "");
  clock_.advance(1ms);
  pass();
  EXPECT_EQ(fired_, "a");
  EXPECT_FALSE(a.armed());
  EXPECT_TRUE(b.armed());
  clock_.advance(25ms);  // t0 + 35ms: b and c are due, d is not
  pass();
  EXPECT_EQ(fired_, "abc");
  clock_.advance(5ms);
  pass();
  EXPECT_EQ(fired_, "abcd");
  EXPECT_TRUE(queue_.empty());
}

TEST_F(DeadlineQueueTest, CancelledAndDestroyedEntriesNeverRun) {
  DeadlineQueue::Entry a(mark('a')), c(mark('c'));
  const auto t0 = clock_.now();
  queue_.arm(a, t0 + 10ms);
  {
    DeadlineQueue::Entry b(mark('b'));
    queue_.arm(b, t0 + 5ms);  // the head, destroyed while armed
  }
  queue_.arm(c, t0 + 15ms);
  a.cancel();
  EXPECT_FALSE(a.armed());
  clock_.advance(20ms);
  pass();
  EXPECT_EQ(fired_, "c");
  EXPECT_TRUE(queue_.empty());
}

TEST_F(DeadlineQueueTest, RearmingMovesAnEntry) {
  DeadlineQueue::Entry a(mark('a')), b(mark('b'));
  const auto t0 = clock_.now();
  queue_.arm(a, t0 + 10ms);
  queue_.arm(b, t0 + 20ms);
  queue_.arm(a, t0 + 30ms);  // now after b
  clock_.advance(20ms);
  pass();
  EXPECT_EQ(fired_, "b");
  clock_.advance(10ms);
  pass();
  EXPECT_EQ(fired_, "ba");
}

// Ending one call may end others (a connection closing): the entries it
// takes down with it must not run.
TEST_F(DeadlineQueueTest, ACallbackMayCancelEntriesDueAtTheSameTime) {
  auto b = std::make_unique<DeadlineQueue::Entry>(mark('b'));
  DeadlineQueue::Entry a([&] {
    fired_ += 'a';
    b.reset();
  });
  const auto t0 = clock_.now();
  queue_.arm(a, t0 + 10ms);
  queue_.arm(*b, t0 + 10ms);
  clock_.advance(10ms);
  pass();
  EXPECT_EQ(fired_, "a");
  EXPECT_TRUE(queue_.empty());
}

// The common case: every call has the same timeout, so deadlines arrive in
// order and come and go far more often than they expire. One timer waits
// in libevent throughout.
TEST_F(DeadlineQueueTest, ManyCallsWithTheSameTimeoutKeepOneTimer) {
  std::vector<std::unique_ptr<DeadlineQueue::Entry>> calls;
  for (int i = 0; i < 1000; ++i) {
    calls.push_back(std::make_unique<DeadlineQueue::Entry>(mark('x')));
    queue_.arm(*calls.back(), clock_.now() + 100ms);
    if (i % 2 == 0) calls.back()->cancel();  // half of them finish in time
    clock_.advance(1us);
  }
  EXPECT_EQ(clock_.waitingTimers(), 1u);
  clock_.advance(200ms);
  for (int i = 0; i < 5 && fired_.size() < 500; ++i) pass();
  EXPECT_EQ(fired_, std::string(500, 'x'));
  EXPECT_TRUE(queue_.empty());
}

// A deadline already past when armed runs on the next pass.
TEST_F(DeadlineQueueTest, APastDeadlineRunsOnTheNextPass) {
  DeadlineQueue::Entry a(mark('a'));
  queue_.arm(a, clock_.now() - 1ms);
  pass();
  EXPECT_EQ(fired_, "a");
}

}  // namespace
}  // namespace switchyard::event
