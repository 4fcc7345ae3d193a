#include "metrics/worker_stats.h"

#include <algorithm>
#include <functional>

#include "metrics/rate_limit_series.h"

namespace switchyard::metrics {

namespace {

constexpr std::array<const char*, kGrpcCodeCount> kGrpcCodeLabels = {
    "OK",       "Canceled",         "Unknown",           "InvalidArgument", "DeadlineExceeded",
    "NotFound", "AlreadyExists",    "PermissionDenied",  "ResourceExhausted",
    "FailedPrecondition",           "Aborted",           "OutOfRange",      "Unimplemented",
    "Internal", "Unavailable",      "DataLoss",          "Unauthenticated"};

constexpr std::array<const char*, kLocalErrorCount> kLocalErrorLabels = {
    "no_route",      "no_healthy_endpoint",      "deadline_exceeded", "upstream_reset",
    "upstream_connect_failure", "bad_request",   "draining",
    "message_too_large",        "method_not_allowed", "headers_too_large",
    "client_cert_required",     "client_cert_not_allowed", "rate_limited",
    "body_too_large",           "transcode_failed"};

constexpr int kUnknownCode = 2;

size_t hashCombine(size_t seed, size_t h) {
  return seed ^ (h + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2));
}

}  // namespace

const char* localErrorLabel(LocalError cause) {
  auto i = static_cast<size_t>(cause);
  return i < kLocalErrorLabels.size() ? kLocalErrorLabels[i] : "unknown";
}

const char* grpcCodeLabel(int code) {
  if (code < 0 || code >= kGrpcCodeCount) code = kUnknownCode;
  return kGrpcCodeLabels[static_cast<size_t>(code)];
}

RpcSeries::RpcSeries(std::string_view service, std::string_view method, std::string_view cluster,
                     std::string_view protocol)
    : service_(service), method_(method), cluster_(cluster), protocol_(protocol) {}

// Records one observation into a histogram kept as per-bucket counters.
static void observe(std::array<ShardCounter, kHandlingBuckets.size() + 1>& buckets,
             std::atomic<double>& sum, double seconds) {
  // NaN or negative durations (a clock oddity) are recorded as zero.
  if (!(seconds > 0.0)) seconds = 0.0;
  // Prometheus buckets are "less than or equal to" the bound.
  auto it = std::lower_bound(kHandlingBuckets.begin(), kHandlingBuckets.end(), seconds);
  buckets[static_cast<size_t>(it - kHandlingBuckets.begin())].add(1);
  sum.store(sum.load(std::memory_order_relaxed) + seconds, std::memory_order_relaxed);
}

void RpcSeries::handled(int grpc_code, double seconds) {
  if (grpc_code < 0 || grpc_code >= kGrpcCodeCount) grpc_code = kUnknownCode;
  handled_[static_cast<size_t>(grpc_code)].add(1);
  observe(buckets_, seconds_sum_, seconds);
}

void EndpointSeries::attemptFinished(int grpc_code, double seconds) {
  if (grpc_code < 0 || grpc_code >= kGrpcCodeCount) grpc_code = kUnknownCode;
  attempts_[static_cast<size_t>(grpc_code)].add(1);
  observe(attempt_buckets_, attempt_seconds_, seconds);
}

size_t WorkerStats::RpcLabelsHash::operator()(const RpcLabels& k) const {
  std::hash<std::string_view> h;
  return hashCombine(hashCombine(hashCombine(h(k.service), h(k.method)), h(k.cluster)), h(k.protocol));
}

size_t WorkerStats::EndpointKeyHash::operator()(const EndpointKey& k) const {
  std::hash<std::string_view> h;
  return hashCombine(h(k.cluster), h(k.address));
}

WorkerStats::WorkerStats(size_t max_rpc_series, size_t max_endpoint_series)
    : max_rpc_series_(max_rpc_series), max_endpoint_series_(max_endpoint_series) {}

WorkerStats::~WorkerStats() = default;

