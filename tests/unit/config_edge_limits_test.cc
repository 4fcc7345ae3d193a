// The edge-limit keys: listeners' timeouts, connection cap and glitch budget,
// and clusters' header-list limits and pending queue. Defaults, explicit
// values, and errors located at file:line:col.
#include <gtest/gtest.h>

#include <string>

#include "config/loader.h"

namespace switchyard::config {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

LoadResult load(const std::string& yaml) { return loadString(yaml, "test.yaml"); }

std::string joined(const LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e + "\n";
  return out;
}

constexpr const char* kCluster = R"(clusters:
  - name: c
    endpoints: [127.0.0.1:50051]
)";

TEST(ConfigEdgeLimits, Defaults) {
  LoadResult r = load(std::string("listeners:\n  - name: l\n    address: 127.0.0.1:8080\n") + kCluster);
  ASSERT_TRUE(r.config) << joined(r);
  const ListenerSpec& l = r.config->listeners[0];
  EXPECT_EQ(l.request_headers_timeout, Duration(seconds(10)));
  EXPECT_EQ(l.stream_idle_timeout, Duration(minutes(5)));
  EXPECT_EQ(l.max_connections, 0u);
  EXPECT_EQ(l.http2.max_header_fields, 100u);
  EXPECT_EQ(l.http2.max_glitches, 1000u);
  EXPECT_EQ(l.http2.glitch_window, Duration(seconds(10)));
  const ClusterSpec& c = r.config->clusters[0];
  EXPECT_EQ(c.max_request_header_list_size, 8u * 1024);
  EXPECT_EQ(c.max_response_header_list_size, 64u * 1024);
  EXPECT_EQ(c.max_response_header_fields, 500u);
  EXPECT_EQ(c.max_pending, 1024u);
  EXPECT_EQ(c.pending_timeout, Duration(seconds(5)));
}

TEST(ConfigEdgeLimits, ExplicitValues) {
  LoadResult r = load(R"(listeners:
  - name: l
    address: 127.0.0.1:8080
    request_headers_timeout: 2s
    stream_idle_timeout: 0s
    max_connections: 5000
    http2: { max_header_fields: 64, max_glitches: 50, glitch_window: 500ms }
clusters:
  - name: c
    endpoints: [127.0.0.1:50051]
    max_request_header_list_size: 4KiB
    max_response_header_list_size: 32KiB
    max_response_header_fields: 200
    circuit_breaker: { max_pending: 16 }
    pending_timeout: 250ms
)");
  ASSERT_TRUE(r.config) << joined(r);
  const ListenerSpec& l = r.config->listeners[0];
  EXPECT_EQ(l.request_headers_timeout, Duration(seconds(2)));
  EXPECT_EQ(l.stream_idle_timeout, Duration::zero());
  EXPECT_EQ(l.max_connections, 5000u);
  EXPECT_EQ(l.http2.max_header_fields, 64u);
  EXPECT_EQ(l.http2.max_glitches, 50u);
  EXPECT_EQ(l.http2.glitch_window, Duration(milliseconds(500)));
  const ClusterSpec& c = r.config->clusters[0];
  EXPECT_EQ(c.max_request_header_list_size, 4u * 1024);
  EXPECT_EQ(c.max_response_header_list_size, 32u * 1024);
  EXPECT_EQ(c.max_response_header_fields, 200u);
  EXPECT_EQ(c.max_pending, 16u);
  EXPECT_EQ(c.pending_timeout, Duration(milliseconds(250)));
}

TEST(ConfigEdgeLimits, BadValuesAreLocated) {
  LoadResult r = load(R"(listeners:
  - name: l
    address: 127.0.0.1:8080
    http2: { max_glitches: 0, glitch_window: 0s }
    max_connections: -1
clusters:
  - name: c
    endpoints: [127.0.0.1:50051]
    circuit_breaker: { max_pendng: 3 }
    pending_timeout: 0s
)");
  ASSERT_FALSE(r.config);
  std::string all = joined(r);
  EXPECT_NE(all.find("test.yaml:4:28: "), std::string::npos) << all;
  EXPECT_NE(all.find("test.yaml:4:46: "), std::string::npos) << all;
  EXPECT_NE(all.find("test.yaml:5:22: "), std::string::npos) << all;
  EXPECT_NE(all.find("test.yaml:9:24: "), std::string::npos) << all;
  EXPECT_NE(all.find("test.yaml:10:22: "), std::string::npos) << all;
}

