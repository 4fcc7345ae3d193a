// EventLoop::post from other threads: every closure runs exactly once, on
// the loop's thread, in each poster's order, and none waits for a later post
// to wake the loop (the eventfd is written once per batch, so a lost wake-up
// would leave a closure queued with the loop asleep).
#include "event/loop.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace switchyard::event {
namespace {

using namespace std::chrono_literals;

class EventLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    initThreading();
    thread_ = std::thread([this] {
      loop_thread_ = std::this_thread::get_id();
      loop_.run();
    });
  }
  void TearDown() override {
    loop_.stop();
    thread_.join();
  }

  EventLoop loop_;
  std::thread thread_;
  std::thread::id loop_thread_;
};

TEST_F(EventLoopTest, EveryPostRunsOnceOnTheLoopInEachPostersOrder) {
  constexpr int kPosters = 4;
  constexpr int kEach = 20000;
  std::vector<int> next(kPosters, 0);  // touched only on the loop's thread
  std::atomic<int> out_of_order{0};
  std::atomic<int> off_thread{0};
  std::mutex mu;
  std::condition_variable cv;
  int ran = 0;
  std::vector<std::thread> posters;
  for (int p = 0; p < kPosters; ++p) {
    posters.emplace_back([&, p] {
      for (int i = 0; i < kEach; ++i) {
        loop_.post([&, p, i] {
          if (std::this_thread::get_id() != loop_thread_) off_thread++;
          if (next[static_cast<size_t>(p)] != i) out_of_order++;
          next[static_cast<size_t>(p)] = i + 1;
          std::lock_guard<std::mutex> g(mu);
          if (++ran == kPosters * kEach) cv.notify_all();
        });
        if (i % 1000 == 0) std::this_thread::yield();  // let the loop drain between bursts
      }
    });
  }
  for (auto& t : posters) t.join();
  std::unique_lock<std::mutex> lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, 30s, [&] { return ran == kPosters * kEach; }))
      << ran << " of " << kPosters * kEach << " posts ran";
  EXPECT_EQ(out_of_order.load(), 0);
  EXPECT_EQ(off_thread.load(), 0);
}

TEST_F(EventLoopTest, APostAfterTheQueueDrainedWakesTheLoopAgain) {
  // One post at a time, each waited for: every one needs its own wake-up.
  for (int i = 0; i < 200; ++i) {
    std::promise<void> done;
    loop_.post([&] { done.set_value(); });
    ASSERT_EQ(done.get_future().wait_for(10s), std::future_status::ready) << "post " << i;
  }
}

}  // namespace
}  // namespace switchyard::event