RpcSeries* WorkerStats::rpc(std::string_view service, std::string_view method,
                            std::string_view cluster, std::string_view protocol) {
  const RpcLabels key{service, method, cluster, protocol};
  // Consecutive RPCs mostly share a method: compare with the last series
  // found before hashing four strings.
  if (last_rpc_ != nullptr && key == last_rpc_->labels()) return last_rpc_;
  if (auto it = rpc_index_.find(key); it != rpc_index_.end()) {
    last_rpc_ = it->second;
    return it->second;
  }
  if (capped_rpc_series_ < max_rpc_series_) {
    ++capped_rpc_series_;
    return addRpc(service, method, cluster, protocol);
  }
  RpcLabels overflow{kOverflowLabel, kOverflowLabel, cluster, protocol};
  if (auto it = rpc_index_.find(overflow); it != rpc_index_.end()) return it->second;
  return addRpc(kOverflowLabel, kOverflowLabel, cluster, protocol);
}

RpcSeries* WorkerStats::addRpc(std::string_view service, std::string_view method,
                               std::string_view cluster, std::string_view protocol) {
  auto series = std::make_unique<RpcSeries>(service, method, cluster, protocol);
  RpcSeries* p = series.get();
  {
    std::lock_guard<std::mutex> g(mu_);
    rpc_series_.push_back(std::move(series));
  }
  rpc_index_.emplace(p->labels(), p);
  return p;
}

ListenerSeries* WorkerStats::listener(std::string_view name) {
  if (auto it = listener_index_.find(name); it != listener_index_.end()) return it->second;
  auto series = std::make_unique<ListenerSeries>(name);
  ListenerSeries* p = series.get();
  {
    std::lock_guard<std::mutex> g(mu_);
    listener_series_.push_back(std::move(series));
  }
  listener_index_.emplace(p->name(), p);
  return p;
}

ClusterSeries* WorkerStats::cluster(std::string_view name) {
  if (auto it = cluster_index_.find(name); it != cluster_index_.end()) return it->second;
  auto series = std::make_unique<ClusterSeries>(name);
  ClusterSeries* p = series.get();
  {
    std::lock_guard<std::mutex> g(mu_);
    cluster_series_.push_back(std::move(series));
  }
  cluster_index_.emplace(p->name(), p);
  return p;
}

AuthSeries* WorkerStats::auth(std::string_view route) {
  if (auto it = auth_index_.find(route); it != auth_index_.end()) return it->second;
  auto series = std::make_unique<AuthSeries>(route);
  AuthSeries* p = series.get();
  {
    std::lock_guard<std::mutex> g(mu_);
    auth_series_.push_back(std::move(series));
  }
  auth_index_.emplace(p->route(), p);
  return p;
}

const char* authFailureLabel(AuthFailure cause) {
  static const char* const kLabels[kAuthFailureCount] = {
      "missing",       "malformed", "bad_algorithm",  "unknown_key",      "bad_signature", "expired",
      "not_yet_valid", "wrong_issuer", "wrong_audience", "forbidden_claims", "bad_api_key"};
  auto i = static_cast<size_t>(cause);
  return i < kAuthFailureCount ? kLabels[i] : "unknown";
}

EndpointSeries* WorkerStats::endpoint(std::string_view cluster, std::string_view address) {
  if (auto it = endpoint_index_.find(EndpointKey{cluster, address}); it != endpoint_index_.end()) {
    return it->second;
  }
  if (capped_endpoint_series_ < max_endpoint_series_) {
    ++capped_endpoint_series_;
    return addEndpoint(cluster, address);
  }
  if (auto it = endpoint_index_.find(EndpointKey{cluster, kOverflowLabel});
      it != endpoint_index_.end()) {
    return it->second;
  }
  return addEndpoint(cluster, kOverflowLabel);
}

EndpointSeries* WorkerStats::addEndpoint(std::string_view cluster, std::string_view address) {
  auto series = std::make_unique<EndpointSeries>(cluster, address);
  EndpointSeries* p = series.get();
  {
    std::lock_guard<std::mutex> g(mu_);
    endpoint_series_.push_back(std::move(series));
  }
  endpoint_index_.emplace(EndpointKey{p->cluster(), p->address()}, p);
  return p;
}

RateLimitSeries* WorkerStats::rateLimit(std::string_view route) {
  if (auto it = rate_limit_index_.find(route); it != rate_limit_index_.end()) return it->second;
  auto series = std::make_unique<RateLimitSeries>(route);
  RateLimitSeries* p = series.get();
  {
    std::lock_guard<std::mutex> g(mu_);
    rate_limit_series_.push_back(std::move(series));
  }
  rate_limit_index_.emplace(p->route(), p);
  return p;
}

}  // namespace switchyard::metrics
