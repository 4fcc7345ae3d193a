// The daemon's own grpc.health.v1 client against gRPC C++ servers whose health
// service implements Check only (Watch answers UNIMPLEMENTED): a cluster in
// watch mode falls back to Check for good, every Check carries the configured
// service, a deadline of the check timeout and the proxy's user-agent, and
// NOT_SERVING then SERVING take the endpoint out of rotation and back in.
#include <atomic>

#include "health.grpc.pb.h"
#include "resilience_support.h"

namespace sytest::resilience {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

constexpr const char* kCheckedService = "switchyard.test.Echo";

// Echo answers with the backend's name; Health answers Check from a flag
// and refuses Watch, recording what each Check carried.
class CheckOnlyBackend {
 public:
  explicit CheckOnlyBackend(std::string name) : echo_(name), health_(name) {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&echo_);
    builder.RegisterService(&health_);
    server_ = builder.BuildAndStart();
    if (!server_ || port == 0) throw std::runtime_error("CheckOnlyBackend: cannot listen on 127.0.0.1:0");
    address_ = "127.0.0.1:" + std::to_string(port);
  }
  ~CheckOnlyBackend() {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    server_->Wait();
  }
  CheckOnlyBackend(const CheckOnlyBackend&) = delete;
  CheckOnlyBackend& operator=(const CheckOnlyBackend&) = delete;

  const std::string& address() const { return address_; }
  void SetServing(bool serving) { health_.serving = serving; }
  int Checks() const { return health_.checks.load(); }
  int Watches() const { return health_.watches.load(); }
  struct Seen {
    std::string service;
    std::string user_agent;
    int64_t deadline_ms = -1;  // time left at arrival; -1 = no deadline
  };
  Seen LastCheck() const {
    std::lock_guard<std::mutex> g(health_.mu);
    return health_.last;
  }

 private:
  struct Echo final : public switchyard::test::Echo::Service {
    explicit Echo(std::string n) : name(std::move(n)) {}
    grpc::Status Unary(grpc::ServerContext* ctx, const EchoRequest* req, EchoResponse* resp) override {
      ctx->AddTrailingMetadata("x-backend", name);
      resp->set_payload(req->payload());
      resp->set_backend(name);
      return grpc::Status::OK;
    }
    std::string name;
  };

  struct Health final : public grpc::health::v1::Health::Service {
    explicit Health(std::string n) : name(std::move(n)) {}
    grpc::Status Check(grpc::ServerContext* ctx, const HealthCheckRequest* req, HealthCheckResponse* resp) override {
      Seen seen;
      seen.service = req->service();
      auto ua = ctx->client_metadata().find("user-agent");
      if (ua != ctx->client_metadata().end()) seen.user_agent.assign(ua->second.data(), ua->second.size());
      auto left = ctx->deadline() - std::chrono::system_clock::now();
      if (left < std::chrono::hours(1)) {
        seen.deadline_ms = std::chrono::duration_cast<std::chrono::milliseconds>(left).count();
      }
      {
        std::lock_guard<std::mutex> g(mu);
        last = seen;
      }
      ++checks;
      resp->set_status(serving ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING);
      return grpc::Status::OK;
    }
    grpc::Status Watch(grpc::ServerContext*, const HealthCheckRequest*,
                       grpc::ServerWriter<HealthCheckResponse>*) override {
      ++watches;
      return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "no Watch here");
    }
    std::string name;
    std::atomic<bool> serving{true};
    std::atomic<int> checks{0};
    std::atomic<int> watches{0};
    mutable std::mutex mu;
    Seen last;
  };

  Echo echo_;
  Health health_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

class ResilienceHealthClientTest : public ResilienceTest {};

TEST_F(ResilienceHealthClientTest, WatchFallsBackToCheckAndNotServingThenServingMovesTheEndpoint) {
  CheckOnlyBackend a("a");
  CheckOnlyBackend b("b");
  const std::string health = std::string("health_check: { mode: watch, service: ") + kCheckedService +
                             ", interval: 200ms, timeout: 700ms, unhealthy_threshold: 2, healthy_threshold: 2 }";
  ASSERT_NO_FATAL_FAILURE(
      Start(Config({a.address(), b.address()}, {health, "outlier_detection: { enabled: false }"})));

  // Each endpoint tried Watch once, was told UNIMPLEMENTED, and polls Check since.
  ASSERT_TRUE(WaitUntil([&] { return a.Checks() >= 2 && b.Checks() >= 2; }, 5000ms, 10ms))
      << "checks: a " << a.Checks() << ", b " << b.Checks() << "; watches: a " << a.Watches() << ", b "
      << b.Watches();
  EXPECT_EQ(a.Watches(), 1);
  EXPECT_EQ(b.Watches(), 1);
  EXPECT_EQ(HealthOf(a.address()), "healthy") << ClustersText();
  EXPECT_EQ(HealthOf(b.address()), "healthy") << ClustersText();

  auto seen = b.LastCheck();
  EXPECT_EQ(seen.service, kCheckedService);
  EXPECT_EQ(seen.user_agent.rfind("switchyard-health/", 0), 0u) << seen.user_agent;
  EXPECT_GT(seen.deadline_ms, 0) << "no grpc-timeout on the Check";
  EXPECT_LE(seen.deadline_ms, 700) << "the Check's deadline is longer than the check timeout";

  b.SetServing(false);
  ASSERT_TRUE(WaitForHealth(b.address(), "unhealthy", 5000ms)) << ClustersText();
  for (const auto& call : Sequential(20)) {
    EXPECT_TRUE(call.ok() && call.backend == "a") << "while b is NOT_SERVING: " << Describe(call);
  }

  b.SetServing(true);
  ASSERT_TRUE(WaitForHealth(b.address(), "healthy", 5000ms)) << ClustersText();
  auto calls = Sequential(40);
  EXPECT_TRUE(Failed(calls).empty()) << DescribeAll(Failed(calls));
  EXPECT_GE(AnsweredBy(calls, "b"), 10u) << "b took no share of the traffic after SERVING";

  // The fallback is for good: no new Watch attempts.
  EXPECT_EQ(a.Watches(), 1);
  EXPECT_EQ(b.Watches(), 1);
  EXPECT_GT(Sum(Scrape(), "switchyard_health_checks_total", {{"result", "failure"}}), 0);
}

}  // namespace
}  // namespace sytest::resilience
