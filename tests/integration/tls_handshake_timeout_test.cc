// TLS handshake timeout (listeners[].tls.handshake_timeout): connections that
// stall before or inside the handshake are closed once it passes and counted
// as result="timeout", while a well-behaved TLS client keeps working.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tls_support.h"

namespace sytest {
namespace {

class TlsHandshakeTimeoutTest : public TlsProxyTest {};

// True once the peer closed the socket (EOF or reset); reads whatever it sent.
bool PeerClosed(int fd) {
  char buf[512];
  for (int i = 0; i < 64; ++i) {
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
  }
  return false;
}

TEST_F(TlsHandshakeTimeoutTest, StalledHandshakesAreClosedWhileCanaryWorks) {
  Backend& b = StartBackend("backend-a");
  StartYaml("workers: 2\n"
            "admin: { address: \"@ADMIN@\" }\n"
            "listeners:\n"
            "  - name: public\n"
            "    address: \"@LISTEN@\"\n"
            "    tls: { cert: \"" + pki_.Crt("server") + "\", key: \"" + pki_.Key("server") +
            "\", handshake_timeout: 1s }\n"
            "routes:\n"
            "  - match: { service: switchyard.test.Echo }\n"
            "    cluster: echo\n"
            "clusters:\n"
            "  - name: echo\n"
            "    endpoints: [\"" + b.address + "\"]\n");
  auto canary = TlsChannel(proxy_address(), pki_.Pem("ca"));
  ASSERT_TRUE(Unary(canary).ok());

  // Half send nothing at all; half send the start of a TLS record that never completes.
  constexpr int kStalled = 40;
  std::vector<int> fds;
  for (int i = 0; i < kStalled; ++i) {
    int fd = ConnectTcp(proxy_address());
    ASSERT_GE(fd, 0);
    if (i % 2 == 1) {
      const char partial[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
      ASSERT_EQ(::send(fd, partial, sizeof partial - 1, MSG_NOSIGNAL), static_cast<ssize_t>(sizeof partial - 1));
    }
    fds.push_back(fd);
  }

  std::vector<bool> closed(fds.size(), false);
  size_t closed_count = 0;
  int canary_calls = 0;
  auto until = Clock::now() + 20s;
  for (int round = 0; round < 2000 && closed_count < fds.size() && Clock::now() < until; ++round) {
    grpc::Status s = Unary(canary);
    ASSERT_TRUE(s.ok()) << "canary failed: " << s.error_code() << " " << s.error_message();
    ++canary_calls;
    std::vector<pollfd> pfds;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (!closed[i]) pfds.push_back({fds[i], POLLIN, 0});
    }
    ::poll(pfds.data(), pfds.size(), 50);
    for (size_t i = 0; i < fds.size(); ++i) {
      if (!closed[i] && PeerClosed(fds[i])) {
        closed[i] = true;
        ++closed_count;
      }
    }
  }
  for (int fd : fds) ::close(fd);
  EXPECT_EQ(closed_count, fds.size()) << "stalled handshakes left open after the timeout";
  EXPECT_GT(canary_calls, 0);
  EXPECT_GE(MetricValue("switchyard_tls_handshakes_total", {{"listener", "public"}, {"result", "timeout"}}),
            kStalled);
  EXPECT_GE(MetricValue("switchyard_tls_handshakes_total", {{"listener", "public"}, {"result", "ok"}}), 1);
  // The canary's connection outlived many timeouts: the timer is per handshake only.
  ASSERT_TRUE(Unary(canary).ok());
}

}  // namespace
}  // namespace sytest
