#include "metrics/shard_collector.h"

#include <limits>
#include <map>
#include <string>
#include <tuple>
#include <utility>

#include "metrics/rate_limit_series.h"

namespace switchyard::metrics {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

struct RpcSum {
  uint64_t started = 0;
  std::array<uint64_t, kGrpcCodeCount> handled{};
  std::array<uint64_t, kHandlingBuckets.size() + 1> buckets{};
  double seconds = 0.0;
  uint64_t msg_received = 0;
  uint64_t msg_sent = 0;
  uint64_t bytes_received = 0;
  uint64_t bytes_sent = 0;
};

struct ListenerSum {
  uint64_t opened = 0;
  uint64_t closed = 0;
  uint64_t tls_failures = 0;
  uint64_t protocol_errors = 0;
  uint64_t aged = 0;
  std::array<uint64_t, kGlitchCount> glitches{};
  std::array<uint64_t, kListenerLimitCount> limits{};
};

struct EndpointSum {
  uint64_t opened = 0;
  uint64_t closed = 0;
  uint64_t connect_failures = 0;
  uint64_t streams_started = 0;
  uint64_t streams_ended = 0;
  std::array<uint64_t, kUpstreamLimitCount> limits{};
  std::array<uint64_t, kGrpcCodeCount> attempts{};
  std::array<uint64_t, kHandlingBuckets.size() + 1> buckets{};
  double seconds = 0.0;
  uint64_t transparent_retries = 0;
  uint64_t policy_retries = 0;
  uint64_t retry_overflow = 0;
};

using OverflowSum = std::array<uint64_t, kOverflowCount>;

using RpcKey = std::tuple<std::string, std::string, std::string, std::string>;
using EndpointKey = std::pair<std::string, std::string>;

MetricFamily family(const char* name, const char* help, MetricType type) {
  MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  return f;
}

std::vector<ClientMetric::Label> rpcLabels(const RpcKey& k) {
  std::vector<ClientMetric::Label> labels{{"grpc_service", std::get<0>(k)},
                                          {"grpc_method", std::get<1>(k)},
                                          {"cluster", std::get<2>(k)}};
  // Native gRPC keeps the label set it always had.
  if (std::get<3>(k) != kNativeProtocol) labels.push_back({"protocol", std::get<3>(k)});
  return labels;
}

ClientMetric counter(std::vector<ClientMetric::Label> labels, uint64_t v) {
  ClientMetric m;
  m.label = std::move(labels);
  m.counter.value = static_cast<double>(v);
  return m;
}

ClientMetric gauge(std::vector<ClientMetric::Label> labels, double v) {
  ClientMetric m;
  m.label = std::move(labels);
  m.gauge.value = v;
  return m;
}

// Opened minus closed. Each shard reads "closed" before "opened" (see
// ShardCounter), so the difference is never negative; clamp anyway.
double active(uint64_t opened, uint64_t closed) {
  return opened > closed ? static_cast<double>(opened - closed) : 0.0;
}

ClientMetric histogram(std::vector<ClientMetric::Label> labels,
                       const std::array<uint64_t, kHandlingBuckets.size() + 1>& buckets,
                       double sum) {
  ClientMetric h;
  h.label = std::move(labels);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < buckets.size(); ++i) {
    cumulative += buckets[i];
    double bound = i < kHandlingBuckets.size() ? kHandlingBuckets[i]
                                                : std::numeric_limits<double>::infinity();
    h.histogram.bucket.push_back({cumulative, bound});
  }
  h.histogram.sample_count = cumulative;
  h.histogram.sample_sum = sum;
  return h;
}

