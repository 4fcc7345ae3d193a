// The per-worker access-log buffer: lines stay in memory until the buffer is
// full, its flush timer fires, or it is destroyed; a file target reopened in
// between gets the later batches.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/access_log_target.h"
#include "proxy/access_log_buffer.h"

namespace switchyard::proxy {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t lines(const std::string& p) {
  std::string s = slurp(p);
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

class AccessLogBufferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sy-alog-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/access.log";
    ASSERT_TRUE(log::AccessLogTarget::instance().open(path_).ok());
    base_ = event_base_new();
  }
  void TearDown() override {
    log::AccessLogTarget::instance().open("stdout");
    event_base_free(base_);
    fs::remove_all(dir_);
  }

  AccessRecord Record() {
    AccessRecord r;
    r.time = std::chrono::system_clock::now();
    r.client = "127.0.0.1";
    r.path = "/pkg.Svc/M";
    r.listener = "l";
    return r;
  }

  std::string dir_;
  std::string path_;
  event_base* base_ = nullptr;
};

TEST_F(AccessLogBufferTest, LinesWaitForTheTimerOrAFullBuffer) {
  event::ManualClock clock;
  AccessLogBuffer buf(base_, log::AccessLogTarget::instance(), clock);
  AccessLogSettings s;
  s.flush_interval = std::chrono::milliseconds(200);
  s.buffer_bytes = 4096;
  buf.configure(s);
  for (int i = 0; i < 5; ++i) buf.append(Record());
  EXPECT_EQ(lines(path_), 0u) << "a line was written at once";
  EXPECT_GT(buf.pendingBytes(), 0u);
  clock.advance(std::chrono::milliseconds(199));
  event_base_loop(base_, EVLOOP_NONBLOCK);
  EXPECT_EQ(lines(path_), 0u) << "written before flush_interval";
  // The flush timer writes the batch, flush_interval after its first line.
  clock.advance(std::chrono::milliseconds(1));
  event_base_loop(base_, EVLOOP_NONBLOCK);
  EXPECT_EQ(buf.pendingBytes(), 0u);
  EXPECT_EQ(lines(path_), 5u);
  // Filling the buffer writes without waiting for the timer.
  size_t before = lines(path_);
  int appended = 0;
  while (lines(path_) == before && appended < 1000) {
    buf.append(Record());
    ++appended;
  }
  EXPECT_LT(appended, 1000);
  EXPECT_GT(appended, 10) << "the buffer was written before it was full";
}

TEST_F(AccessLogBufferTest, DestructionWritesWhatIsLeftAndReopenMovesLaterBatches) {
  {
    AccessLogBuffer buf(base_, log::AccessLogTarget::instance());
    buf.append(Record());
    buf.flush();
    fs::rename(path_, path_ + ".1");
    ASSERT_TRUE(log::AccessLogTarget::instance().reopen().ok());
    buf.append(Record());
    buf.append(Record());
    EXPECT_EQ(lines(path_), 0u);
  }
  EXPECT_EQ(lines(path_ + ".1"), 1u);
  EXPECT_EQ(lines(path_), 2u);
}

TEST_F(AccessLogBufferTest, OffKeepsNothing) {
  ASSERT_TRUE(log::AccessLogTarget::instance().open("off").ok());
  AccessLogBuffer buf(base_, log::AccessLogTarget::instance());
  EXPECT_FALSE(buf.enabled());
  buf.append(Record());
  EXPECT_EQ(buf.pendingBytes(), 0u);
}

}  // namespace
}  // namespace switchyard::proxy
