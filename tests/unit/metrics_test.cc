// Tests for the metrics registry: shard merging, cardinality caps, histogram
// buckets, main-thread families and the text exposition (checked with promtool
// when it is installed).
#include "metrics/metrics.h"
#include "metrics/process_collector.h"

#include <gtest/gtest.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace switchyard::metrics {
namespace {

// "M<i>", appended: GCC 12 at -O3 reports a false -Wrestrict for
// "M" + std::to_string(i) (GCC bug 105329).
std::string methodName(int i) {
  std::string name = "M";
  name += std::to_string(i);
  return name;
}

bool contains(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

// The value of the first sample line starting with `prefix` (name and labels).
double sample(const std::string& text, const std::string& prefix) {
  size_t pos = 0;
  while ((pos = text.find(prefix, pos)) != std::string::npos) {
    if (pos == 0 || text[pos - 1] == '\n') {
      size_t sp = pos + prefix.size();
      if (sp < text.size() && text[sp] == ' ') return std::stod(text.substr(sp + 1));
    }
    pos += prefix.size();
  }
  ADD_FAILURE() << "no sample " << prefix << " in:\n" << text;
  return -1;
}

const char* kRpc = R"(grpc_service="pkg.Greeter",grpc_method="Hello",cluster="greeter")";

// gRPC-Web calls get series of their own with protocol="grpc-web"; native
// gRPC series keep the label set they always had (no protocol label).
TEST(MetricsTest, ProtocolLabelOnlyForNonNativeCalls) {
  Metrics m;
  WorkerStats& w = m.addWorker();
  w.rpc("pkg.Greeter", "Hello", "greeter")->started();
  RpcSeries* web = w.rpc("pkg.Greeter", "Hello", "greeter", "grpc-web");
  EXPECT_NE(web, w.rpc("pkg.Greeter", "Hello", "greeter"));
  EXPECT_EQ(web, w.rpc("pkg.Greeter", "Hello", "greeter", "grpc-web"));
  web->started();
  web->started();
  std::string text = m.serialize();
  EXPECT_EQ(sample(text, std::string("switchyard_grpc_server_started_total{") + kRpc + "}"), 1);
  EXPECT_EQ(sample(text, std::string("switchyard_grpc_server_started_total{") + kRpc +
                             R"(,protocol="grpc-web"})"),
            2);
  EXPECT_FALSE(contains(text, R"(protocol="grpc")"));
}

// The last series found is remembered; every label set still gets its own.
TEST(MetricsTest, RepeatedLookupsReturnTheirOwnSeries) {
  Metrics m;
  WorkerStats& w = m.addWorker();
  RpcSeries* a = w.rpc("pkg.Greeter", "A", "greeter");
  RpcSeries* b = w.rpc("pkg.Greeter", "B", "greeter");
  ASSERT_NE(a, b);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(w.rpc("pkg.Greeter", "A", "greeter"), a);
    EXPECT_EQ(w.rpc("pkg.Greeter", "A", "greeter"), a);
    EXPECT_EQ(w.rpc("pkg.Greeter", "B", "greeter"), b);
    EXPECT_NE(w.rpc("pkg.Greeter", "B", "other"), b);
    EXPECT_NE(w.rpc("pkg.Greeter", "B", "greeter", "grpc-web"), b);
  }
}

// Counts recorded on two workers' shards are summed into one series.
TEST(MetricsTest, CountsMergeAcrossShards) {
  Metrics m;
  WorkerStats& a = m.addWorker();
  WorkerStats& b = m.addWorker();
  for (WorkerStats* w : {&a, &b}) {
    RpcSeries* s = w->rpc("pkg.Greeter", "Hello", "greeter");
    s->started();
    s->handled(0, 0.002);
    s->messagesReceived(2);
    s->messagesSent(3);
    s->bytesReceived(100);
    s->bytesSent(1000);
  }
  b.rpc("pkg.Greeter", "Hello", "greeter")->handled(14, 0.5);
  std::string text = m.serialize();
  EXPECT_EQ(sample(text, std::string("switchyard_grpc_server_started_total{") + kRpc + "}"), 2);
  EXPECT_EQ(sample(text, std::string("switchyard_grpc_server_handled_total{") + kRpc +
                             R"(,grpc_code="OK"})"),
            2);
  EXPECT_EQ(sample(text, std::string("switchyard_grpc_server_handled_total{") + kRpc +
                             R"(,grpc_code="Unavailable"})"),
            1);
  EXPECT_FALSE(contains(text, R"(grpc_code="Canceled")"));
  EXPECT_EQ(sample(text, std::string("switchyard_grpc_server_msg_received_total{") + kRpc + "}"), 4);
  EXPECT_EQ(sample(text, std::string("switchyard_grpc_server_msg_sent_total{") + kRpc + "}"), 6);
  EXPECT_EQ(sample(text, std::string("switchyard_grpc_server_request_bytes_total{") + kRpc + "}"),
            200);
  EXPECT_EQ(sample(text, std::string("switchyard_grpc_server_response_bytes_total{") + kRpc + "}"),
            2000);
  EXPECT_EQ(sample(text, std::string("switchyard_grpc_server_handling_seconds_count{") + kRpc + "}"),
            3);
  EXPECT_DOUBLE_EQ(
      sample(text, std::string("switchyard_grpc_server_handling_seconds_sum{") + kRpc + "}"), 0.504);
}

// The same label set always yields the same pointer in one shard.
TEST(MetricsTest, SeriesPointersAreStable) {
  Metrics m;
  WorkerStats& w = m.addWorker();
  RpcSeries* first = w.rpc("a.S", "M", "c");
  for (int i = 0; i < 100; ++i) w.rpc("a.S", methodName(i), "c");
  EXPECT_EQ(first, w.rpc("a.S", "M", "c"));
  EXPECT_NE(first, w.rpc("a.S", "M", "other-cluster"));
  EXPECT_EQ(w.listener("public"), w.listener("public"));
  EXPECT_EQ(w.endpoint("c", "10.0.0.1:50051"), w.endpoint("c", "10.0.0.1:50051"));
  EXPECT_NE(w.endpoint("c", "10.0.0.1:50051"), w.endpoint("c", "10.0.0.2:50051"));
}

// Past the cap, new label sets collapse into grpc_service/grpc_method "other"
// for their cluster, while already-known sets keep their own series.
TEST(MetricsTest, RpcCardinalityCap) {
  Metrics m(3);
  WorkerStats& w = m.addWorker();
  RpcSeries* s1 = w.rpc("a.S", "M1", "c");
  w.rpc("a.S", "M2", "c");
  w.rpc("a.S", "M3", "c");
  RpcSeries* o1 = w.rpc("a.S", "M4", "c");
  RpcSeries* o2 = w.rpc("evil.S", "Random123", "c");
  RpcSeries* o3 = w.rpc("a.S", "M5", "d");
  EXPECT_EQ(o1, o2);
  EXPECT_NE(o1, o3);
  EXPECT_EQ(o1->service(), "other");
  EXPECT_EQ(o1->method(), "other");
  EXPECT_EQ(o1->cluster(), "c");
  EXPECT_EQ(o3->cluster(), "d");
  EXPECT_EQ(s1, w.rpc("a.S", "M1", "c"));
  o1->started();
  o2->started();
  std::string text = m.serialize();
  EXPECT_EQ(sample(text, R"(switchyard_grpc_server_started_total{grpc_service="other",grpc_method="other",cluster="c"})"),
            2);
  EXPECT_FALSE(contains(text, "M4"));
  EXPECT_FALSE(contains(text, "evil.S"));
}

TEST(MetricsTest, EndpointCardinalityCap) {
  Metrics m(10, 2);
  WorkerStats& w = m.addWorker();
  w.endpoint("c", "10.0.0.1:1")->connectionOpened();
  w.endpoint("c", "10.0.0.2:1")->connectionOpened();
  EndpointSeries* o = w.endpoint("c", "10.0.0.3:1");
  EXPECT_EQ(o->address(), "other");
  EXPECT_EQ(o, w.endpoint("c", "10.0.0.4:1"));
  o->connectFailed();
  std::string text = m.serialize();
  EXPECT_EQ(sample(text, R"(switchyard_upstream_connect_failures_total{cluster="c",endpoint="other"})"), 1);
  EXPECT_FALSE(contains(text, "10.0.0.3"));
}

// Observations land in the first bucket whose bound is >= the value; the
// exposed buckets are cumulative and +Inf equals the count.
TEST(MetricsTest, HistogramBuckets) {
  Metrics m;
  WorkerStats& w = m.addWorker();
  RpcSeries* s = w.rpc("a.S", "M", "c");
  s->handled(0, 0.00005);  // le 0.0001
  s->handled(0, 0.0001);   // le 0.0001 (bounds are inclusive)
  s->handled(0, 0.003);    // le 0.005
  s->handled(0, 45.0);     // le 60
  s->handled(0, 3600.0);   // +Inf only
  s->handled(0, -1.0);     // clamped to 0: le 0.0001
  EXPECT_EQ(s->bucketCount(0), 3u);
  EXPECT_EQ(s->bucketCount(kHandlingBuckets.size()), 1u);
  std::string text = m.serialize();
  const std::string p =
      R"(switchyard_grpc_server_handling_seconds_bucket{grpc_service="a.S",grpc_method="M",cluster="c",le=")";
  EXPECT_EQ(sample(text, p + R"(0.0001"})"), 3);
  EXPECT_EQ(sample(text, p + R"(0.0025"})"), 3);
  EXPECT_EQ(sample(text, p + R"(0.005"})"), 4);
  EXPECT_EQ(sample(text, p + R"(30"})"), 4);
  EXPECT_EQ(sample(text, p + R"(60"})"), 5);
  EXPECT_EQ(sample(text, p + R"(+Inf"})"), 6);
  EXPECT_EQ(sample(text, R"(switchyard_grpc_server_handling_seconds_count{grpc_service="a.S",grpc_method="M",cluster="c"})"),
            6);
}