void addRpcFamilies(const std::map<RpcKey, RpcSum>& rpcs, std::vector<MetricFamily>& out) {
  auto started = family("switchyard_grpc_server_started_total",
                        "RPCs started downstream (request headers received and routed).",
                        MetricType::Counter);
  auto handled = family("switchyard_grpc_server_handled_total",
                        "RPCs completed, by the grpc-status sent to the client.",
                        MetricType::Counter);
  auto seconds = family("switchyard_grpc_server_handling_seconds",
                        "Time from request headers to the end of the response, in seconds.",
                        MetricType::Histogram);
  auto msg_received = family("switchyard_grpc_server_msg_received_total",
                             "gRPC messages received from clients.", MetricType::Counter);
  auto msg_sent = family("switchyard_grpc_server_msg_sent_total",
                         "gRPC messages sent to clients.", MetricType::Counter);
  auto req_bytes = family("switchyard_grpc_server_request_bytes_total",
                          "Request body bytes (length-prefixed gRPC messages) received from clients.",
                          MetricType::Counter);
  auto resp_bytes = family("switchyard_grpc_server_response_bytes_total",
                           "Response body bytes (length-prefixed gRPC messages) sent to clients.",
                           MetricType::Counter);

  for (const auto& [key, sum] : rpcs) {
    auto labels = rpcLabels(key);
    started.metric.push_back(counter(labels, sum.started));
    for (int code = 0; code < kGrpcCodeCount; ++code) {
      // Like go-grpc-prometheus, a code's series appears once that code is seen.
      uint64_t n = sum.handled[static_cast<size_t>(code)];
      if (n == 0) continue;
      auto with_code = labels;
      with_code.push_back({"grpc_code", grpcCodeLabel(code)});
      handled.metric.push_back(counter(std::move(with_code), n));
    }
    seconds.metric.push_back(histogram(labels, sum.buckets, sum.seconds));
    msg_received.metric.push_back(counter(labels, sum.msg_received));
    msg_sent.metric.push_back(counter(labels, sum.msg_sent));
    req_bytes.metric.push_back(counter(labels, sum.bytes_received));
    resp_bytes.metric.push_back(counter(std::move(labels), sum.bytes_sent));
  }
  for (auto* f : {&started, &handled, &seconds, &msg_received, &msg_sent, &req_bytes, &resp_bytes}) {
    out.push_back(std::move(*f));
  }
}

// Glitches and limit hits, one series per listener and cause.
void addListenerEdgeFamilies(const std::map<std::string, ListenerSum>& listeners,
                             std::vector<MetricFamily>& out) {
  auto glitches = family("switchyard_listener_http2_glitches_total",
                         "Protocol oddities clients caused, charged against their connection's "
                         "glitch budget, by cause.",
                         MetricType::Counter);
  auto limits = family("switchyard_listener_limits_hit_total",
                       "Streams or connections a listener limit ended or refused, by limit.",
                       MetricType::Counter);
  for (const auto& [name, sum] : listeners) {
    for (size_t i = 0; i < kGlitchCount; ++i) {
      glitches.metric.push_back(counter(
          {{"listener", name}, {"cause", glitchLabel(static_cast<Glitch>(i))}}, sum.glitches[i]));
    }
    for (size_t i = 0; i < kListenerLimitCount; ++i) {
      limits.metric.push_back(counter(
          {{"listener", name}, {"limit", listenerLimitLabel(static_cast<ListenerLimit>(i))}},
          sum.limits[i]));
    }
  }
  auto aged = family("switchyard_listener_connections_aged_total",
                     "Client connections that reached max_connection_age and were sent GOAWAY.",
                     MetricType::Counter);
  for (const auto& [name, sum] : listeners) aged.metric.push_back(counter({{"listener", name}}, sum.aged));
  out.push_back(std::move(glitches));
  out.push_back(std::move(limits));
  out.push_back(std::move(aged));
}

// Circuit-breaker overflows, one series per cluster and limit.
void addClusterFamilies(const std::map<std::string, OverflowSum>& clusters,
                        std::vector<MetricFamily>& out) {
  auto overflow = family("switchyard_upstream_overflow_total",
                         "RPCs a cluster's circuit breaker refused at once (UNAVAILABLE), by limit.",
                         MetricType::Counter);
  for (const auto& [name, sum] : clusters) {
    for (size_t i = 0; i < kOverflowCount; ++i) {
      overflow.metric.push_back(counter(
          {{"cluster", name}, {"limit", overflowLabel(static_cast<Overflow>(i))}}, sum[i]));
    }
  }
  out.push_back(std::move(overflow));
}

