// HealthChecker against real in-process gRPC servers on loopback, and against
// raw HTTP/2 servers for what its own gRPC client sends and how it judges
// answers no gRPC library gives.
#include "upstream/health/checker.h"

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "event/loop.h"
#include "health.grpc.pb.h"
#include "raw_health_server.h"

namespace switchyard::upstream::health {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kService = "test.Svc";

// A service with one no-op method: gRPC will not start a server whose only
// service is the default health service.
class NopService final : public ::grpc::Service {
 public:
  NopService() {
    using Req = ::grpc::health::v1::HealthCheckRequest;
    using Resp = ::grpc::health::v1::HealthCheckResponse;
    AddMethod(new ::grpc::internal::RpcServiceMethod(
        "/switchyard.test.Nop/Nop", ::grpc::internal::RpcMethod::NORMAL_RPC,
        new ::grpc::internal::RpcMethodHandler<NopService, Req, Resp, ::grpc::protobuf::MessageLite,
                                               ::grpc::protobuf::MessageLite>(
            [](NopService*, ::grpc::ServerContext*, const Req*, Resp*) { return ::grpc::Status::OK; },
            this)));
  }
};

// A gRPC server with the library's default health service.
class DefaultHealthServer {
 public:
  explicit DefaultHealthServer(const std::string& host = "127.0.0.1") : host_(host) {
    ::grpc::EnableDefaultHealthCheckService(true);
    ::grpc::ServerBuilder b;
    b.AddListeningPort(host + ":0", ::grpc::InsecureServerCredentials(), &port_);
    b.RegisterService(&nop_);
    server_ = b.BuildAndStart();
    ::grpc::EnableDefaultHealthCheckService(false);
    if (server_) server_->GetHealthCheckService()->SetServingStatus(kService, true);
  }
  ~DefaultHealthServer() { shutdown(); }
  void shutdown() {
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + 1s);
  }
  void setServing(bool serving) { server_->GetHealthCheckService()->SetServingStatus(kService, serving); }
  bool ok() const { return server_ != nullptr && port_ > 0; }
  std::string address() const { return host_ + ":" + std::to_string(port_); }

 private:
  std::string host_;
  NopService nop_;
  int port_ = 0;
  std::unique_ptr<::grpc::Server> server_;
};

// Implements Check only (Watch answers UNIMPLEMENTED), or nothing at all.
class CheckOnlyService final : public ::grpc::health::v1::Health::Service {
 public:
  explicit CheckOnlyService(bool implement_check) : implement_check_(implement_check) {}
  ::grpc::Status Check(::grpc::ServerContext*, const ::grpc::health::v1::HealthCheckRequest*,
                       ::grpc::health::v1::HealthCheckResponse* resp) override {
    ++checks;
    if (!implement_check_) return ::grpc::Status(::grpc::StatusCode::UNIMPLEMENTED, "");
    resp->set_status(::grpc::health::v1::HealthCheckResponse::SERVING);
    return ::grpc::Status::OK;
  }
  std::atomic<int> checks{0};

 private:
  bool implement_check_;
};

class CustomServer {
 public:
  explicit CustomServer(bool implement_check) : service_(implement_check) {
    ::grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", ::grpc::InsecureServerCredentials(), &port_);
    b.RegisterService(&service_);
    server_ = b.BuildAndStart();
  }
  ~CustomServer() {
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + 1s);
  }
  bool ok() const { return server_ != nullptr && port_ > 0; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int checks() const { return service_.checks.load(); }

 private:
  CheckOnlyService service_;
  int port_ = 0;
  std::unique_ptr<::grpc::Server> server_;
};

