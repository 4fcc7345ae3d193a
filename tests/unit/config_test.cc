#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "common/access_log_target.h"
#include "common/log.h"
#include "config/loader.h"

namespace switchyard::config {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

LoadResult load(const std::string& yaml) { return loadString(yaml, "test.yaml"); }

std::string joined(const LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += "  " + e + "\n";
  return out;
}

// Passes when some error starts with `prefix` ("test.yaml:3:14: ") and
// contains `needle`.
::testing::AssertionResult HasError(const LoadResult& r, const std::string& prefix,
                                    const std::string& needle) {
  if (r.config) return ::testing::AssertionFailure() << "config loaded without errors";
  for (const auto& e : r.errors) {
    if (e.rfind(prefix, 0) == 0 && e.find(needle) != std::string::npos) {
      return ::testing::AssertionSuccess();
    }
  }
  return ::testing::AssertionFailure() << "no error starting with \"" << prefix
                                       << "\" containing \"" << needle << "\"; errors:\n"
                                       << joined(r);
}

// A config that loads: one listener. Tests append sections to it.
constexpr const char* kListener = R"(listeners:
  - name: public
    address: 127.0.0.1:8080
)";

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "sy-config-XXXXXX").string();
    char* p = ::mkdtemp(tmpl.data());
    if (p == nullptr) std::abort();
    path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string write(const std::string& rel, const std::string& content) const {
    fs::path p = fs::path(path_) / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << content;
    return p.string();
  }

 private:
  std::string path_;
};

// ---- successful loads -------------------------------------------------------

TEST(ConfigLoad, MinimalConfigGetsAllDefaults) {
  LoadResult r = load(kListener);
  ASSERT_TRUE(r.config) << joined(r);
  EXPECT_TRUE(r.errors.empty());
  const Config& c = *r.config;
  EXPECT_EQ(c.path, "test.yaml");
  EXPECT_EQ(c.workers, 0u);
  EXPECT_EQ(c.admin.address, "127.0.0.1:9901");
  EXPECT_EQ(c.logging.level, "info");
  EXPECT_EQ(c.logging.access_log, "stdout");
  EXPECT_EQ(c.drain_timeout, Duration(seconds(30)));
  ASSERT_EQ(c.listeners.size(), 1u);
  const ListenerSpec& l = c.listeners[0];
  EXPECT_EQ(l.name, "public");
  EXPECT_EQ(l.address, "127.0.0.1:8080");
  EXPECT_FALSE(l.tls);
  EXPECT_EQ(l.http2.max_concurrent_streams, 1024u);
  EXPECT_EQ(l.http2.initial_stream_window, 256u * 1024);
  EXPECT_EQ(l.http2.initial_connection_window, 4u * 1024 * 1024);
  EXPECT_EQ(l.http2.max_frame_size, 16384u);
  EXPECT_EQ(l.http2.max_header_list_size, 16u * 1024);
  EXPECT_EQ(l.idle_timeout, Duration(minutes(5)));
  EXPECT_EQ(l.mark.line, 2);
  EXPECT_EQ(l.mark.col, 5);
  EXPECT_TRUE(c.routes.empty());
  EXPECT_TRUE(c.clusters.empty());
}

TEST(ConfigLoad, ClusterDefaults) {
  LoadResult r = load(std::string(kListener) + R"(clusters:
  - name: greeter
    endpoints: [127.0.0.1:50051]
)");
  ASSERT_TRUE(r.config) << joined(r);
  ASSERT_EQ(r.config->clusters.size(), 1u);
  const ClusterSpec& c = r.config->clusters[0];
  EXPECT_EQ(c.name, "greeter");
  EXPECT_EQ(c.lb, "round_robin");
  EXPECT_EQ(c.authority, "");
  EXPECT_EQ(c.connect_timeout, Duration(seconds(1)));
  EXPECT_EQ(c.max_connections_per_endpoint, 16u);
  EXPECT_EQ(c.dns_refresh, Duration(seconds(5)));
  EXPECT_EQ(c.retry_buffer, 64u * 1024);
  EXPECT_EQ(c.max_transparent_retries, 2u);
  EXPECT_EQ(c.keepalive_interval, Duration(seconds(300)));
  EXPECT_EQ(c.keepalive_timeout, Duration(seconds(20)));
  EXPECT_EQ(c.panic_threshold, 0u);
  EXPECT_FALSE(c.health_check.enabled);
  EXPECT_EQ(c.health_check.mode, "check");
  EXPECT_EQ(c.health_check.interval, Duration(seconds(5)));
  EXPECT_EQ(c.health_check.timeout, Duration(seconds(1)));
  EXPECT_EQ(c.health_check.jitter, Duration::zero());
  EXPECT_EQ(c.health_check.unhealthy_threshold, 3u);
  EXPECT_EQ(c.health_check.healthy_threshold, 2u);
  EXPECT_EQ(c.health_check.max_response_bytes, 16u * 1024);
  EXPECT_TRUE(c.outlier_detection.enabled);
  EXPECT_EQ(c.outlier_detection.consecutive_failures, 5u);
  EXPECT_EQ(c.outlier_detection.base_ejection_time, Duration(seconds(30)));
  EXPECT_EQ(c.outlier_detection.max_ejection_time, Duration(seconds(300)));
  EXPECT_EQ(c.outlier_detection.max_ejection_percent, 50u);
  EXPECT_DOUBLE_EQ(c.retry_budget.budget_percent, 20.0);
  EXPECT_EQ(c.retry_budget.min_retry_concurrency, 3u);
  ASSERT_EQ(c.endpoints.size(), 1u);
  EXPECT_EQ(c.endpoints[0].host, "127.0.0.1");
  EXPECT_EQ(c.endpoints[0].port, 50051);
  EXPECT_EQ(c.endpoints[0].mark.line, 6);
  EXPECT_EQ(c.endpoints[0].mark.col, 17);
}

