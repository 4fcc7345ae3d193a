// StreamTimeouts on a ManualClock: the connection idle timeout, the request
// headers timeout and the stream idle sweep fire when their time has passed,
// never before, and tell the owner what to do (close, end the RPC, reset).
#include "proxy/stream_timeouts.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace switchyard::proxy {
namespace {

using namespace std::chrono_literals;

class StreamTimeoutsTest : public ::testing::Test {
 protected:
  StreamTimeoutsTest() {
    listener_.idle_timeout = 10s;
    listener_.request_headers_timeout = 2s;
    listener_.stream_idle_timeout = 1s;
  }

  StreamTimeouts& timeouts() {
    if (!timeouts_) {
      timeouts_ = std::make_unique<StreamTimeouts>(
          base_.get(), clock_, listener_,
          StreamTimeouts::Actions{
              .open = [this] { return open_; },
              .close =
                  [this](StreamTimeouts::Expired what) {
                    closes_.push_back(what == StreamTimeouts::Expired::Idle ? "idle" : "headers");
                  },
              .end_rpc =
                  [this](int32_t id, const std::string& why) {
                    if (rpcs_.count(id) == 0) return false;
                    ended_.push_back(id);
                    why_ = why;
                    return true;
                  },
              .reset = [this](int32_t id) { resets_.push_back(id); },
          });
    }
    return *timeouts_;
  }

  // Moves the clock in small steps, running the loop after each, as time
  // passing on a real loop would.
  void elapse(Duration d) {
    for (Duration done{}; done < d; done += 10ms) {
      clock_.advance(10ms);
      event_base_loop(base_.get(), EVLOOP_NONBLOCK);
    }
  }

  event::EventBasePtr base_{event_base_new()};
  event::ManualClock clock_;
  ListenerInfo listener_;
  bool open_ = true;
  std::set<int32_t> rpcs_;
  std::vector<std::string> closes_;
  std::vector<int32_t> ended_;
  std::vector<int32_t> resets_;
  std::string why_;
  std::unique_ptr<StreamTimeouts> timeouts_;
};

TEST_F(StreamTimeoutsTest, IdleConnectionClosesAfterIdleTimeoutUnlessAStreamOpens) {
  timeouts().connectionIdle();
  elapse(9990ms);
  EXPECT_TRUE(closes_.empty());
  elapse(10ms);
  EXPECT_EQ(closes_, std::vector<std::string>{"idle"});

  closes_.clear();
  timeouts().connectionIdle();
  elapse(5s);
  timeouts().streamOpened(1);  // busy: the idle timer stops
  elapse(20s);
  EXPECT_TRUE(closes_.empty());
}

TEST_F(StreamTimeoutsTest, ZeroIdleTimeoutNeverCloses) {
  listener_.idle_timeout = Duration::zero();
  timeouts().connectionIdle();
  elapse(30s);
  EXPECT_TRUE(closes_.empty());
}

TEST_F(StreamTimeoutsTest, UnfinishedHeaderBlockClosesAfterRequestHeadersTimeout) {
  timeouts().frameBegins(NGHTTP2_HEADERS);
  elapse(1s);
  timeouts().frameBegins(NGHTTP2_CONTINUATION);  // still the same block
  timeouts().frameBegins(NGHTTP2_HEADERS);       // does not restart the timer
  elapse(990ms);
  EXPECT_TRUE(closes_.empty());
  elapse(10ms);
  EXPECT_EQ(closes_, std::vector<std::string>{"headers"});
}

TEST_F(StreamTimeoutsTest, FinishedHeaderBlockOrAnotherFrameStopsTheHeadersTimer) {
  timeouts().frameBegins(NGHTTP2_HEADERS);
  timeouts().headersReceived();
  elapse(5s);
  timeouts().frameBegins(NGHTTP2_HEADERS);
  timeouts().frameBegins(NGHTTP2_DATA);  // the block before it ended
  elapse(5s);
  EXPECT_TRUE(closes_.empty());
  // A closed connection is not closed again.
  open_ = false;
  timeouts().frameBegins(NGHTTP2_HEADERS);
  elapse(5s);
  EXPECT_TRUE(closes_.empty());
}

TEST_F(StreamTimeoutsTest, IdleStreamEndsItsRpcThenIsResetIfStillIdle) {
  rpcs_ = {1, 3};
  timeouts().streamOpened(1);
  timeouts().streamOpened(3);
  elapse(500ms);
  timeouts().touch(3);  // stream 3 is active
  elapse(740ms);        // the sweep after 1 s of silence (every 250 ms) ends stream 1's RPC
  EXPECT_EQ(ended_, std::vector<int32_t>{1});
  EXPECT_EQ(why_, "stream idle for 1000ms (stream_idle_timeout)");
  EXPECT_TRUE(resets_.empty());
  timeouts().touch(3);
  elapse(260ms);  // the client read nothing: the next sweep resets stream 1
  EXPECT_EQ(resets_, std::vector<int32_t>{1});
  timeouts().streamClosed(1);
  timeouts().streamClosed(3);
  elapse(5s);
  EXPECT_EQ(ended_, std::vector<int32_t>{1});
  EXPECT_EQ(resets_, std::vector<int32_t>{1});
}

TEST_F(StreamTimeoutsTest, IdleStreamWithoutRpcIsResetAtOnce) {
  timeouts().streamOpened(5);  // rpcs_ does not hold it
  elapse(1250ms);
  EXPECT_TRUE(ended_.empty());
  EXPECT_EQ(resets_, std::vector<int32_t>{5});
  // At most one reset per sweep, and only after another full timeout.
  elapse(740ms);
  EXPECT_EQ(resets_.size(), 1u);
  elapse(260ms);
  EXPECT_EQ(resets_.size(), 2u);
}

TEST_F(StreamTimeoutsTest, TouchedStreamsAndForgottenStreamsAreNotSwept) {
  rpcs_ = {1};
  timeouts().streamOpened(1);
  for (int i = 0; i < 20; ++i) {
    elapse(500ms);
    timeouts().touch(1);
  }
  timeouts().touch(7);  // never opened: not tracked
  elapse(1100ms);       // 1 s after the last touch: the RPC ends, nothing is reset yet
  EXPECT_EQ(ended_, std::vector<int32_t>{1});
  EXPECT_TRUE(resets_.empty());
}

TEST_F(StreamTimeoutsTest, ZeroStreamIdleTimeoutTracksNothing) {
  listener_.stream_idle_timeout = Duration::zero();
  rpcs_ = {1};
  timeouts().streamOpened(1);
  elapse(10s);
  EXPECT_TRUE(ended_.empty());
  EXPECT_EQ(clock_.waitingTimers(), 0u);
}

}  // namespace
}  // namespace switchyard::proxy