// A TCP socket bound on 127.0.0.1; listening (black hole: never accepts) or not.
class RawSocket {
 public:
  explicit RawSocket(bool listen_on) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    socklen_t len = sizeof sa;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
    if (listen_on) ::listen(fd_, 16);
  }
  ~RawSocket() { ::close(fd_); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

config::HealthCheckSpec hcSpec(const std::string& mode, Duration interval, Duration timeout,
                               const std::string& service = kService) {
  config::HealthCheckSpec s;
  s.enabled = true;
  s.service = service;
  s.mode = mode;
  s.interval = interval;
  s.timeout = timeout;
  return s;
}

class HealthCheckerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    event::initThreading();
    loop_ = std::make_unique<event::EventLoop>();
    // Keeps the loop running while nothing else is pending on it.
    keepalive_.reset(event_new(loop_->base(), -1, EV_PERSIST, [](evutil_socket_t, short, void*) {},
                               nullptr));
    timeval hour{3600, 0};
    event_add(keepalive_.get(), &hour);
    thread_ = std::thread([this] { loop_->run(); });
    onLoop([this] {
      checker_ = std::make_unique<HealthChecker>(*loop_, [this](const CheckResult& r) {
        std::lock_guard<std::mutex> g(mu_);
        results_.push_back(r);
        cv_.notify_all();
      });
    });
  }

  void TearDown() override {
    onLoop([this] { checker_.reset(); });
    loop_->stop();
    thread_.join();
    keepalive_.reset();
    loop_.reset();
  }

  // Runs fn on the loop's thread and waits for it.
  void onLoop(std::function<void()> fn) {
    std::promise<void> done;
    loop_->post([&] {
      fn();
      done.set_value();
    });
    ASSERT_EQ(done.get_future().wait_for(10s), std::future_status::ready);
  }

  void setTargets(std::vector<Target> targets) {
    onLoop([&] { checker_->setTargets(std::move(targets)); });
  }

  std::optional<CheckResult> next(Duration within) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, within, [&] { return !results_.empty(); })) return std::nullopt;
    CheckResult r = results_.front();
    results_.pop_front();
    return r;
  }

  // Waits for a result matching pred, dropping the others.
  template <typename Pred>
  std::optional<CheckResult> nextMatching(Duration within, Pred pred) {
    auto deadline = Clock::now() + within;
    while (Clock::now() < deadline) {
      auto r = next(std::chrono::duration_cast<Duration>(deadline - Clock::now()));
      if (!r) return std::nullopt;
      if (pred(*r)) return r;
    }
    return std::nullopt;
  }

  size_t pending() {
    std::lock_guard<std::mutex> g(mu_);
    return results_.size();
  }
  void clearResults() {
    std::lock_guard<std::mutex> g(mu_);
    results_.clear();
  }

  std::unique_ptr<event::EventLoop> loop_;
  event::EventPtr keepalive_;
  std::thread thread_;
  std::unique_ptr<HealthChecker> checker_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<CheckResult> results_;
};

TEST_F(HealthCheckerTest, CheckServingPassesThenNotServingFails) {
  DefaultHealthServer server;
  ASSERT_TRUE(server.ok());
  setTargets({Target{"c", server.address(), hcSpec("check", 100ms, 1s)}});

  auto r = next(3s);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cluster, "c");
  EXPECT_EQ(r->address, server.address());
  EXPECT_TRUE(r->passed) << r->reason;
  EXPECT_EQ(r->reason, "SERVING");
  EXPECT_EQ(r->mode, "check");
  EXPECT_FALSE(r->force_unhealthy);

  // Checks repeat every interval.
  r = next(2s);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->passed);

  server.setServing(false);
  r = nextMatching(3s, [](const CheckResult& x) { return !x.passed; });
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->reason, "NOT_SERVING");
  EXPECT_FALSE(r->force_unhealthy);  // Check results go through the thresholds

  server.setServing(true);
  r = nextMatching(3s, [](const CheckResult& x) { return x.passed; });
  ASSERT_TRUE(r.has_value());
}

TEST_F(HealthCheckerTest, CheckUnknownServiceFails) {
  DefaultHealthServer server;
  ASSERT_TRUE(server.ok());
  setTargets({Target{"c", server.address(), hcSpec("check", 100ms, 1s, "no.Such")}});
  auto r = next(3s);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->passed);
  EXPECT_EQ(r->reason.rfind("NOT_FOUND", 0), 0u) << r->reason;
}

TEST_F(HealthCheckerTest, CheckEmptyServiceMeansServer) {
  DefaultHealthServer server;
  ASSERT_TRUE(server.ok());
  setTargets({Target{"c", server.address(), hcSpec("check", 100ms, 1s, "")}});
  auto r = next(3s);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->passed) << r->reason;
}

