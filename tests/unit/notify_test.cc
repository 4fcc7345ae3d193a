// Tests for the sd_notify wrapper: no-ops without NOTIFY_SOCKET, and the exact
// datagrams sent to a socket standing in for systemd.
#include "server/notify.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>

namespace switchyard::server::notify {
namespace {

TEST(NotifyTest, NoOpWithoutNotifySocket) {
  unsetenv("NOTIFY_SOCKET");
  EXPECT_FALSE(enabled());
  EXPECT_FALSE(ready());
  EXPECT_FALSE(reloading());
  EXPECT_FALSE(stopping());
  EXPECT_FALSE(status("hello"));
}

class NotifyFakeSystemdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = "/tmp/switchyard-notify-" + std::to_string(getpid());
    unlink(path_.c_str());
    fd_ = socket(AF_UNIX, SOCK_DGRAM, 0);
    ASSERT_GE(fd_, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    path_.copy(a.sun_path, sizeof a.sun_path - 1);
    ASSERT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    timeval tv{2, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setenv("NOTIFY_SOCKET", path_.c_str(), 1);
  }
  void TearDown() override {
    unsetenv("NOTIFY_SOCKET");
    close(fd_);
    unlink(path_.c_str());
  }
  std::string receive() {
    char buf[1024];
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }

  std::string path_;
  int fd_ = -1;
};

TEST_F(NotifyFakeSystemdTest, SendsStateLines) {
  EXPECT_TRUE(enabled());
  EXPECT_TRUE(ready());
  EXPECT_EQ(receive(), "READY=1");
  EXPECT_TRUE(stopping());
  EXPECT_EQ(receive(), "STOPPING=1");
  // The socket stays usable: notifications after the first still arrive.
  EXPECT_TRUE(ready());
  EXPECT_EQ(receive(), "READY=1");
}

TEST_F(NotifyFakeSystemdTest, ReloadingCarriesMonotonicTimestamp) {
  EXPECT_TRUE(reloading());
  std::string msg = receive();
  ASSERT_EQ(msg.rfind("RELOADING=1\nMONOTONIC_USEC=", 0), 0u) << msg;
  std::string usec = msg.substr(msg.find('=', 12) + 1);
  ASSERT_FALSE(usec.empty());
  EXPECT_EQ(usec.find_first_not_of("0123456789"), std::string::npos) << usec;
  EXPECT_GT(std::stoull(usec), 0u);
}

// A newline in the status text must not smuggle in another assignment.
TEST_F(NotifyFakeSystemdTest, StatusCannotInjectAssignments) {
  EXPECT_TRUE(status("draining\nREADY=1"));
  EXPECT_EQ(receive(), "STATUS=draining READY=1");
}

}  // namespace
}  // namespace switchyard::server::notify