TEST(ConfigLoad, FullExample) {
  TempDir dir;
  dir.write("server.crt", "cert");
  dir.write("server.key", "key");
  const std::string yaml = R"(workers: 4
admin: { address: "[::1]:9902" }
drain_timeout: 1m30s
logging: { level: debug, access_log: stderr }
listeners:
  - name: public
    address: 0.0.0.0:8443
    tls: { cert: server.crt, key: server.key, min_version: "1.3" }
    http2: { max_concurrent_streams: 100, initial_stream_window: 1MiB, initial_connection_window: 8MiB, max_frame_size: 32KiB, max_header_list_size: 8192 }
    idle_timeout: 0s
  - name: internal
    address: "[::]:8080"
routes:
  - match: { service: helloworld.Greeter, method: SayHello }
    cluster: greeter
    timeout: { default: 5s, max: 30s }
    retry: { retry_on: [UNAVAILABLE, resource_exhausted, 4], max_attempts: 3, backoff: { base: 10ms, max: 1s } }
  - match: { service: helloworld.Greeter }
    cluster: greeter
  - match: { prefix: /grpc.reflection. }
    cluster: other
clusters:
  - name: greeter
    endpoints: [127.0.0.1:50051, "[::1]:50052", backend.local:50053]
    lb: round_robin
    authority: greeter.internal
    connect_timeout: 2s
    max_connections_per_endpoint: 4
    dns_refresh: 10s
    retry_buffer: 1MiB
    max_transparent_retries: 0
    keepalive: { interval: 60s, timeout: 5s }
    panic_threshold: 30
    health_check: { service: helloworld.Greeter, mode: watch, interval: 2s, timeout: 500ms, jitter: 100ms, unhealthy_threshold: 2, healthy_threshold: 1, max_response_bytes: 1KiB }
    outlier_detection: { consecutive_failures: 7, base_ejection_time: 10s, max_ejection_time: 100s, max_ejection_percent: 30 }
    retry_budget: { budget_percent: 12.5, min_retry_concurrency: 1 }
  - name: other
    endpoints:
      - other.svc.cluster.local:9000
    outlier_detection: { enabled: false }
)";
  LoadResult r = loadString(yaml, dir.path() + "/switchyard.yaml");
  ASSERT_TRUE(r.config) << joined(r);
  const Config& c = *r.config;
  EXPECT_EQ(c.workers, 4u);
  EXPECT_EQ(c.admin.address, "[::1]:9902");
  EXPECT_EQ(c.drain_timeout, Duration(seconds(90)));
  EXPECT_EQ(c.logging.level, "debug");
  EXPECT_EQ(c.logging.access_log, "stderr");

  ASSERT_EQ(c.listeners.size(), 2u);
  const ListenerSpec& l = c.listeners[0];
  EXPECT_EQ(l.address, "0.0.0.0:8443");
  ASSERT_TRUE(l.tls);
  EXPECT_EQ(l.tls->cert, dir.path() + "/server.crt");
  EXPECT_EQ(l.tls->key, dir.path() + "/server.key");
  EXPECT_EQ(l.tls->min_version, "1.3");
  EXPECT_EQ(l.tls->mark.line, 8);
  EXPECT_EQ(l.http2.max_concurrent_streams, 100u);
  EXPECT_EQ(l.http2.initial_stream_window, 1u << 20);
  EXPECT_EQ(l.http2.initial_connection_window, 8u << 20);
  EXPECT_EQ(l.http2.max_frame_size, 32u * 1024);
  EXPECT_EQ(l.http2.max_header_list_size, 8192u);
  EXPECT_EQ(l.idle_timeout, Duration::zero());
  EXPECT_EQ(c.listeners[1].name, "internal");
  EXPECT_EQ(c.listeners[1].address, "[::]:8080");
  EXPECT_FALSE(c.listeners[1].tls);

  ASSERT_EQ(c.routes.size(), 3u);
  const RouteSpec& r0 = c.routes[0];
  EXPECT_EQ(r0.match.service, "helloworld.Greeter");
  EXPECT_EQ(r0.match.method, "SayHello");
  EXPECT_EQ(r0.match.prefix, "");
  EXPECT_EQ(r0.cluster, "greeter");
  EXPECT_EQ(r0.timeout_default, Duration(seconds(5)));
  EXPECT_EQ(r0.timeout_max, Duration(seconds(30)));
  ASSERT_TRUE(r0.retry);
  EXPECT_EQ(r0.retry->retry_on, (std::vector<int>{14, 8, 4}));
  EXPECT_EQ(r0.retry->max_attempts, 3u);
  EXPECT_EQ(r0.retry->backoff_base, Duration(milliseconds(10)));
  EXPECT_EQ(r0.retry->backoff_max, Duration(seconds(1)));
  EXPECT_EQ(r0.mark.line, 14);
  EXPECT_EQ(r0.mark.col, 5);
  EXPECT_EQ(c.routes[1].match.service, "helloworld.Greeter");
  EXPECT_EQ(c.routes[1].match.method, "");
  EXPECT_FALSE(c.routes[1].timeout_default);
  EXPECT_FALSE(c.routes[1].timeout_max);
  EXPECT_FALSE(c.routes[1].retry);
  EXPECT_EQ(c.routes[2].match.prefix, "/grpc.reflection.");
  EXPECT_EQ(c.routes[2].cluster, "other");

  ASSERT_EQ(c.clusters.size(), 2u);
  const ClusterSpec& g = c.clusters[0];
  ASSERT_EQ(g.endpoints.size(), 3u);
  EXPECT_EQ(g.endpoints[0].host, "127.0.0.1");
  EXPECT_EQ(g.endpoints[0].port, 50051);
  EXPECT_EQ(g.endpoints[1].host, "::1");  // brackets removed
  EXPECT_EQ(g.endpoints[1].port, 50052);
  EXPECT_EQ(g.endpoints[2].host, "backend.local");
  EXPECT_EQ(g.endpoints[2].port, 50053);
  EXPECT_EQ(g.authority, "greeter.internal");
  EXPECT_EQ(g.connect_timeout, Duration(seconds(2)));
  EXPECT_EQ(g.max_connections_per_endpoint, 4u);
  EXPECT_EQ(g.dns_refresh, Duration(seconds(10)));
  EXPECT_EQ(g.retry_buffer, 1u << 20);
  EXPECT_EQ(g.max_transparent_retries, 0u);
  EXPECT_EQ(g.keepalive_interval, Duration(seconds(60)));
  EXPECT_EQ(g.keepalive_timeout, Duration(seconds(5)));
  EXPECT_EQ(g.panic_threshold, 30u);
  EXPECT_TRUE(g.health_check.enabled);
  EXPECT_EQ(g.health_check.service, "helloworld.Greeter");
  EXPECT_EQ(g.health_check.mode, "watch");
  EXPECT_EQ(g.health_check.interval, Duration(seconds(2)));
  EXPECT_EQ(g.health_check.timeout, Duration(milliseconds(500)));
  EXPECT_EQ(g.health_check.jitter, Duration(milliseconds(100)));
  EXPECT_EQ(g.health_check.unhealthy_threshold, 2u);
  EXPECT_EQ(g.health_check.healthy_threshold, 1u);
  EXPECT_EQ(g.health_check.max_response_bytes, 1024u);
  EXPECT_TRUE(g.outlier_detection.enabled);
  EXPECT_EQ(g.outlier_detection.consecutive_failures, 7u);
  EXPECT_EQ(g.outlier_detection.base_ejection_time, Duration(seconds(10)));
  EXPECT_EQ(g.outlier_detection.max_ejection_time, Duration(seconds(100)));
  EXPECT_EQ(g.outlier_detection.max_ejection_percent, 30u);
  EXPECT_DOUBLE_EQ(g.retry_budget.budget_percent, 12.5);
  EXPECT_EQ(g.retry_budget.min_retry_concurrency, 1u);

  const ClusterSpec& o = c.clusters[1];
  ASSERT_EQ(o.endpoints.size(), 1u);
  EXPECT_EQ(o.endpoints[0].host, "other.svc.cluster.local");
  EXPECT_EQ(o.endpoints[0].port, 9000);
  EXPECT_FALSE(o.outlier_detection.enabled);
  EXPECT_FALSE(o.health_check.enabled);
}