TEST_F(HealthCheckerTest, CheckClosedPortFailsWithinTimeout) {
  std::string address;
  {
    RawSocket s(false);  // bound, not listening: connections are refused
    address = s.address();
  }
  auto start = Clock::now();
  setTargets({Target{"c", address, hcSpec("check", 100ms, 500ms)}});
  auto r = next(3s);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->passed);
  EXPECT_LT(Clock::now() - start, 500ms + 500ms);
  EXPECT_TRUE(r->reason.rfind("connect failed", 0) == 0 || r->reason.rfind("UNAVAILABLE", 0) == 0)
      << r->reason;
  // And it keeps checking (and failing fast).
  r = next(3s);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->passed);
}

TEST_F(HealthCheckerTest, CheckBlackHoleTimesOut) {
  RawSocket hole(true);  // accepts into the backlog, never answers
  auto start = Clock::now();
  setTargets({Target{"c", hole.address(), hcSpec("check", 100ms, 300ms)}});
  auto r = next(3s);
  ASSERT_TRUE(r.has_value());
  auto took = Clock::now() - start;
  EXPECT_FALSE(r->passed);
  EXPECT_EQ(r->reason, "timeout");
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 300ms + 700ms);
}

TEST_F(HealthCheckerTest, WatchServingThenNotServingForcesUnhealthy) {
  DefaultHealthServer server;
  ASSERT_TRUE(server.ok());
  // A long interval: Watch results must come from the stream, not from polling.
  setTargets({Target{"c", server.address(), hcSpec("watch", 30s, 1s)}});

  auto r = next(3s);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->passed) << r->reason;
  EXPECT_EQ(r->reason, "SERVING");
  EXPECT_EQ(r->mode, "watch");

  server.setServing(false);
  r = next(2s);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->passed);
  EXPECT_TRUE(r->force_unhealthy);
  EXPECT_EQ(r->reason, "NOT_SERVING");

  server.setServing(true);
  r = next(2s);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->passed);
  EXPECT_FALSE(r->force_unhealthy);

  // Nothing changes, nothing is reported (no timeout on an established stream).
  EXPECT_FALSE(next(1500ms).has_value());
}

TEST_F(HealthCheckerTest, WatchUnknownServiceFailsWithoutForce) {
  DefaultHealthServer server;
  ASSERT_TRUE(server.ok());
  setTargets({Target{"c", server.address(), hcSpec("watch", 30s, 1s, "no.Such")}});
  auto r = next(3s);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->passed);
  EXPECT_FALSE(r->force_unhealthy);
  EXPECT_EQ(r->reason, "SERVICE_UNKNOWN");
}

TEST_F(HealthCheckerTest, WatchStreamEndReportsFailureAndReconnects) {
  auto server = std::make_unique<DefaultHealthServer>();
  ASSERT_TRUE(server->ok());
  std::string address = server->address();
  setTargets({Target{"c", address, hcSpec("watch", 200ms, 500ms)}});
  auto r = next(3s);
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->passed) << r->reason;

  server->shutdown();
  r = nextMatching(3s, [](const CheckResult& x) { return !x.passed; });
  ASSERT_TRUE(r.has_value());
  server.reset();
  // Reconnect attempts go on and fail while nobody listens.
  r = nextMatching(3s, [](const CheckResult& x) { return !x.passed && !x.force_unhealthy; });
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->mode, "watch");
}

TEST_F(HealthCheckerTest, WatchClosedPortFailsAndRetries) {
  std::string address;
  {
    RawSocket s(false);
    address = s.address();
  }
  setTargets({Target{"c", address, hcSpec("watch", 100ms, 500ms)}});
  for (int i = 0; i < 2; ++i) {
    auto r = next(3s);
    ASSERT_TRUE(r.has_value()) << i;
    EXPECT_FALSE(r->passed);
    EXPECT_EQ(r->mode, "watch");
  }
}

TEST_F(HealthCheckerTest, WatchBlackHoleTimesOut) {
  RawSocket hole(true);
  auto start = Clock::now();
  setTargets({Target{"c", hole.address(), hcSpec("watch", 100ms, 300ms)}});
  auto r = next(3s);
  ASSERT_TRUE(r.has_value());
  auto took = Clock::now() - start;
  EXPECT_FALSE(r->passed);
  EXPECT_EQ(r->reason, "timeout");
  EXPECT_LT(took, 300ms + 700ms);
  // Reopened after the interval, and times out again.
  r = next(3s);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->passed);
}

