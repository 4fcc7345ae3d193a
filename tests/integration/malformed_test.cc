// Broken or non-HTTP/2 clients get their own connection closed (GOAWAY with an
// error code for HTTP/2 violations) without disturbing other clients.
#include <unistd.h>

#include <atomic>
#include <thread>

#include "harness.h"
#include "raw_h2.h"

namespace sytest {
namespace {

using switchyard::test::EchoRequest;
using switchyard::test::EchoResponse;
using namespace std::string_literals;

std::string EmptySettings() { return EncodeFrame(0x4, 0x0, 0, ""); }

// A well-behaved client issuing unary calls on one channel until stopped.
class GoodClient {
 public:
  explicit GoodClient(const std::string& address) : stub_(switchyard::test::Echo::NewStub(MakeChannel(address))) {
    thread_ = std::thread([this] {
      for (int i = 0; i < 100000 && (!stop_ || calls_ < 50); ++i) {
        grpc::ClientContext ctx;
        ctx.set_deadline(In(10s));
        EchoRequest req;
        req.set_payload("good-" + std::to_string(i));
        EchoResponse resp;
        grpc::Status s = stub_->Unary(&ctx, req, &resp);
        calls_++;
        if (!s.ok() || resp.payload() != req.payload()) {
          failures_++;
          if (first_error_.empty()) first_error_ = std::to_string(s.error_code()) + ": " + s.error_message();
        }
      }
    });
  }
  // Stops after at least 50 calls in all.
  void Finish() {
    stop_ = true;
    thread_.join();
  }
  int calls() const { return calls_; }
  int failures() const { return failures_; }
  const std::string& first_error() const { return first_error_; }

 private:
  std::unique_ptr<switchyard::test::Echo::Stub> stub_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> calls_{0};
  std::atomic<int> failures_{0};
  std::string first_error_;
};

class MalformedTest : public ProxyTest {
 protected:
  void SetUp() override {
    Backend& b = StartBackend("backend-a");
    StartProxy(DefaultConfig({&b}));
  }

  // Sends bytes on a fresh connection; expects a GOAWAY with a non-zero error
  // code and then the connection closed.
  void ExpectGoawayAndClose(const std::string& what, const std::string& bytes) {
    SCOPED_TRACE(what);
    int fd = ConnectTcp(proxy_address());
    ASSERT_GE(fd, 0);
    WriteAll(fd, bytes);
    RawReadResult r = ReadUntilClosed(fd, 5000ms);
    ::close(fd);
    uint32_t code = 0;
    EXPECT_TRUE(FindGoaway(r, &code)) << "no GOAWAY frame among " << r.frames.size() << " frames";
    EXPECT_NE(code, 0u) << "GOAWAY carries NO_ERROR for a protocol violation";
    EXPECT_TRUE(r.closed) << "connection left open";
  }
};

// Garbage after a valid preface (DATA on stream 0, an oversized frame, a
// HEADERS block that is not valid HPACK) each get GOAWAY(error) and a closed
// connection, while a concurrent gRPC client sees every call succeed.
TEST_F(MalformedTest, GarbageFramesGetGoawayWithoutDisturbingOthers) {
  GoodClient good(proxy_address());
  const std::string preface = std::string(kClientPreface) + EmptySettings();
  for (int round = 0; round < 3; ++round) {
    ExpectGoawayAndClose("DATA on stream 0", preface + EncodeFrame(0x0, 0x0, 0, "garbage!"));
    // Length 0xffffff exceeds SETTINGS_MAX_FRAME_SIZE (16384 default).
    ExpectGoawayAndClose("oversized frame", preface + "\xff\xff\xff\x00\x00\x00\x00\x00\x01"s + std::string(64, 'x'));
    ExpectGoawayAndClose("bad HPACK", preface + EncodeFrame(0x1, 0x4 | 0x1, 1, std::string("\xff\xff\xff\xff\xff\xff\xff\xff", 8)));
    ExpectGoawayAndClose("SETTINGS with bad length", preface + EncodeFrame(0x4, 0x0, 0, "12345"));
  }
  good.Finish();
  EXPECT_EQ(good.failures(), 0) << "of " << good.calls() << " calls; first: " << good.first_error();
  EXPECT_GE(good.calls(), 50);
}

// Plain gRPC over HTTP/1.1, an HTTP/1.1 request the listener does not serve
// and plain garbage instead of the preface get an HTTP/1.1 4xx answer and the
// connection closed (promptly, not by idle timeout) while a concurrent gRPC
// client is unaffected.
TEST_F(MalformedTest, NonHttp2ClientsAreDisconnected) {
  GoodClient good(proxy_address());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"HTTP/1.1 request", "POST /switchyard.test.Echo/Unary HTTP/1.1\r\nHost: localhost\r\n"
                           "Content-Type: application/grpc\r\nContent-Length: 5\r\n\r\n\0\0\0\0\0"s},
      {"HTTP/1.1 GET", "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"},
      {"binary garbage", std::string(64, '\x17')},
  };
  for (int round = 0; round < 3; ++round) {
    for (const auto& [what, bytes] : cases) {
      SCOPED_TRACE(what);
      int fd = ConnectTcp(proxy_address());
      ASSERT_GE(fd, 0);
      WriteAll(fd, bytes);
      auto start = Clock::now();
      RawReadResult r = ReadUntilClosed(fd, 5000ms);
      ::close(fd);
      EXPECT_TRUE(r.closed) << "connection still open after 5 s; got " << r.bytes.size() << " bytes";
      EXPECT_EQ(r.bytes.substr(0, 10), "HTTP/1.1 4") << r.bytes;
      EXPECT_LT(Clock::now() - start, 5000ms);
    }
  }
  good.Finish();
  EXPECT_EQ(good.failures(), 0) << "of " << good.calls() << " calls; first: " << good.first_error();
  EXPECT_GE(good.calls(), 50);
}

// A client that opens connections and sends half a preface then goes quiet
// does not stop the proxy from serving others.
TEST_F(MalformedTest, StalledHalfPrefaceConnectionsDoNotBlockOthers) {
  std::vector<int> fds;
  for (int i = 0; i < 20; ++i) {
    int fd = ConnectTcp(proxy_address());
    ASSERT_GE(fd, 0);
    WriteAll(fd, std::string(kClientPreface).substr(0, 10));
    fds.push_back(fd);
  }
  auto stub = EchoStub();
  for (int i = 0; i < 20; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(5s));
    EchoResponse resp;
    grpc::Status s = stub->Unary(&ctx, EchoRequest(), &resp);
    EXPECT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
  }
  for (int fd : fds) ::close(fd);
}

}  // namespace
}  // namespace sytest