TEST(ConfigLoad, WorkersAuto) {
  LoadResult r = load(std::string("workers: auto\n") + kListener);
  ASSERT_TRUE(r.config) << joined(r);
  EXPECT_EQ(r.config->workers, 0u);
  r = load(std::string("workers: 256\n") + kListener);
  ASSERT_TRUE(r.config) << joined(r);
  EXPECT_EQ(r.config->workers, 256u);
}

TEST(ConfigLoad, EmptyAdminAddressDisablesAdmin) {
  LoadResult r = load(std::string("admin: { address: \"\" }\n") + kListener);
  ASSERT_TRUE(r.config) << joined(r);
  EXPECT_EQ(r.config->admin.address, "");
}

TEST(ConfigLoad, PortZeroListenersAreNotDuplicates) {
  LoadResult r = load(R"(admin: { address: 127.0.0.1:0 }
listeners:
  - { name: a, address: 127.0.0.1:0 }
  - { name: b, address: 127.0.0.1:0 }
)");
  ASSERT_TRUE(r.config) << joined(r);
  EXPECT_EQ(r.config->listeners[1].address, "127.0.0.1:0");
}

TEST(ConfigLoad, EmptyRoutesAndClustersAreAllowed) {
  LoadResult r = load(std::string(kListener) + "routes: []\nclusters: []\n");
  ASSERT_TRUE(r.config) << joined(r);
  EXPECT_TRUE(r.config->routes.empty());
}

TEST(ConfigLoad, RetryOnAcceptsNamesNumbersAndAnyCase) {
  LoadResult r = load(std::string(kListener) + R"(routes:
  - match: { service: a.B }
    cluster: c
    retry: { retry_on: [unavailable, Deadline_Exceeded, 13, UNAVAILABLE] }
clusters:
  - { name: c, endpoints: [localhost:1] }
)");
  ASSERT_TRUE(r.config) << joined(r);
  ASSERT_TRUE(r.config->routes[0].retry);
  EXPECT_EQ(r.config->routes[0].retry->retry_on, (std::vector<int>{14, 4, 13}));
  EXPECT_EQ(r.config->routes[0].retry->max_attempts, 1u);
  EXPECT_EQ(r.config->routes[0].retry->backoff_base, Duration(milliseconds(25)));
  EXPECT_EQ(r.config->routes[0].retry->backoff_max, Duration(milliseconds(250)));
}

TEST(ConfigLoad, HealthCheckPresenceEnablesIt) {
  LoadResult r = load(std::string(kListener) + R"(clusters:
  - name: a
    endpoints: [127.0.0.1:1]
    health_check: {}
  - name: b
    endpoints: [127.0.0.1:1]
    health_check: { enabled: false, interval: 1s }
)");
  ASSERT_TRUE(r.config) << joined(r);
  EXPECT_TRUE(r.config->clusters[0].health_check.enabled);
  EXPECT_EQ(r.config->clusters[0].health_check.interval, Duration(seconds(5)));
  EXPECT_FALSE(r.config->clusters[1].health_check.enabled);
}

TEST(ConfigLoad, QuotedScalarsAreAccepted) {
  LoadResult r = load(R"(workers: "2"
drain_timeout: "5s"
listeners:
  - name: "public"
    address: "127.0.0.1:8080"
    http2: { max_frame_size: "16KiB" }
)");
  ASSERT_TRUE(r.config) << joined(r);
  EXPECT_EQ(r.config->workers, 2u);
  EXPECT_EQ(r.config->listeners[0].http2.max_frame_size, 16384u);
}

// ---- errors: syntax, structure ---------------------------------------------

TEST(ConfigErrors, YamlSyntaxError) {
  LoadResult r = load("listeners:\n  - name: [a\n");
  EXPECT_FALSE(r.config);
  ASSERT_EQ(r.errors.size(), 1u) << joined(r);
  EXPECT_TRUE(HasError(r, "test.yaml:3:1: ", "YAML syntax error"));
}

TEST(ConfigErrors, YamlSyntaxErrorMidLine) {
  LoadResult r = load("listeners: x\nfoo: bar: baz\n");
  ASSERT_EQ(r.errors.size(), 1u) << joined(r);
  EXPECT_TRUE(HasError(r, "test.yaml:2:9: ", "YAML syntax error"));
}

TEST(ConfigErrors, UnknownKeyWithSuggestion) {
  LoadResult r = load(R"(listeners:
  - name: public
    adress: 127.0.0.1:8080
)");
  EXPECT_TRUE(HasError(r, "test.yaml:3:5: ", "unknown key \"adress\" in listener"));
  EXPECT_TRUE(HasError(r, "test.yaml:3:5: ", "did you mean \"address\"?"));
  // The required key is still missing, reported at the listener.
  EXPECT_TRUE(HasError(r, "test.yaml:2:5: ", "listener is missing required key \"address\""));
}

TEST(ConfigErrors, UnknownTopLevelKey) {
  LoadResult r = load(std::string(kListener) + "clusterz: []\n");
  EXPECT_TRUE(HasError(r, "test.yaml:4:1: ", "unknown key \"clusterz\""));
  EXPECT_TRUE(HasError(r, "test.yaml:4:1: ", "did you mean \"clusters\"?"));
}

TEST(ConfigErrors, UnknownNestedKey) {
  LoadResult r = load(std::string(kListener) + R"(clusters:
  - name: c
    endpoints: [127.0.0.1:1]
    health_check: { intervall: 1s }
)");
  EXPECT_TRUE(
      HasError(r, "test.yaml:7:21: ", "unknown key \"intervall\" in cluster.health_check"));
}

TEST(ConfigErrors, DuplicateKey) {
  LoadResult r = load(R"(listeners:
  - name: public
    address: 127.0.0.1:8080
    name: again
)");
  EXPECT_TRUE(HasError(r, "test.yaml:4:5: ", "duplicate key \"name\" in listener"));
}

TEST(ConfigErrors, WrongTypes) {
  LoadResult r = load(R"(listeners: { name: x }
)");
  EXPECT_TRUE(HasError(r, "test.yaml:1:12: ", "expected a list for listeners, got a map"));

  r = load(std::string(kListener) + "logging: verbose\n");
  EXPECT_TRUE(HasError(r, "test.yaml:4:10: ", "expected a map for logging, got a scalar"));

  r = load(R"(listeners:
  - name: [a, b]
    address: 127.0.0.1:1
)");
  EXPECT_TRUE(HasError(r, "test.yaml:2:11: ", "expected a scalar for listener name, got a list"));

  r = load(R"(listeners:
  - public
)");
  EXPECT_TRUE(HasError(r, "test.yaml:2:5: ", "expected a map for listener, got a scalar"));

  r = load("- a\n- b\n");
  EXPECT_TRUE(HasError(r, "test.yaml:1:1: ", "must be a map of sections"));
}