// Out-of-range gRPC codes are counted as Unknown rather than dropped.
TEST(MetricsTest, OutOfRangeCodeIsUnknown) {
  Metrics m;
  RpcSeries* s = m.addWorker().rpc("a.S", "M", "c");
  s->handled(17, 0.1);
  s->handled(-1, 0.1);
  EXPECT_EQ(s->handledCount(2), 2u);
  EXPECT_STREQ(grpcCodeLabel(4), "DeadlineExceeded");
  EXPECT_STREQ(grpcCodeLabel(99), "Unknown");
}

// Shard i is worker i: connections and RPCs are reported per worker, summed
// over its listeners and RPC series, so an idle worker shows as zeros.
TEST(MetricsTest, ConnectionsAndRpcsPerWorker) {
  Metrics m;
  WorkerStats& a = m.addWorker();
  WorkerStats& b = m.addWorker();
  m.addWorker();  // a worker that never got a connection
  for (int i = 0; i < 3; ++i) a.listener("public")->connectionOpened();
  a.listener("admin-side")->connectionOpened();
  a.listener("public")->connectionClosed();
  b.listener("public")->connectionOpened();
  a.rpc("pkg.Svc", "M", "c")->started();
  a.rpc("pkg.Svc", "N", "c")->started();
  b.rpc("pkg.Svc", "M", "c")->started();
  std::string text = m.serialize();
  EXPECT_TRUE(contains(text, "# TYPE switchyard_worker_connections gauge\n"));
  EXPECT_TRUE(contains(text, "# TYPE switchyard_worker_rpcs_total counter\n"));
  EXPECT_EQ(sample(text, R"(switchyard_worker_connections{worker="0"})"), 3);
  EXPECT_EQ(sample(text, R"(switchyard_worker_connections{worker="1"})"), 1);
  EXPECT_EQ(sample(text, R"(switchyard_worker_connections{worker="2"})"), 0);
  EXPECT_EQ(sample(text, R"(switchyard_worker_rpcs_total{worker="0"})"), 2);
  EXPECT_EQ(sample(text, R"(switchyard_worker_rpcs_total{worker="1"})"), 1);
  EXPECT_EQ(sample(text, R"(switchyard_worker_rpcs_total{worker="2"})"), 0);
}