TEST_F(HealthCheckerTest, WatchWithoutHealthServiceFallsBackToCheck) {
  CustomServer server(/*implement_check=*/false);
  ASSERT_TRUE(server.ok());
  setTargets({Target{"c", server.address(), hcSpec("watch", 100ms, 1s)}});
  auto r = next(3s);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->passed);
  EXPECT_EQ(r->mode, "check");
  EXPECT_EQ(r->reason, "UNIMPLEMENTED");
  // Then Check keeps polling every interval.
  r = next(3s);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->passed);
  EXPECT_EQ(r->mode, "check");
  EXPECT_GE(server.checks(), 2);
}

TEST_F(HealthCheckerTest, WatchFallsBackToCheckOnlyServer) {
  CustomServer server(/*implement_check=*/true);
  ASSERT_TRUE(server.ok());
  setTargets({Target{"c", server.address(), hcSpec("watch", 100ms, 1s)}});
  auto r = next(3s);
  ASSERT_TRUE(r.has_value());
  // No failure is reported for the missing Watch.
  EXPECT_TRUE(r->passed) << r->reason;
  EXPECT_EQ(r->mode, "check");
}

TEST_F(HealthCheckerTest, SetTargetsKeepsUnchangedReplacesChangedStopsRemoved) {
  CustomServer server(/*implement_check=*/true);
  ASSERT_TRUE(server.ok());
  Target t{"c", server.address(), hcSpec("check", 30s, 1s)};
  setTargets({t});
  ASSERT_TRUE(next(3s).has_value());
  EXPECT_EQ(server.checks(), 1);

  // The same target again: same probe, nothing new until the interval.
  setTargets({t});
  setTargets({t});
  EXPECT_FALSE(next(300ms).has_value());
  EXPECT_EQ(server.checks(), 1);
  onLoop([&] { EXPECT_EQ(checker_->targetCount(), 1u); });

  // Changed settings: a new probe, which checks at once.
  Target changed = t;
  changed.spec.timeout = 2s;
  setTargets({changed});
  ASSERT_TRUE(next(3s).has_value());
  EXPECT_EQ(server.checks(), 2);

  // A second cluster with the same address is a separate target.
  Target other = changed;
  other.cluster = "d";
  setTargets({changed, other});
  auto r = next(3s);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cluster, "d");
  onLoop([&] { EXPECT_EQ(checker_->targetCount(), 2u); });

  // Removed: no more results.
  Target fast = changed;
  fast.spec.interval = 50ms;
  setTargets({fast});
  ASSERT_TRUE(next(3s).has_value());
  setTargets({});
  onLoop([&] { EXPECT_EQ(checker_->targetCount(), 0u); });
  clearResults();
  EXPECT_FALSE(next(400ms).has_value());
}

TEST_F(HealthCheckerTest, IgnoresDisabledAndNonIpTargets) {
  Target disabled{"c", "127.0.0.1:1", hcSpec("check", 1s, 1s)};
  disabled.spec.enabled = false;
  setTargets({disabled, Target{"c", "localhost:80", hcSpec("check", 1s, 1s)}});
  onLoop([&] { EXPECT_EQ(checker_->targetCount(), 0u); });
  EXPECT_FALSE(next(200ms).has_value());
}

TEST_F(HealthCheckerTest, Ipv6Target) {
  DefaultHealthServer server("[::1]");
  if (!server.ok()) GTEST_SKIP() << "no IPv6 loopback";
  setTargets({Target{"c", server.address(), hcSpec("check", 1s, 1s)}});
  auto r = next(3s);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->passed) << r->reason;
}

TEST_F(HealthCheckerTest, JitteredChecksKeepComing) {
  DefaultHealthServer server;
  ASSERT_TRUE(server.ok());
  auto spec = hcSpec("check", 50ms, 1s);
  spec.jitter = 50ms;
  setTargets({Target{"c", server.address(), spec}});
  for (int i = 0; i < 4; ++i) {
    auto r = next(2s);
    ASSERT_TRUE(r.has_value()) << i;
    EXPECT_TRUE(r->passed);
  }
}