TEST(ConfigErrors, MissingValue) {
  LoadResult r = load(std::string(kListener) + "drain_timeout:\n");
  EXPECT_TRUE(HasError(r, "test.yaml:", "missing value for drain_timeout"));
}

TEST(ConfigErrors, ListenersRequired) {
  LoadResult r = load("workers: 2\n");
  EXPECT_TRUE(HasError(r, "test.yaml:1:1: ", "at least one listener is required"));
  r = load("workers: 2\nlisteners: []\n");
  EXPECT_TRUE(HasError(r, "test.yaml:2:12: ", "at least one listener is required"));
  r = load("");
  EXPECT_TRUE(HasError(r, "test.yaml:1:1: ", "at least one listener is required"));
}

// ---- errors: values ---------------------------------------------------------

TEST(ConfigErrors, BadDuration) {
  LoadResult r = load(std::string(kListener) + R"(routes:
  - match: { service: a.B }
    cluster: c
    timeout: { default: 5x }
clusters:
  - { name: c, endpoints: [127.0.0.1:1] }
)");
  EXPECT_TRUE(HasError(r, "test.yaml:7:25: ",
                       "bad duration \"5x\" for timeout.default: expected e.g. 250ms, 5s, 1m"));
}

TEST(ConfigErrors, BareNumberIsNotADuration) {
  LoadResult r = load("drain_timeout: 30\n" + std::string(kListener));
  EXPECT_TRUE(HasError(r, "test.yaml:1:16: ", "bad duration \"30\" for drain_timeout"));
}

TEST(ConfigErrors, ZeroDurationWhereNotAllowed) {
  LoadResult r = load(std::string(kListener) + R"(clusters:
  - { name: c, endpoints: [127.0.0.1:1], connect_timeout: 0s }
)");
  EXPECT_TRUE(HasError(r, "test.yaml:5:59: ", "connect_timeout must be greater than 0s"));
}

TEST(ConfigErrors, BadSize) {
  LoadResult r = load(R"(listeners:
  - name: public
    address: 127.0.0.1:8080
    http2: { initial_stream_window: 64kb }
)");
  EXPECT_TRUE(HasError(r, "test.yaml:4:37: ",
                       "bad size \"64kb\" for http2.initial_stream_window: expected e.g."));
}

TEST(ConfigErrors, SizeOutOfRange) {
  LoadResult r = load(R"(listeners:
  - name: public
    address: 127.0.0.1:8080
    http2: { max_frame_size: 1KiB, initial_connection_window: 2GiB }
)");
  EXPECT_TRUE(HasError(r, "test.yaml:4:30: ",
                       "http2.max_frame_size must be between 16384 and 16777215 bytes"));
  EXPECT_TRUE(HasError(r, "test.yaml:4:63: ", "http2.initial_connection_window must be between"));
}

TEST(ConfigErrors, BadListenerAddresses) {
  auto withAddress = [](const std::string& a) {
    return load("listeners:\n  - name: public\n    address: " + a + "\n");
  };
  EXPECT_TRUE(HasError(withAddress("0.0.0.0"), "test.yaml:3:14: ",
                       "bad address \"0.0.0.0\" for address: missing port"));
  EXPECT_TRUE(HasError(withAddress("0.0.0.0:70000"), "test.yaml:3:14: ",
                       "port 70000 out of range"));
  EXPECT_TRUE(HasError(withAddress("0.0.0.0:99999999999999999999"), "test.yaml:3:14: ",
                       "out of range"));
  EXPECT_TRUE(HasError(withAddress("0.0.0.0:http"), "test.yaml:3:14: ",
                       "port \"http\" is not a number"));
  EXPECT_TRUE(HasError(withAddress("\"::1:8080\""), "test.yaml:3:14: ",
                       "IPv6 addresses must be in brackets"));
  EXPECT_TRUE(HasError(withAddress("\"[::1]\""), "test.yaml:3:14: ", "missing port"));
  EXPECT_TRUE(HasError(withAddress("\"[::1:8080\""), "test.yaml:3:14: ", "missing \"]\""));
  EXPECT_TRUE(HasError(withAddress("\"[nope]:80\""), "test.yaml:3:14: ", "not an IPv6 address"));
  EXPECT_TRUE(HasError(withAddress("localhost:8080"), "test.yaml:3:14: ",
                       "listening addresses must be IP literals"));
  EXPECT_TRUE(HasError(withAddress(":8080"), "test.yaml:3:14: ", "missing host"));
  EXPECT_TRUE(HasError(withAddress("\"\""), "test.yaml:3:14: ", "address must not be empty"));
}

TEST(ConfigErrors, BadEndpoints) {
  LoadResult r = load(std::string(kListener) + R"(clusters:
  - name: c
    endpoints:
      - 127.0.0.1
      - "[::1]:0"
      - 256.1.1.1:80
      - bad_host!:80
      - "::1:50051"
      - { host: x }
      - ok.example:80
      - OK.example:80
)");
  EXPECT_TRUE(HasError(r, "test.yaml:7:9: ", "bad endpoint \"127.0.0.1\": missing port"));
  EXPECT_TRUE(HasError(r, "test.yaml:8:9: ", "port 0 out of range 1-65535"));
  EXPECT_TRUE(HasError(r, "test.yaml:9:9: ", "\"256.1.1.1\" is not a valid IPv4 address"));
  EXPECT_TRUE(HasError(r, "test.yaml:10:9: ", "\"bad_host!\" is not a valid host name"));
  EXPECT_TRUE(HasError(r, "test.yaml:11:9: ", "IPv6 addresses must be in brackets"));
  // The map form is { address, weight }: "host" is not one of its keys.
  EXPECT_TRUE(HasError(r, "test.yaml:12:11: ", "unknown key \"host\" in endpoint"));
  EXPECT_TRUE(HasError(r, "test.yaml:12:9: ", "endpoint is missing required key \"address\""));
  EXPECT_TRUE(HasError(r, "test.yaml:14:9: ", "duplicate endpoint \"OK.example:80\""));
  EXPECT_EQ(r.errors.size(), 8u) << joined(r);
}

TEST(ConfigErrors, EmptyEndpoints) {
  LoadResult r = load(std::string(kListener) + R"(clusters:
  - name: c
    endpoints: []
)");
  EXPECT_TRUE(HasError(r, "test.yaml:6:16: ", "cluster \"c\" has no endpoints"));

  r = load(std::string(kListener) + R"(clusters:
  - name: c
)");
  EXPECT_TRUE(HasError(r, "test.yaml:5:5: ", "cluster is missing required key \"endpoints\""));
}