TEST(ConfigEdgeLimits, ConnectionAgeAndActiveRpcDefaults) {
  LoadResult r = load(std::string("listeners:\n  - name: l\n    address: 127.0.0.1:8080\n") + kCluster);
  ASSERT_TRUE(r.config) << joined(r);
  EXPECT_EQ(r.config->listeners[0].max_connection_age, Duration::zero());
  EXPECT_EQ(r.config->listeners[0].max_connection_age_grace, Duration(seconds(30)));
  EXPECT_EQ(r.config->clusters[0].max_active_rpcs, 10000u);
  EXPECT_EQ(r.config->clusters[0].endpoints[0].weight, 1u);
}

TEST(ConfigEdgeLimits, ConnectionAgeActiveRpcsAndEndpointWeights) {
  LoadResult r = load(R"(listeners:
  - name: l
    address: 127.0.0.1:8080
    max_connection_age: 30m
    max_connection_age_grace: 0s
clusters:
  - name: c
    endpoints: [{ address: 10.0.0.1:50051, weight: 2 }, 10.0.0.2:50051, { address: "[::1]:50051" }]
    circuit_breaker: { max_active_rpcs: 1000, max_pending: 100 }
)");
  ASSERT_TRUE(r.config) << joined(r);
  EXPECT_EQ(r.config->listeners[0].max_connection_age, Duration(minutes(30)));
  EXPECT_EQ(r.config->listeners[0].max_connection_age_grace, Duration::zero());
  const ClusterSpec& c = r.config->clusters[0];
  EXPECT_EQ(c.max_active_rpcs, 1000u);
  EXPECT_EQ(c.max_pending, 100u);
  ASSERT_EQ(c.endpoints.size(), 3u);
  EXPECT_EQ(c.endpoints[0].host, "10.0.0.1");
  EXPECT_EQ(c.endpoints[0].weight, 2u);
  EXPECT_EQ(c.endpoints[1].host, "10.0.0.2");
  EXPECT_EQ(c.endpoints[1].weight, 1u);
  EXPECT_EQ(c.endpoints[2].host, "::1");
  EXPECT_EQ(c.endpoints[2].weight, 1u);
}

TEST(ConfigEdgeLimits, BadWeightsAndEndpointMapsAreLocated) {
  LoadResult r = load(R"(listeners:
  - name: l
    address: 127.0.0.1:8080
    max_connection_age: soon
clusters:
  - name: c
    endpoints:
      - { address: 10.0.0.1:50051, weight: 0 }
      - { address: 10.0.0.2:50051, weight: 129 }
      - { weight: 2 }
      - { address: 10.0.0.3:50051, wieght: 2 }
      - { address: 10.0.0.1:50051 }
    circuit_breaker: { max_active_rpcs: -5 }
)");
  ASSERT_FALSE(r.config);
  std::string all = joined(r);
  EXPECT_NE(all.find("test.yaml:4:25: "), std::string::npos) << all;
  EXPECT_NE(all.find("test.yaml:8:44: "), std::string::npos) << all;
  EXPECT_NE(all.find("test.yaml:9:44: "), std::string::npos) << all;
  EXPECT_NE(all.find("test.yaml:10:9: "), std::string::npos) << all;
  EXPECT_NE(all.find("\"address\""), std::string::npos) << all;
  EXPECT_NE(all.find("test.yaml:11:36: "), std::string::npos) << all;
  EXPECT_NE(all.find("test.yaml:12:20: duplicate endpoint"), std::string::npos) << all;
  EXPECT_NE(all.find("test.yaml:13:41: "), std::string::npos) << all;
}

TEST(ConfigEdgeLimits, ConnectionBalance) {
  LoadResult def = load(std::string("listeners:\n  - name: l\n    address: 127.0.0.1:8080\n") + kCluster);
  ASSERT_TRUE(def.config) << joined(def);
  EXPECT_EQ(def.config->listeners[0].connection_balance, ConnectionBalance::Exact);

  LoadResult kernel = load(std::string("listeners:\n  - name: l\n    address: 127.0.0.1:8080\n"
                                       "    connection_balance: kernel\n") + kCluster);
  ASSERT_TRUE(kernel.config) << joined(kernel);
  EXPECT_EQ(kernel.config->listeners[0].connection_balance, ConnectionBalance::Kernel);

  LoadResult exact = load(std::string("listeners:\n  - name: l\n    address: 127.0.0.1:8080\n"
                                      "    connection_balance: exact\n") + kCluster);
  ASSERT_TRUE(exact.config) << joined(exact);
  EXPECT_EQ(exact.config->listeners[0].connection_balance, ConnectionBalance::Exact);

  LoadResult bad = load(std::string("listeners:\n  - name: l\n    address: 127.0.0.1:8080\n"
                                    "    connection_balance: fewest\n") + kCluster);
  ASSERT_FALSE(bad.config);
  EXPECT_NE(joined(bad).find("test.yaml:4:25: unknown connection_balance \"fewest\": expected exact or kernel"),
            std::string::npos)
      << joined(bad);
}

}  // namespace
}  // namespace switchyard::config