TEST(MetricsTest, ListenerAndEndpointGauges) {
  Metrics m;
  WorkerStats& a = m.addWorker();
  WorkerStats& b = m.addWorker();
  for (int i = 0; i < 3; ++i) a.listener("public")->connectionOpened();
  a.listener("public")->connectionClosed();
  b.listener("public")->connectionOpened();
  b.listener("public")->tlsHandshakeFailed();
  b.listener("public")->protocolError();
  EndpointSeries* e = a.endpoint("greeter", "10.0.0.1:50051");
  e->connectionOpened();
  e->streamStarted();
  e->streamStarted();
  e->streamEnded();
  std::string text = m.serialize();
  EXPECT_EQ(sample(text, R"(switchyard_listener_connections_total{listener="public"})"), 4);
  EXPECT_EQ(sample(text, R"(switchyard_listener_connections_active{listener="public"})"), 3);
  EXPECT_EQ(sample(text, R"(switchyard_listener_tls_handshake_failures_total{listener="public"})"), 1);
  EXPECT_EQ(sample(text, R"(switchyard_listener_http2_protocol_errors_total{listener="public"})"), 1);
  const std::string ep = R"({cluster="greeter",endpoint="10.0.0.1:50051"})";
  EXPECT_EQ(sample(text, "switchyard_upstream_connections_total" + ep), 1);
  EXPECT_EQ(sample(text, "switchyard_upstream_connections_active" + ep), 1);
  EXPECT_EQ(sample(text, "switchyard_upstream_streams_total" + ep), 2);
  EXPECT_EQ(sample(text, "switchyard_upstream_streams_active" + ep), 1);
}

