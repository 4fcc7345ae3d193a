// TLS metrics: per-thread shards summed at scrape time, and certificate expiry.
#include <gtest/gtest.h>

#include <thread>

#include "metrics/tls_metrics.h"

namespace switchyard::metrics {
namespace {

const prometheus::MetricFamily* Find(const std::vector<prometheus::MetricFamily>& all, const std::string& name) {
  for (const auto& f : all) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

double Value(const prometheus::MetricFamily& f, const std::map<std::string, std::string>& want) {
  double sum = 0;
  for (const auto& m : f.metric) {
    size_t hits = 0;
    for (const auto& l : m.label) {
      auto it = want.find(l.name);
      if (it != want.end() && it->second == l.value) ++hits;
    }
    if (hits == want.size()) sum += f.type == prometheus::MetricType::Gauge ? m.gauge.value : m.counter.value;
  }
  return sum;
}

TEST(TlsMetrics, HandshakesFromSeveralThreadsAreSummed) {
  auto& m = TlsMetrics::instance();
  uint64_t before = m.handshakeCount("unit-listener", "timeout");
  std::thread a([&] {
    for (int i = 0; i < 100; ++i) m.handshake("unit-listener", "timeout");
  });
  std::thread b([&] {
    for (int i = 0; i < 50; ++i) m.handshake("unit-listener", "timeout");
    m.accepted("unit-listener", "TLSv1.3", "TLS_AES_128_GCM_SHA256");
    m.upstreamHandshakeFailure("unit-cluster", "10.0.0.1:443");
  });
  a.join();
  b.join();
  EXPECT_EQ(m.handshakeCount("unit-listener", "timeout") - before, 150u);
  auto all = m.collect();
  const auto* hs = Find(all, "switchyard_tls_handshakes_total");
  ASSERT_NE(hs, nullptr);
  EXPECT_GE(Value(*hs, {{"listener", "unit-listener"}, {"result", "timeout"}}), 150);
  const auto* conns = Find(all, "switchyard_tls_connections_total");
  ASSERT_NE(conns, nullptr);
  EXPECT_GE(Value(*conns, {{"listener", "unit-listener"}, {"version", "TLSv1.3"}}), 1);
  const auto* up = Find(all, "switchyard_upstream_tls_handshake_failures_total");
  ASSERT_NE(up, nullptr);
  EXPECT_GE(Value(*up, {{"cluster", "unit-cluster"}, {"endpoint", "10.0.0.1:443"}}), 1);
}

TEST(TlsMetrics, CertificateExpiryIsReplacedOnEachLoad) {
  auto& m = TlsMetrics::instance();
  m.setCertificates({{"listener a", "/a.crt", "CN=a", 1000}, {"listener a", "/b.crt", "CN=b", 2000}});
  auto all = m.collect();
  const auto* expiry = Find(all, "switchyard_tls_cert_expiry_timestamp_seconds");
  ASSERT_NE(expiry, nullptr);
  EXPECT_EQ(expiry->metric.size(), 2u);
  EXPECT_EQ(Value(*expiry, {{"path", "/b.crt"}}), 2000);
  m.setCertificates({{"cluster c", "/c.crt", "CN=c", 3000}});
  all = m.collect();
  expiry = Find(all, "switchyard_tls_cert_expiry_timestamp_seconds");
  ASSERT_EQ(expiry->metric.size(), 1u);
  EXPECT_EQ(Value(*expiry, {{"owner", "cluster c"}}), 3000);
  m.setCertificates({});
}

}  // namespace
}  // namespace switchyard::metrics