TEST_F(HealthCheckerTest, DestroyWithCallsInFlight) {
  RawSocket hole(true);
  DefaultHealthServer server;
  ASSERT_TRUE(server.ok());
  setTargets({Target{"a", hole.address(), hcSpec("check", 100ms, 5s)},
              Target{"b", hole.address(), hcSpec("watch", 100ms, 5s)},
              Target{"c", server.address(), hcSpec("watch", 100ms, 5s)}});
  ASSERT_TRUE(nextMatching(3s, [](const CheckResult& r) { return r.cluster == "c"; }));
  auto start = Clock::now();
  onLoop([this] { checker_.reset(); });
  EXPECT_LT(Clock::now() - start, 3s);
  clearResults();
  EXPECT_FALSE(next(200ms).has_value());
}

TEST_F(HealthCheckerTest, StopDropsLateResults) {
  RawSocket hole(true);
  setTargets({Target{"a", hole.address(), hcSpec("check", 100ms, 300ms)}});
  onLoop([this] { checker_->stop(); });
  EXPECT_FALSE(next(800ms).has_value());
}

}  // namespace

// ------------------------------------------------- raw HTTP/2 health servers
// What the checker's own gRPC client sends, and how it judges answers a gRPC
// server library does not give.
namespace {

using test::Answer;
using test::RawHealthServer;

std::string servingMessage(int status, const std::string& extra = "") {
  ::grpc::health::v1::HealthCheckResponse resp;
  resp.set_status(static_cast<::grpc::health::v1::HealthCheckResponse::ServingStatus>(status));
  std::string m = resp.SerializeAsString() + extra;
  std::string framed(1, '\0');
  for (int shift = 24; shift >= 0; shift -= 8) framed.push_back(static_cast<char>(m.size() >> shift));
  return framed + m;
}

Answer checkAnswer(std::string body) {
  Answer a;
  a.body = std::move(body);
  return a;
}

class RawHealthTest : public HealthCheckerTest {
 protected:
  // The first result of checking a raw server that answers Check with `a`.
  std::optional<CheckResult> checkOnce(const Answer& a, const std::string& mode = "check",
                                       std::optional<uint64_t> max_response_bytes = {}) {
    server_ = std::make_unique<RawHealthServer>(std::map<std::string, Answer>{{"Check", a}});
    if (!server_->ok()) return std::nullopt;
    config::HealthCheckSpec spec = hcSpec(mode, 30s, 2s);
    if (max_response_bytes) spec.max_response_bytes = *max_response_bytes;
    setTargets({Target{"c", server_->address(), spec}});
    return next(5s);
  }
  // Polls pred for up to 5 s.
  template <typename Pred>
  static bool waitFor(Pred pred) {
    for (auto until = Clock::now() + 5s; Clock::now() < until;) {
      if (pred()) return true;
      std::this_thread::sleep_for(5ms);
    }
    return pred();
  }
  std::unique_ptr<RawHealthServer> server_;
};

TEST_F(RawHealthTest, RequestCarriesPathServiceDeadlineAndGrpcHeaders) {
  auto r = checkOnce(checkAnswer(servingMessage(1)));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->passed) << r->reason;
  auto seen = server_->requests();
  ASSERT_EQ(seen.size(), 1u);
  auto& h = seen[0].headers;
  EXPECT_EQ(h[":method"], "POST");
  EXPECT_EQ(h[":scheme"], "http");
  EXPECT_EQ(h[":path"], "/grpc.health.v1.Health/Check");
  EXPECT_EQ(h[":authority"], server_->address());
  EXPECT_EQ(h["content-type"], "application/grpc");
  EXPECT_EQ(h["te"], "trailers");
  EXPECT_EQ(h["user-agent"].rfind("switchyard-health/", 0), 0u) << h["user-agent"];
  EXPECT_EQ(h["grpc-timeout"], "2S");
  // One length-prefixed HealthCheckRequest{service}, as libprotobuf reads it.
  const std::string& body = seen[0].body;
  ASSERT_GE(body.size(), 5u);
  EXPECT_EQ(body[0], '\0');
  ::grpc::health::v1::HealthCheckRequest req;
  ASSERT_TRUE(req.ParseFromString(body.substr(5)));
  EXPECT_EQ(req.service(), kService);
  EXPECT_EQ(body.size(), 5 + req.ByteSizeLong());
}