TEST(ConfigErrors, RouteToUndefinedCluster) {
  LoadResult r = load(std::string(kListener) + R"(routes:
  - match: { service: a.B }
    cluster: nope
clusters:
  - { name: c, endpoints: [127.0.0.1:1] }
)");
  EXPECT_TRUE(HasError(r, "test.yaml:6:14: ", "route to undefined cluster \"nope\""));
  EXPECT_TRUE(HasError(r, "test.yaml:6:14: ", "defined clusters: c"));

  r = load(std::string(kListener) + R"(routes:
  - match: { service: a.B }
    cluster: nope
)");
  EXPECT_TRUE(HasError(r, "test.yaml:6:14: ", "no clusters are defined"));
}

TEST(ConfigErrors, RouteToClusterWithErrorsIsNotAlsoUndefined) {
  LoadResult r = load(std::string(kListener) + R"(routes:
  - match: { service: a.B }
    cluster: c
clusters:
  - { name: c, endpoints: [127.0.0.1:1], lb: random }
)");
  ASSERT_EQ(r.errors.size(), 1u) << joined(r);
  EXPECT_TRUE(HasError(r, "test.yaml:8:46: ",
                       "unknown lb \"random\": expected round_robin or least_request"));
}

TEST(ConfigErrors, DuplicateNames) {
  LoadResult r = load(R"(listeners:
  - { name: a, address: 127.0.0.1:1 }
  - { name: a, address: 127.0.0.1:2 }
clusters:
  - { name: c, endpoints: [127.0.0.1:1] }
  - { name: c, endpoints: [127.0.0.1:1] }
)");
  EXPECT_TRUE(HasError(r, "test.yaml:3:13: ", "duplicate listener name \"a\" (first defined at 2:13)"));
  EXPECT_TRUE(HasError(r, "test.yaml:6:13: ", "duplicate cluster name \"c\" (first defined at 5:13)"));
}

TEST(ConfigErrors, DuplicateListenerAddresses) {
  LoadResult r = load(R"(listeners:
  - { name: a, address: "[::1]:8080" }
  - { name: b, address: "[0:0::1]:8080" }
  - { name: c, address: 127.0.0.1:9901 }
)");
  EXPECT_TRUE(HasError(r, "test.yaml:3:25: ",
                       "duplicate listener address \"[0:0::1]:8080\" (also used by listener \"a\""));
  // The default admin address collides with listener c.
  EXPECT_TRUE(HasError(r, "test.yaml:4:25: ",
                       "listener address \"127.0.0.1:9901\" is also used by admin.address"));
}

TEST(ConfigErrors, BadNames) {
  LoadResult r = load(R"(listeners:
  - { name: "my listener", address: 127.0.0.1:1 }
)");
  EXPECT_TRUE(HasError(r, "test.yaml:2:13: ", "bad listener name \"my listener\""));
}

TEST(ConfigErrors, RouteMatchForms) {
  auto withMatch = [](const std::string& m) {
    return load(std::string(kListener) + "routes:\n  - match: " + m +
                "\n    cluster: c\nclusters:\n  - { name: c, endpoints: [127.0.0.1:1] }\n");
  };
  // Line 5 is "  - match: ...", the match map starts at column 12.
  EXPECT_TRUE(HasError(withMatch("{}"), "test.yaml:5:12: ",
                       "route match needs either service (with optional method) or prefix"));
  EXPECT_TRUE(HasError(withMatch("{ service: a.B, prefix: /a.B/ }"), "test.yaml:5:36: ",
                       "not both"));
  EXPECT_TRUE(HasError(withMatch("{ method: Get }"), "test.yaml:5:22: ",
                       "match.method requires match.service"));
  EXPECT_TRUE(HasError(withMatch("{ prefix: grpc.reflection }"), "test.yaml:5:22: ",
                       "match.prefix \"grpc.reflection\" must start with \"/\""));
  EXPECT_TRUE(HasError(withMatch("{ service: /a.B }"), "test.yaml:5:23: ", "without \"/\""));
  EXPECT_TRUE(HasError(withMatch("{ service: \"\" }"), "test.yaml:5:23: ",
                       "match.service must not be empty"));
  EXPECT_TRUE(withMatch("{ prefix: / }").config.has_value());

  LoadResult r = load(std::string(kListener) + "routes:\n  - cluster: c\n");
  EXPECT_TRUE(HasError(r, "test.yaml:5:5: ", "route is missing required key \"match\""));
}

TEST(ConfigErrors, TimeoutDefaultAboveMax) {
  LoadResult r = load(std::string(kListener) + R"(routes:
  - match: { service: a.B }
    cluster: c
    timeout: { default: 1m, max: 30s }
clusters:
  - { name: c, endpoints: [127.0.0.1:1] }
)");
  EXPECT_TRUE(
      HasError(r, "test.yaml:7:25: ", "timeout.default (1m) must not exceed timeout.max (30s)"));
}

TEST(ConfigErrors, RetryPolicy) {
  auto withRetry = [](const std::string& retry) {
    return load(std::string(kListener) + "routes:\n  - match: { service: a.B }\n    cluster: c\n" +
                "    retry: " + retry + "\nclusters:\n  - { name: c, endpoints: [127.0.0.1:1] }\n");
  };
  // Line 7 is "    retry: ...", the value starts at column 12.
  EXPECT_TRUE(HasError(withRetry("{ max_attempts: 0 }"), "test.yaml:7:28: ",
                       "retry.max_attempts must be between 1 and 5, got 0"));
  EXPECT_TRUE(HasError(withRetry("{ max_attempts: 6 }"), "test.yaml:7:28: ",
                       "retry.max_attempts must be between 1 and 5, got 6"));
  EXPECT_TRUE(HasError(withRetry("{ max_attempts: -1 }"), "test.yaml:7:28: ",
                       "expected a non-negative integer for retry.max_attempts"));
  EXPECT_TRUE(HasError(withRetry("{ retry_on: [UNAVAILBLE] }"), "test.yaml:7:25: ",
                       "unknown status code \"UNAVAILBLE\" in retry.retry_on"));
  EXPECT_TRUE(HasError(withRetry("{ retry_on: [17] }"), "test.yaml:7:25: ",
                       "unknown status code \"17\""));
  EXPECT_TRUE(HasError(withRetry("{ backoff: { base: 1s } }"), "test.yaml:7:31: ",
                       "retry.backoff.base (1s) must not exceed retry.backoff.max (250ms)"));
  EXPECT_TRUE(HasError(withRetry("{ backoff: { base: 0s } }"), "test.yaml:7:31: ",
                       "retry.backoff.base must be greater than 0s"));
  LoadResult ok = withRetry("{ retry_on: UNAVAILABLE, max_attempts: 5 }");
  ASSERT_TRUE(ok.config) << joined(ok);
  EXPECT_EQ(ok.config->routes[0].retry->retry_on, std::vector<int>{14});
}

