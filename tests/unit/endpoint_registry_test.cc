// EndpointRegistry: the Health it decides for each endpoint, and which events
// change it (so the server publishes a new snapshot only then).
#include "server/endpoint_registry.h"

#include <gtest/gtest.h>

#include "config/loader.h"

namespace switchyard::server {
namespace {

constexpr const char* kConfig = R"(
admin: { address: "" }
listeners: [{ name: l, address: "127.0.0.1:0" }]
routes: [{ match: { prefix: "/" }, cluster: checked }]
clusters:
  - name: checked
    endpoints: ["127.0.0.1:1001", "127.0.0.1:1002"]
    health_check: { interval: 1s, unhealthy_threshold: 1, healthy_threshold: 1 }
    outlier_detection: { consecutive_failures: 1, max_ejection_percent: 100 }
  - name: plain
    endpoints: ["127.0.0.1:2001"]
)";

class EndpointRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = config::loadString(kConfig, "registry_test.yaml");
    ASSERT_TRUE(loaded.config) << (loaded.errors.empty() ? "" : loaded.errors[0]);
    cfg_ = std::make_shared<const config::Config>(std::move(*loaded.config));
    registry_.configure(cfg_);
  }
  // Builds a snapshot from the registry's state and has it adopted, as Server::publish does.
  proxy::RuntimePtr publish() {
    auto routes =
        std::make_shared<const routing::RouteTable>(routing::RouteTable::build(cfg_->routes));
    auto rt = buildRuntime(
        cfg_, routes, nullptr, registry_.resolved(),
        [this](const std::string& c, const std::string& a) { return registry_.healthOf(c, a); },
        1);
    targets_ = registry_.adopt(*rt);
    return rt;
  }
  upstream::health::CheckResult check(const std::string& address, bool passed) {
    upstream::health::CheckResult r;
    r.cluster = "checked";
    r.address = address;
    r.passed = passed;
    r.reason = passed ? "SERVING" : "NOT_SERVING";
    return r;
  }

  metrics::Metrics metrics_;
  event::ManualClock clock_;  // ejections are timed by it
  EndpointRegistry registry_{metrics_, clock_};
  std::shared_ptr<const config::Config> cfg_;
  std::vector<upstream::health::Target> targets_;
};

TEST_F(EndpointRegistryTest, EndpointsAtStartupAreTrustedUntilChecked) {
  auto rt = publish();
  for (const auto& c : rt->clusters) {
    for (const auto& e : c->endpoints) EXPECT_EQ(e.health, upstream::Health::Healthy) << e.address;
  }
  EXPECT_EQ(targets_.size(), 2u);  // only the checked cluster's endpoints
}

TEST_F(EndpointRegistryTest, EndpointsAddedLaterMustPassACheckFirst) {
  registry_.markStarted();
  EXPECT_EQ(registry_.healthOf("checked", "127.0.0.1:1003"), upstream::Health::Unhealthy);
  EXPECT_EQ(registry_.healthOf("plain", "127.0.0.1:2002"), upstream::Health::Healthy);
}

// Only a change of eligibility asks for a new snapshot.
TEST_F(EndpointRegistryTest, CheckResultsReportOnlyChanges) {
  publish();
  EXPECT_FALSE(registry_.onCheckResult(check("127.0.0.1:1001", true)));
  EXPECT_TRUE(registry_.onCheckResult(check("127.0.0.1:1001", false)));
  EXPECT_EQ(registry_.healthOf("checked", "127.0.0.1:1001"), upstream::Health::Unhealthy);
  EXPECT_FALSE(registry_.onCheckResult(check("127.0.0.1:1001", false)));
  EXPECT_TRUE(registry_.onCheckResult(check("127.0.0.1:1001", true)));
  EXPECT_FALSE(registry_.onCheckResult(check("10.0.0.9:1", false)));  // unknown endpoint
}

TEST_F(EndpointRegistryTest, FailureBurstEjectsUntilExpiry) {
  publish();
  upstream::EndpointKey key{"checked", "127.0.0.1:1002"};
  EXPECT_TRUE(registry_.onFailureBurst(key, 2));
  EXPECT_EQ(registry_.healthOf(key.cluster, key.address), upstream::Health::Ejected);
  bool pending = false;
  EXPECT_FALSE(registry_.expireEjections(&pending));  // not yet: 30 s by default
  EXPECT_TRUE(pending);
  clock_.advance(std::chrono::seconds(29));
  EXPECT_FALSE(registry_.expireEjections(&pending));
  EXPECT_EQ(registry_.healthOf(key.cluster, key.address), upstream::Health::Ejected);
  clock_.advance(std::chrono::seconds(1));
  EXPECT_TRUE(registry_.expireEjections(&pending));  // base_ejection_time has passed
  EXPECT_FALSE(pending);
  EXPECT_EQ(registry_.healthOf(key.cluster, key.address), upstream::Health::Healthy);
  // A second ejection of the same endpoint lasts twice as long.
  EXPECT_TRUE(registry_.onFailureBurst(key, 2));
  clock_.advance(std::chrono::seconds(59));
  EXPECT_FALSE(registry_.expireEjections(&pending));
  clock_.advance(std::chrono::seconds(1));
  EXPECT_TRUE(registry_.expireEjections(&pending));
  EXPECT_FALSE(registry_.onFailureBurst({"nosuch", "127.0.0.1:1"}, 1));
}

TEST_F(EndpointRegistryTest, DnsAnswersReportOnlyChanges) {
  upstream::EndpointKey key{"plain", "backend.test:2001"};
  auto addr = event::parseIpPort("10.0.0.1:2001");
  ASSERT_TRUE(addr);
  EXPECT_TRUE(registry_.onDnsResult(key, {*addr}));
  EXPECT_FALSE(registry_.onDnsResult(key, {*addr}));
  EXPECT_TRUE(registry_.onDnsResult(key, {}));
}

}  // namespace
}  // namespace switchyard::server
