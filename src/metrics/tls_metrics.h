// TLS metrics: handshakes by listener and result, the protocol version and
// cipher of accepted connections, resumed sessions, upstream handshake failures per endpoint,
// and the expiry time of every loaded certificate.
//
// Handshake counters are recorded per connection by worker threads, each into
// its own shard (found through a thread_local pointer; the registration mutex
// is taken only when a thread or a label set is first seen), and summed at
// scrape time. Certificate expiry is set by the main thread on (re)load.
// Process-wide, like the OpenSSL contexts it describes.
#pragma once

#include <prometheus/metric_family.h>

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "metrics/worker_stats.h"

namespace switchyard::metrics {

class TlsMetrics {
 public:
  static TlsMetrics& instance();

  // Worker threads.
  void handshake(std::string_view listener, std::string_view result);
  void accepted(std::string_view listener, std::string_view version, std::string_view cipher);
  // An accepted connection that resumed a session (ticket or cache).
  void resumed(std::string_view listener);
  void upstreamHandshakeFailure(std::string_view cluster, std::string_view endpoint);

  // Main thread: replaces the set of loaded certificates.
  struct Certificate {
    std::string owner;    // "listener public", "cluster billing"
    std::string path;
    std::string subject;
    int64_t not_after = 0;  // Unix seconds
  };
  void setCertificates(std::vector<Certificate> certs);

  // Any thread.
  std::vector<prometheus::MetricFamily> collect() const;
  // Sum over shards of one handshake series (tests).
  uint64_t handshakeCount(std::string_view listener, std::string_view result) const;

 private:
  enum Family { kHandshake, kAccepted, kUpstreamFailure, kResumed, kFamilyCount };
  struct Series {
    Family family;
    std::array<std::string, 3> labels;
    ShardCounter count;
  };
  struct Shard {
    std::unordered_map<std::string, Series*> index;  // owner thread only
    std::vector<std::unique_ptr<Series>> series;      // appended under TlsMetrics::mu_
  };
  static constexpr size_t kMaxSeriesPerShard = 4096;

  void add(Family f, std::string_view a, std::string_view b, std::string_view c);
  Shard& shard();

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<Certificate> certificates_;
};

}  // namespace switchyard::metrics