TEST_F(RawHealthTest, AuthorityCanBeSet) {
  server_ = std::make_unique<RawHealthServer>(
      std::map<std::string, Answer>{{"Check", checkAnswer(servingMessage(1))}});
  ASSERT_TRUE(server_->ok());
  setTargets({Target{"c", server_->address(), hcSpec("check", 30s, 2s), "backend.example"}});
  ASSERT_TRUE(next(5s).has_value());
  EXPECT_EQ(server_->requests().at(0).headers[":authority"], "backend.example");
}

TEST_F(RawHealthTest, ResponseInOneByteFramesWithUnknownFields) {
  Answer a = checkAnswer(servingMessage(1, std::string("\x12\x03xyz\x18\x07", 7)));
  a.chunk = 1;
  auto r = checkOnce(a);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->passed) << r->reason;
  EXPECT_EQ(r->reason, "SERVING");
}

TEST_F(RawHealthTest, NotServingAndUnknownEnumValuesFail) {
  auto r = checkOnce(checkAnswer(servingMessage(2)));
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->passed);
  EXPECT_EQ(r->reason, "NOT_SERVING");
  server_.reset();
  clearResults();
  r = checkOnce(checkAnswer(servingMessage(9)));
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->passed);
  EXPECT_EQ(r->reason, "status 9");
}

TEST_F(RawHealthTest, Non200MapsToGrpcStatus) {
  Answer a;
  a.status = "503";
  auto r = checkOnce(a);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->passed);
  EXPECT_EQ(r->reason, "UNAVAILABLE: HTTP status 503");
}

TEST_F(RawHealthTest, TrailersOnlyStatusWithPercentEncodedMessage) {
  Answer a;
  a.trailers_only = true;
  a.grpc_status = "5";
  a.grpc_message = "unknown%20service";
  auto r = checkOnce(a);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->passed);
  EXPECT_EQ(r->reason, "NOT_FOUND: unknown service");
}

TEST_F(RawHealthTest, ErrorStatusInTrailersWinsOverTheMessage) {
  Answer a = checkAnswer(servingMessage(1));
  a.grpc_status = "13";
  auto r = checkOnce(a);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->passed);
  EXPECT_EQ(r->reason, "INTERNAL");
}

TEST_F(RawHealthTest, MalformedMessageFails) {
  // A varint cut short inside a well-framed message.
  auto r = checkOnce(checkAnswer(std::string("\0\0\0\0\x02\x08\x80", 7)));
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->passed);
  EXPECT_EQ(r->reason, "INTERNAL: malformed HealthCheckResponse");
}

TEST_F(RawHealthTest, OversizedMessageFailsWithoutWaitingForIt) {
  // Announces 1 MiB and sends 5 bytes of it: refused from the prefix alone.
  auto r = checkOnce(checkAnswer(std::string("\0\0\x10\0\0\x08\x01\x08\x01\x08", 10)));
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->passed);
  EXPECT_EQ(r->reason, "INTERNAL: HealthCheckResponse: message too large");
}

// health_check.max_response_bytes: a 40-byte response (SERVING plus unknown
// fields) passes under the 16 KiB default and fails under a 32-byte limit.
TEST_F(RawHealthTest, ResponseLimitIsTheConfiguredOne) {
  const std::string padded = servingMessage(1, "\x12\x24" + std::string(36, 'p'));
  ASSERT_EQ(padded.size(), 5u + 40u);
  auto r = checkOnce(checkAnswer(padded));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->passed) << r->reason;
  r = checkOnce(checkAnswer(padded), "check", 32);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->passed);
  EXPECT_EQ(r->reason, "INTERNAL: HealthCheckResponse: message too large");
  r = checkOnce(checkAnswer(padded), "check", 40);  // the limit itself is allowed
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->passed) << r->reason;
}

TEST_F(RawHealthTest, CompressedMessageFails) {
  std::string body = servingMessage(1);
  body[0] = 1;
  auto r = checkOnce(checkAnswer(body));
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->passed);
  EXPECT_EQ(r->reason.rfind("INTERNAL: HealthCheckResponse: compressed", 0), 0u) << r->reason;
}

TEST_F(RawHealthTest, MissingTrailersFail) {
  Answer a = checkAnswer(servingMessage(1));
  a.trailers = false;
  auto r = checkOnce(a);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->passed);
  EXPECT_EQ(r->reason, "UNKNOWN: the response carried no grpc-status");
}

