// Tests for the admin HTTP server: binding to port 0, routing by exact path,
// 404 for unknown paths, 405 for methods other than GET, start/stop lifecycle.
#include "admin/admin_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <string>

namespace switchyard::admin {
namespace {

// Sends `request` to 127.0.0.1:port (or [::1]) and reads until the server
// closes. Returns "" on connection failure.
std::string rawRequest(uint16_t port, const std::string& request, bool v6 = false) {
  int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int rc;
  if (v6) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    a.sin6_addr = in6addr_loopback;
    rc = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  } else {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rc = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  if (rc != 0) {
    close(fd);
    return "";
  }
  size_t off = 0;
  while (off < request.size()) {
    ssize_t n = write(fd, request.data() + off, request.size() - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

std::string get(uint16_t port, const std::string& path) {
  return rawRequest(port, "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n");
}

std::string statusLine(const std::string& resp) { return resp.substr(0, resp.find("\r\n")); }

std::string body(const std::string& resp) {
  auto pos = resp.find("\r\n\r\n");
  return pos == std::string::npos ? "" : resp.substr(pos + 4);
}

class AdminServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.handle("/healthz", [] { return Response{200, "text/plain; charset=utf-8", "ok\n"}; });
    server_.handle("/ready", [this] {
      return ready_ ? Response{200, "text/plain; charset=utf-8", "ready\n"}
                    : Response{503, "text/plain; charset=utf-8", "draining\n"};
    });
    server_.handle("/clusters", [] { return Response{200, "application/json", R"({"a":1})"}; });
    server_.handle("/boom", []() -> Response { throw std::runtime_error("boom"); });
    Status st = server_.start();
    ASSERT_TRUE(st.ok()) << st.error();
    ASSERT_NE(server_.boundPort(), 0);
  }

  AdminServer server_{"127.0.0.1:0"};
  std::atomic<bool> ready_{true};
};

TEST_F(AdminServerTest, ServesRegisteredPath) {
  std::string resp = get(server_.boundPort(), "/healthz");
  EXPECT_EQ(statusLine(resp), "HTTP/1.0 200 OK");
  EXPECT_EQ(body(resp), "ok\n");
  EXPECT_NE(resp.find("Content-Type: text/plain; charset=utf-8\r\n"), std::string::npos);
  EXPECT_NE(resp.find("Cache-Control: no-store\r\n"), std::string::npos);
}

TEST_F(AdminServerTest, HandlerStatusAndContentTypePassThrough) {
  ready_ = false;
  std::string resp = get(server_.boundPort(), "/ready");
  EXPECT_EQ(statusLine(resp), "HTTP/1.0 503 Service Unavailable");
  EXPECT_EQ(body(resp), "draining\n");
  resp = get(server_.boundPort(), "/clusters");
  EXPECT_NE(resp.find("Content-Type: application/json\r\n"), std::string::npos);
  EXPECT_EQ(body(resp), R"({"a":1})");
}

// The query string does not take part in routing.
TEST_F(AdminServerTest, QueryStringIsIgnoredForRouting) {
  EXPECT_EQ(statusLine(get(server_.boundPort(), "/healthz?verbose=1")), "HTTP/1.0 200 OK");
}

TEST_F(AdminServerTest, UnknownPathIs404) {
  EXPECT_EQ(statusLine(get(server_.boundPort(), "/nope")), "HTTP/1.0 404 Not Found");
  EXPECT_EQ(statusLine(get(server_.boundPort(), "/healthz/")), "HTTP/1.0 404 Not Found");
  EXPECT_EQ(statusLine(get(server_.boundPort(), "/")), "HTTP/1.0 404 Not Found");
}

TEST_F(AdminServerTest, NonGetIs405WithAllow) {
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    std::string resp = rawRequest(server_.boundPort(), std::string(method) +
                                                           " /healthz HTTP/1.0\r\n"
                                                           "Content-Length: 0\r\n\r\n");
    EXPECT_EQ(statusLine(resp), "HTTP/1.0 405 Method Not Allowed") << method;
    EXPECT_NE(resp.find("Allow: GET\r\n"), std::string::npos) << method;
  }
}

// A throwing handler gives 500 and the server keeps serving.
TEST_F(AdminServerTest, ThrowingHandlerIs500) {
  EXPECT_EQ(statusLine(get(server_.boundPort(), "/boom")), "HTTP/1.0 500 Internal Server Error");
  EXPECT_EQ(statusLine(get(server_.boundPort(), "/healthz")), "HTTP/1.0 200 OK");
}

// HTTP/1.1 keep-alive: two requests on one connection.
TEST_F(AdminServerTest, KeepAliveServesTwoRequests) {
  std::string resp = rawRequest(server_.boundPort(),
                                "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                                "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  size_t first = resp.find("HTTP/1.1 200 OK");
  ASSERT_NE(first, std::string::npos);
  EXPECT_NE(resp.find("HTTP/1.1 200 OK", first + 1), std::string::npos);
}

TEST_F(AdminServerTest, StopClosesListenerAndIsIdempotent) {
  uint16_t port = server_.boundPort();
  server_.stop();
  EXPECT_FALSE(server_.running());
  EXPECT_EQ(get(port, "/healthz"), "");
  server_.stop();
}

TEST(AdminServerLifecycleTest, BusyPortFailsToStart) {
  AdminServer a("127.0.0.1:0");
  ASSERT_TRUE(a.start().ok());
  AdminServer b("127.0.0.1:" + std::to_string(a.boundPort()));
  Status st = b.start();
  EXPECT_FALSE(st.ok());
  EXPECT_FALSE(b.running());
}

TEST(AdminServerLifecycleTest, BadAddressFailsToStart) {
  AdminServer a("no-port-here");
  Status st = a.start();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.error().find("no-port-here"), std::string::npos);
}

TEST(AdminServerLifecycleTest, StartTwiceFails) {
  AdminServer a("127.0.0.1:0");
  ASSERT_TRUE(a.start().ok());
  EXPECT_FALSE(a.start().ok());
}

TEST(AdminServerLifecycleTest, DestructorStopsAndStopWithoutStartIsFine) {
  AdminServer never("127.0.0.1:0");
  never.stop();
  auto a = std::make_unique<AdminServer>("127.0.0.1:0");
  a->handle("/healthz", [] { return Response{200, "text/plain", "ok"}; });
  ASSERT_TRUE(a->start().ok());
  a.reset();
}

TEST(AdminServerLifecycleTest, BindsIpv6Loopback) {
  AdminServer a("[::1]:0");
  a.handle("/healthz", [] { return Response{200, "text/plain", "ok"}; });
  Status st = a.start();
  if (!st.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << st.error();
  std::string resp = rawRequest(a.boundPort(), "GET /healthz HTTP/1.0\r\n\r\n", /*v6=*/true);
  EXPECT_EQ(statusLine(resp), "HTTP/1.0 200 OK");
}

}  // namespace
}  // namespace switchyard::admin