TEST(ConfigErrors, ClusterValues) {
  auto withCluster = [](const std::string& extra) {
    return load(std::string(kListener) + "clusters:\n  - name: c\n    endpoints: [127.0.0.1:1]\n" +
                extra);
  };
  // Line 7 is the first extra line.
  EXPECT_TRUE(HasError(withCluster("    lb: maglev\n"), "test.yaml:7:9: ",
                       "unknown lb \"maglev\""));
  EXPECT_TRUE(HasError(withCluster("    health_check: { mode: poll }\n"), "test.yaml:7:27: ",
                       "health_check.mode must be \"check\" or \"watch\", got \"poll\""));
  EXPECT_TRUE(HasError(withCluster("    health_check: { unhealthy_threshold: 0 }\n"),
                       "test.yaml:7:42: ",
                       "health_check.unhealthy_threshold must be at least 1, got 0"));
  EXPECT_TRUE(HasError(withCluster("    health_check: { healthy_threshold: 0 }\n"),
                       "test.yaml:7:40: ", "health_check.healthy_threshold must be at least 1"));
  EXPECT_TRUE(HasError(withCluster("    health_check: { interval: 0s }\n"), "test.yaml:7:31: ",
                       "health_check.interval must be greater than 0s"));
  EXPECT_TRUE(HasError(withCluster("    outlier_detection: { max_ejection_percent: 101 }\n"),
                       "test.yaml:7:48: ",
                       "outlier_detection.max_ejection_percent must be between 0 and 100, got 101"));
  EXPECT_TRUE(HasError(withCluster("    outlier_detection: { consecutive_failures: 0 }\n"),
                       "test.yaml:7:48: ", "consecutive_failures must be at least 1"));
  EXPECT_TRUE(HasError(withCluster("    outlier_detection: { enabled: maybe }\n"),
                       "test.yaml:7:35: ",
                       "expected true or false for outlier_detection.enabled, got \"maybe\""));
  EXPECT_TRUE(HasError(withCluster("    outlier_detection: { base_ejection_time: 10m }\n"),
                       "test.yaml:7:46: ", "must not exceed outlier_detection.max_ejection_time"));
  EXPECT_TRUE(HasError(withCluster("    panic_threshold: 150\n"), "test.yaml:7:22: ",
                       "panic_threshold must be between 0 and 100, got 150"));
  EXPECT_TRUE(HasError(withCluster("    retry_budget: { budget_percent: 100.5 }\n"),
                       "test.yaml:7:37: ",
                       "retry_budget.budget_percent must be a percentage from 0 to 100"));
  EXPECT_TRUE(HasError(withCluster("    retry_budget: { budget_percent: nan }\n"),
                       "test.yaml:7:37: ", "must be a percentage"));
  EXPECT_TRUE(HasError(withCluster("    max_connections_per_endpoint: 0\n"), "test.yaml:7:35: ",
                       "max_connections_per_endpoint must be at least 1"));
  EXPECT_TRUE(HasError(withCluster("    retry_buffer: lots\n"), "test.yaml:7:19: ",
                       "bad size \"lots\" for retry_buffer"));
  EXPECT_TRUE(HasError(withCluster("    keepalive: { interval: 1x }\n"), "test.yaml:7:28: ",
                       "bad duration \"1x\" for keepalive.interval"));
  EXPECT_TRUE(HasError(withCluster("    keepalive: 30s\n"), "test.yaml:7:16: ",
                       "expected a map for cluster.keepalive, got a scalar (\"30s\")"));
  LoadResult ok = withCluster("    keepalive: { interval: 0s }\n    retry_buffer: 0\n");
  ASSERT_TRUE(ok.config) << joined(ok);
  EXPECT_EQ(ok.config->clusters[0].keepalive_interval, Duration::zero());
  EXPECT_EQ(ok.config->clusters[0].retry_buffer, 0u);
}

TEST(ConfigErrors, Workers) {
  for (const char* bad : {"0", "257", "many", "-1", "2.5", "99999999999999999999"}) {
    LoadResult r = load(std::string("workers: ") + bad + "\n" + kListener);
    EXPECT_TRUE(HasError(r, "test.yaml:1:10: ",
                         "workers must be \"auto\" or an integer from 1 to 256, got \"" +
                             std::string(bad) + "\""))
        << bad;
  }
  LoadResult r = load(std::string("workers: [1]\n") + kListener);
  EXPECT_TRUE(HasError(r, "test.yaml:1:10: ", "workers must be \"auto\""));
}

TEST(ConfigErrors, Logging) {
  LoadResult r = load(std::string(kListener) + "logging: { level: verbose }\n");
  EXPECT_TRUE(HasError(r, "test.yaml:4:19: ",
                       "unknown log level \"verbose\" for logging.level: expected one of trace"));
  r = load(std::string(kListener) + "logging: { access_log: /nonexistent-dir/x/access.log }\n");
  EXPECT_TRUE(HasError(r, "test.yaml:4:24: ",
                       "logging.access_log directory \"/nonexistent-dir/x\" does not exist"));
  r = load(std::string(kListener) + "logging: { access_log: \"\" }\n");
  EXPECT_TRUE(HasError(r, "test.yaml:4:24: ", "logging.access_log must not be empty"));
}

TEST(ConfigErrors, TlsMinVersion) {
  TempDir dir;
  dir.write("c.pem", "x");
  LoadResult r = loadString(R"(listeners:
  - name: public
    address: 127.0.0.1:8443
    tls: { cert: c.pem, key: c.pem, min_version: "1.1" }
)",
                            dir.path() + "/t.yaml");
  EXPECT_TRUE(HasError(r, dir.path() + "/t.yaml:4:50: ",
                       "tls.min_version must be \"1.2\" or \"1.3\", got \"1.1\""));
}

// ---- TLS files --------------------------------------------------------------

TEST(ConfigTls, RelativePathsResolveAgainstTheConfigDirectory) {
  TempDir dir;
  dir.write("tls/server.crt", "cert");
  dir.write("tls/server.key", "key");
  std::string cfg = dir.write("conf/switchyard.yaml", R"(listeners:
  - name: public
    address: 127.0.0.1:8443
    tls: { cert: ../tls/server.crt, key: ../tls/./server.key }
)");
  LoadResult r = loadFile(cfg);
  ASSERT_TRUE(r.config) << joined(r);
  ASSERT_TRUE(r.config->listeners[0].tls);
  EXPECT_EQ(r.config->listeners[0].tls->cert, dir.path() + "/tls/server.crt");
  EXPECT_EQ(r.config->listeners[0].tls->key, dir.path() + "/tls/server.key");
  EXPECT_EQ(r.config->listeners[0].tls->min_version, "1.2");
  EXPECT_EQ(r.config->path, cfg);
}

TEST(ConfigTls, AbsolutePathsAreKept) {
  TempDir dir;
  std::string crt = dir.write("a.crt", "cert");
  std::string key = dir.write("a.key", "key");
  LoadResult r = load("listeners:\n  - name: p\n    address: 127.0.0.1:1\n    tls: { cert: " + crt +
                      ", key: " + key + " }\n");
  ASSERT_TRUE(r.config) << joined(r);
  EXPECT_EQ(r.config->listeners[0].tls->cert, crt);
  EXPECT_EQ(r.config->listeners[0].tls->key, key);
}