void addListenerFamilies(const std::map<std::string, ListenerSum>& listeners,
                         std::vector<MetricFamily>& out) {
  auto total = family("switchyard_listener_connections_total",
                      "Downstream connections accepted.", MetricType::Counter);
  auto act = family("switchyard_listener_connections_active",
                    "Downstream connections currently open.", MetricType::Gauge);
  auto tls = family("switchyard_listener_tls_handshake_failures_total",
                    "Downstream TLS handshakes that failed.", MetricType::Counter);
  auto proto = family("switchyard_listener_http2_protocol_errors_total",
                      "Downstream HTTP/2 protocol violations (connection or stream errors).",
                      MetricType::Counter);
  for (const auto& [name, sum] : listeners) {
    std::vector<ClientMetric::Label> labels{{"listener", name}};
    total.metric.push_back(counter(labels, sum.opened));
    act.metric.push_back(gauge(labels, active(sum.opened, sum.closed)));
    tls.metric.push_back(counter(labels, sum.tls_failures));
    proto.metric.push_back(counter(std::move(labels), sum.protocol_errors));
  }
  for (auto* f : {&total, &act, &tls, &proto}) out.push_back(std::move(*f));
  addListenerEdgeFamilies(listeners, out);
}

void addEndpointFamilies(const std::map<EndpointKey, EndpointSum>& endpoints,
                         std::vector<MetricFamily>& out) {
  auto total = family("switchyard_upstream_connections_total",
                      "Connections established to backend endpoints.", MetricType::Counter);
  auto act = family("switchyard_upstream_connections_active",
                    "Connections to backend endpoints currently open.", MetricType::Gauge);
  auto failures = family("switchyard_upstream_connect_failures_total",
                         "Attempts to connect to a backend endpoint that failed or timed out.",
                         MetricType::Counter);
  auto streams = family("switchyard_upstream_streams_total",
                        "Streams (RPC attempts) opened on backend connections.",
                        MetricType::Counter);
  auto streams_act = family("switchyard_upstream_streams_active",
                            "Streams currently open on backend connections.", MetricType::Gauge);
  auto rpcs = family("switchyard_upstream_rpcs_total",
                     "RPC attempts on the endpoint that ended, by the grpc-status they ended with.",
                     MetricType::Counter);
  auto latency = family("switchyard_upstream_rpc_duration_seconds",
                        "Time from an attempt's request headers to its end, in seconds.",
                        MetricType::Histogram);
  auto retries = family("switchyard_upstream_retries_total",
                        "RPC attempts on the endpoint that were retried, by kind.",
                        MetricType::Counter);
  auto overflow = family("switchyard_upstream_retry_budget_exceeded_total",
                         "Retries the retry budget refused after an attempt on the endpoint.",
                         MetricType::Counter);
  for (const auto& [key, sum] : endpoints) {
    std::vector<ClientMetric::Label> labels{{"cluster", key.first}, {"endpoint", key.second}};
    for (int code = 0; code < kGrpcCodeCount; ++code) {
      uint64_t n = sum.attempts[static_cast<size_t>(code)];
      if (n == 0) continue;
      auto with_code = labels;
      with_code.push_back({"grpc_code", grpcCodeLabel(code)});
      rpcs.metric.push_back(counter(std::move(with_code), n));
    }
    latency.metric.push_back(histogram(labels, sum.buckets, sum.seconds));
    auto transparent = labels;
    transparent.push_back({"kind", "transparent"});
    retries.metric.push_back(counter(std::move(transparent), sum.transparent_retries));
    auto policy = labels;
    policy.push_back({"kind", "policy"});
    retries.metric.push_back(counter(std::move(policy), sum.policy_retries));
    overflow.metric.push_back(counter(labels, sum.retry_overflow));
    total.metric.push_back(counter(labels, sum.opened));
    act.metric.push_back(gauge(labels, active(sum.opened, sum.closed)));
    failures.metric.push_back(counter(labels, sum.connect_failures));
    streams.metric.push_back(counter(labels, sum.streams_started));
    streams_act.metric.push_back(
        gauge(std::move(labels), active(sum.streams_started, sum.streams_ended)));
  }
  for (auto* f : {&total, &act, &failures, &streams, &streams_act, &rpcs, &latency, &retries,
                  &overflow}) {
    out.push_back(std::move(*f));
  }
  auto limits = family("switchyard_upstream_limits_hit_total",
                       "RPCs a limit toward a backend endpoint refused or ended, by limit.",
                       MetricType::Counter);
  for (const auto& [key, sum] : endpoints) {
    for (size_t i = 0; i < kUpstreamLimitCount; ++i) {
      limits.metric.push_back(counter({{"cluster", key.first},
                                       {"endpoint", key.second},
                                       {"limit", upstreamLimitLabel(static_cast<UpstreamLimit>(i))}},
                                      sum.limits[i]));
    }
  }
  out.push_back(std::move(limits));
}

}  // namespace