// Every cause is exposed (zero included) so alerts on increase() work from the start.
TEST(MetricsTest, LocalErrorsByCause) {
  Metrics m;
  WorkerStats& a = m.addWorker();
  WorkerStats& b = m.addWorker();
  a.localError(LocalError::NoRoute);
  b.localError(LocalError::NoRoute);
  b.localError(LocalError::Draining);
  std::string text = m.serialize();
  EXPECT_EQ(sample(text, R"(switchyard_local_errors_total{cause="no_route"})"), 2);
  EXPECT_EQ(sample(text, R"(switchyard_local_errors_total{cause="draining"})"), 1);
  EXPECT_EQ(sample(text, R"(switchyard_local_errors_total{cause="no_healthy_endpoint"})"), 0);
  EXPECT_EQ(sample(text, R"(switchyard_local_errors_total{cause="upstream_connect_failure"})"), 0);
  EXPECT_EQ(sample(text, R"(switchyard_local_errors_total{cause="client_cert_required"})"), 0);
  EXPECT_EQ(sample(text, R"(switchyard_local_errors_total{cause="client_cert_not_allowed"})"), 0);
}

TEST(MetricsTest, MainThreadFamilies) {
  Metrics m;
  m.setEndpointHealth("greeter", "10.0.0.1:50051", 1);
  m.setEndpointHealth("greeter", "10.0.0.2:50051", 2);
  m.healthCheckResult("greeter", "10.0.0.1:50051", true);
  m.healthCheckResult("greeter", "10.0.0.1:50051", false);
  m.healthCheckResult("greeter", "10.0.0.1:50051", true);
  m.ejection("greeter", "10.0.0.2:50051");
  m.configReload(true);
  m.configReload(false);
  std::string text = m.serialize();
  EXPECT_EQ(sample(text, R"(switchyard_endpoint_health_state{cluster="greeter",endpoint="10.0.0.2:50051"})"), 2);
  EXPECT_EQ(sample(text, R"(switchyard_health_checks_total{cluster="greeter",endpoint="10.0.0.1:50051",result="success"})"), 2);
  EXPECT_EQ(sample(text, R"(switchyard_health_checks_total{cluster="greeter",endpoint="10.0.0.1:50051",result="failure"})"), 1);
  EXPECT_EQ(sample(text, R"(switchyard_endpoint_ejections_total{cluster="greeter",endpoint="10.0.0.2:50051"})"), 1);
  EXPECT_EQ(sample(text, R"(switchyard_config_reloads_total{result="success"})"), 1);
  EXPECT_EQ(sample(text, R"(switchyard_config_reloads_total{result="failure"})"), 1);
  EXPECT_EQ(sample(text, "switchyard_config_last_reload_successful"), 0);
  EXPECT_GT(sample(text, "switchyard_config_last_reload_success_timestamp_seconds"), 1.6e9);
  EXPECT_TRUE(contains(text, "# TYPE switchyard_build_info gauge"));
  EXPECT_TRUE(contains(text, "switchyard_build_info{version=\""));

  m.removeEndpoint("greeter", "10.0.0.1:50051");
  m.removeEndpoint("greeter", "10.9.9.9:1");  // unknown: no-op
  text = m.serialize();
  EXPECT_FALSE(contains(text, "10.0.0.1:50051"));
  EXPECT_TRUE(contains(text, "10.0.0.2:50051"));
}