TEST(ConfigTls, UnreadableFilesAreReported) {
  TempDir dir;
  dir.write("server.crt", "cert");
  std::string name = dir.path() + "/s.yaml";
  LoadResult r = loadString(R"(listeners:
  - name: public
    address: 127.0.0.1:8443
    tls:
      cert: server.crt
      key: missing.key
  - name: other
    address: 127.0.0.1:8444
    tls: { cert: ., key: "" }
)",
                            name);
  EXPECT_TRUE(HasError(r, name + ":6:12: ",
                       "cannot read tls.key file \"" + dir.path() +
                           "/missing.key\": No such file or directory"));
  EXPECT_TRUE(HasError(r, name + ":9:18: ", "is a directory"));
  EXPECT_TRUE(HasError(r, name + ":9:26: ", "tls.key must not be empty"));
  EXPECT_EQ(r.errors.size(), 3u) << joined(r);
}

TEST(ConfigTls, PermissionDenied) {
  if (::geteuid() == 0) GTEST_SKIP() << "root can read any file";
  TempDir dir;
  std::string key = dir.write("server.key", "key");
  dir.write("server.crt", "cert");
  ::chmod(key.c_str(), 0);
  std::string name = dir.path() + "/s.yaml";
  LoadResult r = loadString(
      "listeners:\n  - name: p\n    address: 127.0.0.1:1\n    tls: { cert: server.crt, key: server.key }\n",
      name);
  EXPECT_TRUE(HasError(r, name + ":4:35: ", "Permission denied"));
}

TEST(ConfigTls, MissingCertAndKey) {
  LoadResult r = load(R"(listeners:
  - name: public
    address: 127.0.0.1:8443
    tls: {}
)");
  EXPECT_TRUE(HasError(r, "test.yaml:4:10: ", "listener.tls is missing required key \"cert\""));
  EXPECT_TRUE(HasError(r, "test.yaml:4:10: ", "listener.tls is missing required key \"key\""));
}

// ---- files and robustness ---------------------------------------------------

TEST(ConfigFile, MissingFile) {
  LoadResult r = loadFile("/nonexistent/switchyard.yaml");
  EXPECT_FALSE(r.config);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0], "/nonexistent/switchyard.yaml: cannot read: No such file or directory");
}

TEST(ConfigFile, DirectoryIsNotAFile) {
  TempDir dir;
  LoadResult r = loadFile(dir.path());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0], dir.path() + ": cannot read: Is a directory");
}

TEST(ConfigFile, LoadsFromDiskWithFileNameInErrors) {
  TempDir dir;
  std::string cfg = dir.write("bad.yaml", "listeners:\n  - name: p\n    address: 1.2.3.4\n");
  LoadResult r = loadFile(cfg);
  EXPECT_TRUE(HasError(r, cfg + ":3:14: ", "missing port"));
}

TEST(ConfigFile, RelativeAccessLogResolvesAgainstConfigDirectory) {
  TempDir dir;
  std::string cfg = dir.write("sy.yaml", std::string(kListener) +
                                             "logging: { access_log: logs/access.log }\n");
  fs::create_directories(dir.path() + "/logs");
  LoadResult r = loadFile(cfg);
  ASSERT_TRUE(r.config) << joined(r);
  EXPECT_EQ(r.config->logging.access_log, dir.path() + "/logs/access.log");
}

TEST(ConfigErrors, AllErrorsAreCollectedInFileOrder) {
  LoadResult r = load(R"(workers: 0
drain_timeout: soon
listeners:
  - name: public
    address: 127.0.0.1
    idle_timeout: 5x
routes:
  - match: { service: a.B }
    cluster: missing
clusters:
  - name: c
    endpoints: []
    lb: random
)");
  EXPECT_FALSE(r.config);
  ASSERT_EQ(r.errors.size(), 7u) << joined(r);
  EXPECT_EQ(r.errors[0].rfind("test.yaml:1:10: workers", 0), 0u) << r.errors[0];
  EXPECT_EQ(r.errors[1].rfind("test.yaml:2:16: bad duration \"soon\" for drain_timeout", 0), 0u)
      << r.errors[1];
  EXPECT_EQ(r.errors[2].rfind("test.yaml:5:14: bad address", 0), 0u) << r.errors[2];
  EXPECT_EQ(r.errors[3].rfind("test.yaml:6:19: bad duration \"5x\" for idle_timeout", 0), 0u)
      << r.errors[3];
  EXPECT_EQ(r.errors[4].rfind("test.yaml:9:14: route to undefined cluster \"missing\"", 0), 0u)
      << r.errors[4];
  EXPECT_EQ(r.errors[5].rfind("test.yaml:12:16: cluster \"c\" has no endpoints", 0), 0u)
      << r.errors[5];
  EXPECT_EQ(r.errors[6].rfind("test.yaml:13:9: unknown lb \"random\"", 0), 0u) << r.errors[6];
}

TEST(ConfigErrors, HealthCheckResponseLimitIsBounded) {
  LoadResult r = load(R"(listeners: [{ name: l, address: "127.0.0.1:0" }]
routes: [{ match: { service: a.B }, cluster: c }]
clusters:
  - name: c
    endpoints: [127.0.0.1:1]
    health_check: { max_response_bytes: 8 }
  - name: d
    endpoints: [127.0.0.1:2]
    health_check: { max_response_bytes: lots }
)");
  EXPECT_FALSE(r.config);
  ASSERT_EQ(r.errors.size(), 2u) << joined(r);
  EXPECT_EQ(r.errors[0].rfind("test.yaml:6:41: ", 0), 0u) << r.errors[0];
  EXPECT_NE(r.errors[0].find("health_check.max_response_bytes"), std::string::npos) << r.errors[0];
  EXPECT_EQ(r.errors[1].rfind("test.yaml:9:41: bad size \"lots\" for health_check.max_response_bytes", 0), 0u)
      << r.errors[1];
}

TEST(ConfigErrors, NeverThrows) {
  const char* inputs[] = {
      "",
      "---\n",
      "~\n",
      "42\n",
      "[1, 2, 3]\n",
      "\t\n",
      "listeners: &a [*a]\n",
      "listeners:\n  - name: p\n    address: 127.0.0.1:1\n    http2: [1]\n",
      "listeners:\n  - ? [complex, key]\n    : value\n",
      "\xff\xfe\x00garbage",
      "{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{",
      "listeners: !!binary AAAA\n",
      "routes: [{match: {service: [x]}, cluster: {a: b}}]\n",
      "clusters: [{name: c, endpoints: [[a]], health_check: [], retry_budget: 5}]\n",
  };
  for (const char* in : inputs) {
    LoadResult r;
    EXPECT_NO_THROW(r = load(in)) << in;
    EXPECT_FALSE(r.config) << in;
    EXPECT_FALSE(r.errors.empty()) << in;
    for (const auto& e : r.errors) EXPECT_EQ(e.rfind("test.yaml:", 0), 0u) << e;
  }
  std::string deep(20000, '[');
  LoadResult r;
  EXPECT_NO_THROW(r = load(deep));
  EXPECT_FALSE(r.config);
}