ShardCollector::ShardCollector(size_t max_rpc_series_per_worker,
                               size_t max_endpoint_series_per_worker)
    : max_rpc_series_(max_rpc_series_per_worker),
      max_endpoint_series_(max_endpoint_series_per_worker) {}

ShardCollector::~ShardCollector() = default;

WorkerStats& ShardCollector::addShard() {
  auto shard = std::make_unique<WorkerStats>(max_rpc_series_, max_endpoint_series_);
  std::lock_guard<std::mutex> g(mu_);
  shards_.push_back(std::move(shard));
  return *shards_.back();
}

std::vector<MetricFamily> ShardCollector::Collect() const {
  std::map<RpcKey, RpcSum> rpcs;
  std::map<std::string, ListenerSum> listeners;
  std::map<EndpointKey, EndpointSum> endpoints;
  std::map<std::string, OverflowSum> clusters;
  std::array<uint64_t, kLocalErrorCount> local_errors{};
  struct AuthSum {
    uint64_t allowed = 0;
    std::array<uint64_t, kAuthFailureCount> failures{};
  };
  std::map<std::string, AuthSum> auth;
  std::map<std::string, RateLimitSum> rate_limits;
  // Per worker (shard i is worker i): how evenly connections and RPCs spread.
  auto worker_conns = family("switchyard_worker_connections",
                             "Client connections open now on each worker thread.", MetricType::Gauge);
  auto worker_rpcs = family("switchyard_worker_rpcs_total",
                            "RPCs started on each worker thread.", MetricType::Counter);

  std::lock_guard<std::mutex> g(mu_);
  for (size_t index = 0; index < shards_.size(); ++index) {
    const auto& shard = shards_[index];
    uint64_t shard_rpcs = 0, shard_opened = 0, shard_closed = 0;
    shard->forEachRpc([&](const RpcSeries& s) {
      shard_rpcs += s.startedCount();
      RpcSum& sum = rpcs[RpcKey{s.service(), s.method(), s.cluster(), s.protocol()}];
      sum.started += s.startedCount();
      for (int c = 0; c < kGrpcCodeCount; ++c) {
        sum.handled[static_cast<size_t>(c)] += s.handledCount(c);
      }
      for (size_t i = 0; i < sum.buckets.size(); ++i) sum.buckets[i] += s.bucketCount(i);
      sum.seconds += s.handlingSecondsSum();
      sum.msg_received += s.messagesReceivedCount();
      sum.msg_sent += s.messagesSentCount();
      sum.bytes_received += s.bytesReceivedCount();
      sum.bytes_sent += s.bytesSentCount();
    });
    shard->forEachListener([&](const ListenerSeries& s) {
      ListenerSum& sum = listeners[s.name()];
      uint64_t closed = s.closedCount();  // closed before opened: see active()
      uint64_t opened = s.openedCount();
      sum.closed += closed;
      sum.opened += opened;
      shard_closed += closed;
      shard_opened += opened;
      sum.tls_failures += s.tlsHandshakeFailures();
      sum.protocol_errors += s.protocolErrors();
      sum.aged += s.agedCount();
      for (size_t i = 0; i < kGlitchCount; ++i) sum.glitches[i] += s.glitchCount(static_cast<Glitch>(i));
      for (size_t i = 0; i < kListenerLimitCount; ++i) {
        sum.limits[i] += s.limitCount(static_cast<ListenerLimit>(i));
      }
    });
    shard->forEachCluster([&](const ClusterSeries& s) {
      OverflowSum& sum = clusters[s.name()];
      for (size_t i = 0; i < kOverflowCount; ++i) sum[i] += s.overflowCount(static_cast<Overflow>(i));
    });
    shard->forEachEndpoint([&](const EndpointSeries& s) {
      EndpointSum& sum = endpoints[EndpointKey{s.cluster(), s.address()}];
      sum.closed += s.closedCount();
      sum.opened += s.openedCount();
      sum.connect_failures += s.connectFailures();
      sum.streams_ended += s.streamsEnded();
      sum.streams_started += s.streamsStarted();
      for (size_t i = 0; i < kUpstreamLimitCount; ++i) {
        sum.limits[i] += s.limitCount(static_cast<UpstreamLimit>(i));
      }
      for (int c = 0; c < kGrpcCodeCount; ++c) {
        sum.attempts[static_cast<size_t>(c)] += s.attemptCount(c);
      }
      for (size_t i = 0; i < sum.buckets.size(); ++i) sum.buckets[i] += s.attemptBucketCount(i);
      sum.seconds += s.attemptSecondsSum();
      sum.transparent_retries += s.transparentRetries();
      sum.policy_retries += s.policyRetries();
      sum.retry_overflow += s.retryBudgetOverflows();
    });
    shard->forEachRateLimit([&](const RateLimitSeries& s) {
      RateLimitSum& sum = rate_limits[s.route()];
      sum.limited += s.limitedCount();
      sum.evicted += s.evictedCount();
    });
    for (size_t i = 0; i < kLocalErrorCount; ++i) {
      local_errors[i] += shard->localErrorCount(static_cast<LocalError>(i));
    }
    shard->forEachAuth([&](const AuthSeries& s) {
      AuthSum& sum = auth[s.route()];
      sum.allowed += s.allowedCount();
      for (size_t i = 0; i < kAuthFailureCount; ++i) sum.failures[i] += s.failureCount(static_cast<AuthFailure>(i));
    });
    std::vector<ClientMetric::Label> labels{{"worker", std::to_string(index)}};
    worker_conns.metric.push_back(gauge(labels, active(shard_opened, shard_closed)));
    worker_rpcs.metric.push_back(counter(std::move(labels), shard_rpcs));
  }

  std::vector<MetricFamily> out;
  out.push_back(std::move(worker_conns));
  out.push_back(std::move(worker_rpcs));
  addRpcFamilies(rpcs, out);
  addListenerFamilies(listeners, out);
  addEndpointFamilies(endpoints, out);
  addClusterFamilies(clusters, out);
  auto errors = family("switchyard_local_errors_total",
                       "RPCs the proxy answered itself instead of forwarding, by cause.",
                       MetricType::Counter);
  for (size_t i = 0; i < kLocalErrorCount; ++i) {
    errors.metric.push_back(
        counter({{"cause", localErrorLabel(static_cast<LocalError>(i))}}, local_errors[i]));
  }
  out.push_back(std::move(errors));
  auto allowed = family("switchyard_auth_allowed_total",
                        "RPCs whose credentials the route's auth step accepted, by route.", MetricType::Counter);
  auto refused = family("switchyard_auth_failures_total",
                        "RPCs refused by the route's auth step (UNAUTHENTICATED or PERMISSION_DENIED), by "
                        "route and cause.",
                        MetricType::Counter);
  for (const auto& [route, sum] : auth) {
    allowed.metric.push_back(counter({{"route", route}}, sum.allowed));
    for (size_t i = 0; i < kAuthFailureCount; ++i) {
      if (sum.failures[i] == 0) continue;  // only causes seen, to keep the series count small
      refused.metric.push_back(
          counter({{"route", route}, {"cause", authFailureLabel(static_cast<AuthFailure>(i))}}, sum.failures[i]));
    }
  }
  out.push_back(std::move(allowed));
  out.push_back(std::move(refused));
  addRateLimitFamilies(rate_limits, out);
  // Like prometheus::Registry, leave out families that have no series yet.
  std::erase_if(out, [](const MetricFamily& f) { return f.metric.empty(); });
  return out;
}

}  // namespace switchyard::metrics
