#include "metrics/tls_metrics.h"

#include <map>
#include <tuple>

namespace switchyard::metrics {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

using Key = std::array<std::string, 3>;

struct FamilyInfo {
  const char* name;
  const char* help;
  std::array<const char*, 3> labels;  // nullptr: unused
};

constexpr std::array<FamilyInfo, 4> kFamilies = {{
    {"switchyard_tls_handshakes_total",
     "Downstream TLS handshakes by listener and result (ok, timeout, no_client_cert, "
     "bad_client_cert, no_shared_cipher, protocol_version, no_alpn, closed, error).",
     {"listener", "result", nullptr}},
    {"switchyard_tls_connections_total",
     "Downstream TLS connections accepted, by listener, protocol version and cipher.",
     {"listener", "version", "cipher"}},
    {"switchyard_upstream_tls_handshake_failures_total",
     "TLS handshakes with backends that failed, by cluster and endpoint.",
     {"cluster", "endpoint", nullptr}},
    {"switchyard_tls_resumed_total",
     "Downstream TLS connections that resumed a session (session ticket or cache) instead of a "
     "full handshake, by listener.",
     {"listener", nullptr, nullptr}},
}};

}  // namespace

TlsMetrics& TlsMetrics::instance() {
  static TlsMetrics* metrics = new TlsMetrics();  // never destroyed: workers may outlive main
  return *metrics;
}

TlsMetrics::Shard& TlsMetrics::shard() {
  thread_local Shard* mine = nullptr;
  if (mine == nullptr) {
    std::lock_guard<std::mutex> g(mu_);
    shards_.push_back(std::make_unique<Shard>());
    mine = shards_.back().get();
  }
  return *mine;
}

void TlsMetrics::add(Family f, std::string_view a, std::string_view b, std::string_view c) {
  Shard& s = shard();
  std::string key;
  key.reserve(a.size() + b.size() + c.size() + 4);
  key.append(1, static_cast<char>('0' + f)).append(a).append(1, '\0').append(b).append(1, '\0').append(c);
  auto it = s.index.find(key);
  if (it == s.index.end()) {
    auto series = std::make_unique<Series>();
    series->family = f;
    if (s.index.size() >= kMaxSeriesPerShard) {
      series->labels = {std::string(a), std::string(kOverflowLabel), std::string(kOverflowLabel)};
    } else {
      series->labels = {std::string(a), std::string(b), std::string(c)};
    }
    Series* raw = series.get();
    {
      std::lock_guard<std::mutex> g(mu_);
      s.series.push_back(std::move(series));
    }
    it = s.index.emplace(std::move(key), raw).first;
  }
  it->second->count.add(1);
}

void TlsMetrics::handshake(std::string_view listener, std::string_view result) {
  add(kHandshake, listener, result, "");
}

void TlsMetrics::accepted(std::string_view listener, std::string_view version,
                          std::string_view cipher) {
  add(kAccepted, listener, version, cipher);
}

void TlsMetrics::resumed(std::string_view listener) { add(kResumed, listener, "", ""); }

void TlsMetrics::upstreamHandshakeFailure(std::string_view cluster, std::string_view endpoint) {
  add(kUpstreamFailure, cluster, endpoint, "");
}

void TlsMetrics::setCertificates(std::vector<Certificate> certs) {
  std::lock_guard<std::mutex> g(mu_);
  certificates_ = std::move(certs);
}

uint64_t TlsMetrics::handshakeCount(std::string_view listener, std::string_view result) const {
  std::lock_guard<std::mutex> g(mu_);
  uint64_t sum = 0;
  for (const auto& s : shards_) {
    for (const auto& series : s->series) {
      if (series->family == kHandshake && series->labels[0] == listener &&
          series->labels[1] == result) {
        sum += series->count.value();
      }
    }
  }
  return sum;
}

std::vector<MetricFamily> TlsMetrics::collect() const {
  std::array<std::map<Key, uint64_t>, kFamilyCount> sums;
  std::vector<Certificate> certs;
  {
    std::lock_guard<std::mutex> g(mu_);
    for (const auto& s : shards_) {
      for (const auto& series : s->series) sums[series->family][series->labels] += series->count.value();
    }
    certs = certificates_;
  }
  std::vector<MetricFamily> out;
  for (size_t f = 0; f < kFamilyCount; ++f) {
    MetricFamily fam;
    fam.name = kFamilies[f].name;
    fam.help = kFamilies[f].help;
    fam.type = MetricType::Counter;
    for (const auto& [labels, value] : sums[f]) {
      ClientMetric m;
      for (size_t i = 0; i < 3; ++i) {
        if (kFamilies[f].labels[i] != nullptr) m.label.push_back({kFamilies[f].labels[i], labels[i]});
      }
      m.counter.value = static_cast<double>(value);
      fam.metric.push_back(std::move(m));
    }
    out.push_back(std::move(fam));
  }
  MetricFamily expiry;
  expiry.name = "switchyard_tls_cert_expiry_timestamp_seconds";
  expiry.help = "Expiry time (notAfter, Unix seconds) of every loaded certificate.";
  expiry.type = MetricType::Gauge;
  for (const auto& c : certs) {
    ClientMetric m;
    m.label = {{"owner", c.owner}, {"path", c.path}, {"subject", c.subject}};
    m.gauge.value = static_cast<double>(c.not_after);
    expiry.metric.push_back(std::move(m));
  }
  out.push_back(std::move(expiry));
  return out;
}

}  // namespace switchyard::metrics