TEST(ConfigShipped, DefaultAndExamplesLoad) {
  // The shipped files reference TLS files under /etc/switchyard that do not
  // exist here, so only the files without TLS must load cleanly.
  const fs::path root = fs::path(__FILE__).parent_path().parent_path().parent_path();
  LoadResult r = loadFile((root / "config/switchyard.yaml").string());
  ASSERT_TRUE(r.config) << joined(r);
  const Config& c = *r.config;
  EXPECT_EQ(c.workers, 0u);
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0].address, "0.0.0.0:8080");
  EXPECT_FALSE(c.listeners[0].tls);
  ASSERT_EQ(c.clusters.size(), 1u);
  EXPECT_TRUE(c.clusters[0].health_check.enabled);
  EXPECT_EQ(c.clusters[0].health_check.interval, Duration(seconds(2)));
  ASSERT_EQ(c.routes.size(), 3u);
  EXPECT_EQ(c.routes[0].match.method, "SayHello");
  EXPECT_EQ(c.routes[0].timeout_default, Duration(seconds(5)));
  EXPECT_EQ(c.routes[0].timeout_max, Duration(seconds(30)));
  EXPECT_EQ(c.routes[2].match.prefix, "/grpc.reflection.");

  r = loadFile((root / "config/examples/kubernetes.yaml").string());
  ASSERT_TRUE(r.config) << joined(r);

  r = loadFile((root / "config/examples/tls.yaml").string());
  for (const auto& e : r.errors) EXPECT_NE(e.find("cannot read tls."), std::string::npos) << e;
}

// ---- applying the logging section ------------------------------------------

void writeAccess(const std::string& line) {
  std::string l = line + "\n";
  log::AccessLogTarget::instance().write(l.data(), l.size());
}

TEST(ConfigLogging, InitAppliesLevelAndAccessTarget) {
  TempDir dir;
  std::string path = dir.path() + "/access.log";
  auto& target = log::AccessLogTarget::instance();
  EXPECT_TRUE(log::init("debug", path));
  EXPECT_EQ(log::main().level(), spdlog::level::debug);
  ASSERT_TRUE(target.enabled());
  writeAccess("rpc one");
  // Re-initialising with the same or another target must not throw.
  EXPECT_TRUE(log::init("warn", path));
  EXPECT_EQ(log::main().level(), spdlog::level::warn);
  writeAccess("rpc two");
  EXPECT_TRUE(log::init("info", "off"));
  EXPECT_FALSE(target.enabled());
  EXPECT_TRUE(log::init("info", "stderr"));
  EXPECT_TRUE(target.enabled());
  EXPECT_FALSE(log::setLevel("loud"));
  EXPECT_EQ(log::main().level(), spdlog::level::info);
  EXPECT_TRUE(log::setLevel("off"));
  EXPECT_TRUE(log::setLevel("info"));
  // An unwritable target keeps the previous access log.
  std::string not_a_dir = dir.write("plain-file", "x");
  EXPECT_FALSE(log::init("info", not_a_dir + "/access.log"));
  EXPECT_EQ(target.target(), "stderr");
  EXPECT_TRUE(target.enabled());
  log::init("info", "stdout");

  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_NE(ss.str().find("rpc one"), std::string::npos) << ss.str();
  EXPECT_NE(ss.str().find("rpc two"), std::string::npos) << ss.str();
}

std::string slurp(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ConfigLogging, FileAccessLogIsReopenedOnInitAndReopen) {
  TempDir dir;
  std::string path = dir.path() + "/access.log";
  ASSERT_TRUE(log::init("info", path));
  writeAccess("before rotation");
  // Rotate the way logrotate does: rename, then ask the daemon to reopen.
  fs::rename(path, path + ".1");
  ASSERT_TRUE(log::reopen());
  writeAccess("after reopen");
  fs::rename(path, path + ".2");
  ASSERT_TRUE(log::init("info", path));  // a reload reopens too
  writeAccess("after init");
  log::init("info", "stdout");

  std::string first = slurp(path + ".1");
  std::string second = slurp(path + ".2");
  std::string current = slurp(path);
  EXPECT_EQ(first, "before rotation\n");
  EXPECT_EQ(second, "after reopen\n");
  EXPECT_EQ(current, "after init\n");
}

TEST(ConfigLogging, AccessLogSettingsAreRead) {
  TempDir dir;
  std::string file = dir.write("c.yaml", std::string(kListener) +
                                            "logging: { access_log_format: json, "
                                            "access_log_flush_interval: 50ms, access_log_buffer: 8KiB }\n"
                                            "tracing: { generate_request_id: false, start_traceparent: true }\n");
  auto r = loadFile(file);
  ASSERT_TRUE(r.config) << joined(r);
  EXPECT_EQ(r.config->logging.access_log_format, "json");
  EXPECT_EQ(r.config->logging.access_log_flush_interval, Duration(std::chrono::milliseconds(50)));
  EXPECT_EQ(r.config->logging.access_log_buffer, 8192u);
  EXPECT_FALSE(r.config->tracing.generate_request_id);
  EXPECT_TRUE(r.config->tracing.start_traceparent);

  r = load(std::string(kListener) + "logging: { access_log_format: xml }\n");
  EXPECT_TRUE(HasError(r, "test.yaml:", "unknown access log format \"xml\""));
}

TEST(ConfigRouteStats, PerMethodNamesAreQualified) {
  auto r = load(std::string(kListener) +
                "routes:\n"
                "  - match: { service: pkg.Svc }\n"
                "    cluster: c\n"
                "    stats: { per_method: [Get, other.Svc/Put] }\n"
                "clusters: [{ name: c, endpoints: [127.0.0.1:1] }]\n");
  ASSERT_TRUE(r.config) << joined(r);
  ASSERT_EQ(r.config->routes[0].stats_per_method.size(), 2u);
  EXPECT_EQ(r.config->routes[0].stats_per_method[0], "pkg.Svc/Get");
  EXPECT_EQ(r.config->routes[0].stats_per_method[1], "other.Svc/Put");

  r = load(std::string(kListener) +
           "routes:\n"
           "  - match: { prefix: /pkg. }\n"
           "    cluster: c\n"
           "    stats: { per_method: [Get] }\n"
           "clusters: [{ name: c, endpoints: [127.0.0.1:1] }]\n");
  EXPECT_TRUE(HasError(r, "test.yaml:", "must be \"pkg.Service/Method\" when the route has no match.service"));
}

}  // namespace
}  // namespace switchyard::config