TEST(MetricsTest, SerializeHasHelpAndType) {
  Metrics m;
  WorkerStats& w = m.addWorker();
  w.rpc("a.S", "M", "c")->handled(0, 0.01);
  w.listener("public");
  std::string text = m.serialize();
  EXPECT_TRUE(contains(text, "# TYPE switchyard_grpc_server_handled_total counter\n"));
  EXPECT_TRUE(contains(text, "# TYPE switchyard_grpc_server_handling_seconds histogram\n"));
  EXPECT_TRUE(contains(text, "# TYPE switchyard_listener_connections_active gauge\n"));
  EXPECT_TRUE(contains(text, "# HELP switchyard_local_errors_total "));
  EXPECT_TRUE(contains(text, "# TYPE switchyard_config_reloads_total counter\n"));
}

// Label values from the wire are escaped, so a hostile method name cannot
// inject lines into the exposition.
TEST(MetricsTest, LabelValuesAreEscaped) {
  Metrics m;
  m.addWorker().rpc("a.S", "M\"}\nfake_metric 1", "c")->started();
  std::string text = m.serialize();
  EXPECT_FALSE(contains(text, "\nfake_metric 1"));
  EXPECT_TRUE(contains(text, R"(grpc_method="M\"}\nfake_metric 1")"));
}

// A worker recording while a scrape runs: no crash, and the final scrape sees
// every increment (run under TSan/ASan in CI's sanitizer build).
TEST(MetricsTest, ConcurrentRecordAndScrape) {
  Metrics m;
  WorkerStats& w = m.addWorker();
  constexpr int kN = 20000;
  std::thread worker([&] {
    for (int i = 0; i < kN; ++i) {
      RpcSeries* s = w.rpc("a.S", methodName(i % 50), "c");
      s->started();
      s->handled(0, 0.001);
      w.listener("l")->connectionOpened();
      w.listener("l")->connectionClosed();
    }
  });
  for (int i = 0; i < 20; ++i) {
    std::string text = m.serialize();
    EXPECT_FALSE(contains(text, "connections_active{listener=\"l\"} -"));
  }
  worker.join();
  uint64_t started = 0;
  w.forEachRpc([&](const RpcSeries& s) { started += s.startedCount(); });
  EXPECT_EQ(started, static_cast<uint64_t>(kN));
  EXPECT_EQ(sample(m.serialize(), R"(switchyard_listener_connections_active{listener="l"})"), 0);
}

// Per-endpoint attempt outcomes, latency, retries and budget overflows.
TEST(MetricsTest, EndpointRpcFamilies) {
  Metrics m;
  WorkerStats& w1 = m.addWorker();
  WorkerStats& w2 = m.addWorker();
  w1.endpoint("c", "10.0.0.1:1")->attemptFinished(0, 0.002);
  w2.endpoint("c", "10.0.0.1:1")->attemptFinished(0, 0.2);
  w2.endpoint("c", "10.0.0.1:1")->attemptFinished(14, 0.0001);
  w1.endpoint("c", "10.0.0.1:1")->transparentRetry();
  w2.endpoint("c", "10.0.0.1:1")->policyRetry();
  w2.endpoint("c", "10.0.0.1:1")->policyRetry();
  w1.endpoint("c", "10.0.0.1:1")->retryBudgetExceeded();
  std::string text = m.serialize();
  const std::string ep = R"(cluster="c",endpoint="10.0.0.1:1")";
  EXPECT_EQ(sample(text, "switchyard_upstream_rpcs_total{" + ep + R"(,grpc_code="OK"})"), 2);
  EXPECT_EQ(sample(text, "switchyard_upstream_rpcs_total{" + ep + R"(,grpc_code="Unavailable"})"), 1);
  EXPECT_EQ(sample(text, "switchyard_upstream_rpc_duration_seconds_count{" + ep + "}"), 3);
  EXPECT_EQ(sample(text, "switchyard_upstream_rpc_duration_seconds_bucket{" + ep + R"(,le="0.0025"})"), 2);
  EXPECT_EQ(sample(text, "switchyard_upstream_retries_total{" + ep + R"(,kind="transparent"})"), 1);
  EXPECT_EQ(sample(text, "switchyard_upstream_retries_total{" + ep + R"(,kind="policy"})"), 2);
  EXPECT_EQ(sample(text, "switchyard_upstream_retry_budget_exceeded_total{" + ep + "}"), 1);
}

// One gauge per health state, so healthy, unhealthy and ejected can be told apart.
TEST(MetricsTest, EndpointHealthOneGaugePerState) {
  Metrics m;
  m.setEndpointHealth("c", "10.0.0.1:1", 2);
  std::string text = m.serialize();
  const std::string ep = R"(switchyard_endpoint_health{cluster="c",endpoint="10.0.0.1:1",state=)";
  EXPECT_EQ(sample(text, ep + R"("ejected"})"), 1);
  EXPECT_EQ(sample(text, ep + R"("healthy"})"), 0);
  EXPECT_EQ(sample(text, ep + R"("unhealthy"})"), 0);
  m.setEndpointHealth("c", "10.0.0.1:1", 1);
  text = m.serialize();
  EXPECT_EQ(sample(text, ep + R"("ejected"})"), 0);
  EXPECT_EQ(sample(text, ep + R"("healthy"})"), 1);
  m.removeEndpoint("c", "10.0.0.1:1");
  EXPECT_FALSE(contains(m.serialize(), "10.0.0.1:1"));
}

// The access log's write and drop counts are exported from zero.
TEST(MetricsTest, AccessLogByteCounters) {
  Metrics m;
  std::string text = m.serialize();
  EXPECT_TRUE(contains(text, "# TYPE switchyard_access_log_written_bytes_total counter"));
  EXPECT_GE(sample(text, "switchyard_access_log_dropped_bytes_total"), 0);
}

// process_* as the Prometheus process collector defines them, read from /proc.
TEST(MetricsTest, ProcessMetricsFromProc) {
  Metrics m;
  std::string text = m.serialize();
  EXPECT_TRUE(contains(text, "# TYPE process_cpu_seconds_total counter"));
  EXPECT_GT(sample(text, "process_resident_memory_bytes"), 1e5);
  EXPECT_GT(sample(text, "process_virtual_memory_bytes"), 1e6);
  EXPECT_GE(sample(text, "process_open_fds"), 3);
  EXPECT_GT(sample(text, "process_max_fds"), 0);
  double start = sample(text, "process_start_time_seconds");
  double now = static_cast<double>(time(nullptr));
  EXPECT_GT(start, 1.6e9);
  EXPECT_LE(start, now + 1);
}

TEST(MetricsTest, ProcessStatParsing) {
  // proc(5): a command name with spaces and parentheses does not shift the fields.
  std::string stat =
      "1234 (my (odd) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 150 0 0 20 0 3 0 "
      "5000 104857600 2560 18446744073709551615";
  ProcessSample s = parseProcessStat(stat, 1700000000.0, 100, 4096);
  EXPECT_DOUBLE_EQ(s.cpu_seconds, 4.0);
  EXPECT_DOUBLE_EQ(s.start_time_seconds, 1700000050.0);
  EXPECT_DOUBLE_EQ(s.virtual_bytes, 104857600.0);
  EXPECT_DOUBLE_EQ(s.resident_bytes, 2560.0 * 4096);
  EXPECT_DOUBLE_EQ(parseMaxOpenFiles("Limit  Soft Limit  Hard Limit  Units\n"
                                     "Max open files            1024                 524288               files\n"),
                   1024);
}

std::string findPromtool() {
  for (const char* p : {"/usr/bin/promtool", "/usr/local/bin/promtool"}) {
    if (access(p, X_OK) == 0) return p;
  }
  return "";
}

// The full exposition passes `promtool check metrics` (names, suffixes, units,
// HELP/TYPE). Skipped with a message when promtool is not installed.
TEST(MetricsTest, PromtoolAcceptsExposition) {
  std::string promtool = findPromtool();
  if (promtool.empty()) GTEST_SKIP() << "promtool not installed (apt-get install prometheus)";

  Metrics m;
  WorkerStats& w = m.addWorker();
  m.addWorker();
  RpcSeries* s = w.rpc("pkg.Greeter", "Hello", "greeter");
  s->started();
  s->handled(0, 0.01);
  s->handled(14, 1.5);
  s->messagesReceived(1);
  s->messagesSent(1);
  s->bytesReceived(10);
  s->bytesSent(20);
  w.rpc("unmatched", "unmatched", "")->handled(12, 0.0001);
  w.listener("public")->connectionOpened();
  w.endpoint("greeter", "[::1]:50051")->connectionOpened();
  w.endpoint("greeter", "[::1]:50051")->attemptFinished(0, 0.002);
  w.endpoint("greeter", "[::1]:50051")->policyRetry();
  w.localError(LocalError::NoRoute);
  m.setEndpointHealth("greeter", "[::1]:50051", 1);
  m.healthCheckResult("greeter", "[::1]:50051", true);
  m.ejection("greeter", "[::1]:50051");
  m.configReload(true);

  char path[] = "/tmp/switchyard-metrics-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    std::ofstream f(path);
    f << m.serialize();
  }
  std::string cmd = promtool + " check metrics < " + path + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string output;
  char buf[512];
  while (fgets(buf, sizeof buf, p) != nullptr) output += buf;
  int rc = pclose(p);
  unlink(path);
  EXPECT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0) << "promtool said:\n" << output;
  EXPECT_EQ(output, "") << "promtool warnings:\n" << output;
}

}  // namespace
}  // namespace switchyard::metrics