TEST_F(RawHealthTest, OkWithoutMessageFails) {
  auto r = checkOnce(checkAnswer(""));
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->passed);
  EXPECT_EQ(r->reason.rfind("INTERNAL: no HealthCheckResponse", 0), 0u) << r->reason;
}

TEST_F(RawHealthTest, TruncatedMessageBeforeOkTrailersFails) {
  auto r = checkOnce(checkAnswer(std::string("\0\0\0\0\x02\x08", 6)));
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->passed);
  EXPECT_EQ(r->reason, "INTERNAL: the response ended inside a message");
}

TEST_F(RawHealthTest, StreamResetsMapToStatuses) {
  Answer a;
  a.reset = 8;  // CANCEL
  auto r = checkOnce(a);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->passed);
  EXPECT_EQ(r->reason.rfind("CANCELLED", 0), 0u) << r->reason;
  server_.reset();
  clearResults();
  a.reset = 7;  // REFUSED_STREAM
  r = checkOnce(a);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->passed);
  EXPECT_EQ(r->reason, "UNAVAILABLE: stream refused");
}

TEST_F(RawHealthTest, ChecksShareOneConnection) {
  server_ = std::make_unique<RawHealthServer>(
      std::map<std::string, Answer>{{"Check", checkAnswer(servingMessage(1))}});
  ASSERT_TRUE(server_->ok());
  setTargets({Target{"c", server_->address(), hcSpec("check", 20ms, 2s)}});
  for (int i = 0; i < 5; ++i) {
    auto r = next(5s);
    ASSERT_TRUE(r.has_value()) << i;
    EXPECT_TRUE(r->passed) << r->reason;
  }
  EXPECT_EQ(server_->connections(), 1);
}

TEST_F(RawHealthTest, TimedOutCheckReconnects) {
  Answer silent;
  silent.silent = true;
  server_ = std::make_unique<RawHealthServer>(std::map<std::string, Answer>{{"Check", silent}});
  ASSERT_TRUE(server_->ok());
  setTargets({Target{"c", server_->address(), hcSpec("check", 20ms, 100ms)}});
  for (int i = 0; i < 2; ++i) {
    auto r = next(5s);
    ASSERT_TRUE(r.has_value()) << i;
    EXPECT_EQ(r->reason, "timeout");
  }
  // The second check did not queue behind the first on the silent connection.
  EXPECT_TRUE(waitFor([&] { return server_->connections() >= 2; })) << server_->connections();
  EXPECT_GE(server_->requests().size(), 2u);
}

TEST_F(RawHealthTest, ChangedConnectionSettingsRestartTheProbe) {
  server_ = std::make_unique<RawHealthServer>(
      std::map<std::string, Answer>{{"Check", checkAnswer(servingMessage(1))}});
  ASSERT_TRUE(server_->ok());
  Target t{"c", server_->address(), hcSpec("check", 30s, 2s)};
  setTargets({t});
  ASSERT_TRUE(next(5s).has_value());
  setTargets({t});  // unchanged: no new check before the interval
  EXPECT_FALSE(next(200ms).has_value());
  t.connection.connect_timeout = 3s;  // e.g. the cluster's connect_timeout was reloaded
  setTargets({t});
  ASSERT_TRUE(next(5s).has_value());
  EXPECT_EQ(server_->requests().size(), 2u);
  EXPECT_EQ(server_->connections(), 2);
}

TEST_F(RawHealthTest, WatchTrailersOnlyUnimplementedFallsBackToCheck) {
  // Watch is not scripted: the server answers it Trailers-Only UNIMPLEMENTED.
  auto r = checkOnce(checkAnswer(servingMessage(1)), "watch");
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->passed) << r->reason;
  EXPECT_EQ(r->mode, "check");
  auto seen = server_->requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].headers[":path"], "/grpc.health.v1.Health/Watch");
  EXPECT_EQ(seen[0].headers.count("grpc-timeout"), 0u);  // a stream, not a call with a deadline
  EXPECT_EQ(seen[1].headers[":path"], "/grpc.health.v1.Health/Check");
}

}  // namespace
}  // namespace switchyard::upstream::health
