// Per-worker metric shards: the recording side of the per-RPC metrics.
//
// Each worker thread owns one WorkerStats. Every series in it is written only by
// that thread, so a counter update is a relaxed load plus a release store of a
// std::atomic<uint64_t> (no lock, no read-modify-write, no allocation). Scrapes
// (the admin thread) read the same atomics and sum all shards at exposition
// time (see shard_collector.h), so /metrics never blocks the data path.
//
// Series are looked up by label set once and then kept as stable pointers: a
// series is never freed or moved while its WorkerStats lives. The first lookup
// of a new label set allocates and takes the shard's registration mutex, which
// only scrapes share. Later lookups of the same set touch only a map owned by
// the worker thread: no lock, no allocation.
//
// Threading contract: every non-const member function of WorkerStats and of the
// series it hands out must be called from the shard's owning worker thread. The
// const read accessors may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "metrics/auth_series.h"
#include "metrics/edge_limits.h"

namespace switchyard::metrics {

class RateLimitSeries;  // metrics/rate_limit_series.h

// Why the proxy answered an RPC itself instead of forwarding the backend's answer.
enum class LocalError {
  NoRoute,                 // no route matched the :path (grpc-status 12)
  NoHealthyEndpoint,       // the cluster had no usable endpoint (14)
  DeadlineExceeded,        // the proxy's deadline timer fired (4)
  UpstreamReset,           // backend reset the stream before a response (14)
  UpstreamConnectFailure,  // no connection could be opened to the backend (14)
  BadRequest,              // malformed request: content-type, grpc-timeout, headers
  Draining,                // refused because the proxy is shutting down (14)
  MessageTooLarge,         // a message over the route's size limit (8)
  MethodNotAllowed,        // :method other than POST (HTTP 405)
  HeadersTooLarge,         // request headers above the listener's limit (8)
  ClientCertRequired,      // route requires a verified client certificate, none (16)
  ClientCertNotAllowed,    // the client certificate matches none of allowed_sans (7)
  RateLimited,             // over the route's rate_limit (8)
  BodyTooLarge,            // a JSON body over json_transcoding's limits (HTTP 413 / 500)
  TranscodeFailed,         // a JSON request that does not convert to the method's message (HTTP 400)
};
inline constexpr size_t kLocalErrorCount = 15;

// Label value for a cause: "no_route", "no_healthy_endpoint", ...
const char* localErrorLabel(LocalError cause);

// gRPC status codes 0..16.
inline constexpr int kGrpcCodeCount = 17;
// Label value for a code, as go-grpc-prometheus writes it (Go's codes.Code
// names): "OK", "Canceled", ..., "Unauthenticated". Out-of-range gives "Unknown".
const char* grpcCodeLabel(int code);

// Upper bounds (seconds) of the handling-time histogram: 100 µs to 60 s, so both
// sub-millisecond unary calls and long streams fall in a finite bucket.
inline constexpr std::array<double, 18> kHandlingBuckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1,    0.25,    0.5,    1.0,   2.5,    5.0,   10.0, 30.0,  60.0};

// A counter with exactly one writer thread. add() is a relaxed load and a
// release store; value() is an acquire load. Release/acquire (free on x86) lets a
// scrape that reads a "closed" counter before its "opened" twin never see more
// closes than opens.
class ShardCounter {
 public:
  void add(uint64_t n) {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_release);
  }
  uint64_t value() const { return v_.load(std::memory_order_acquire); }

 private:
  std::atomic<uint64_t> v_{0};
};

// The protocol of native gRPC calls; their series carry no `protocol` label,
// so they stay what they were before other protocols were counted.
inline constexpr std::string_view kNativeProtocol = "grpc";

// Label values of an RPC series; also the key of the worker's lookup map.
struct RpcLabels {
  std::string_view service;
  std::string_view method;
  std::string_view cluster;
  std::string_view protocol;  // "grpc", "grpc-web", ...
  bool operator==(const RpcLabels&) const = default;
};

// One (grpc_service, grpc_method, cluster) label set in one worker.
class alignas(64) RpcSeries {
 public:
  RpcSeries(std::string_view service, std::string_view method, std::string_view cluster,
            std::string_view protocol = kNativeProtocol);
  RpcSeries(const RpcSeries&) = delete;
  RpcSeries& operator=(const RpcSeries&) = delete;

  // Recording (owning worker thread only).
  void started() { started_.add(1); }
  // The RPC finished with grpc_code (0..16; anything else counts as Unknown)
  // after `seconds` from request headers to the last frame sent downstream.
  void handled(int grpc_code, double seconds);
  void messagesReceived(uint64_t n) { msg_received_.add(n); }
  void messagesSent(uint64_t n) { msg_sent_.add(n); }
  void bytesReceived(uint64_t n) { bytes_received_.add(n); }
  void bytesSent(uint64_t n) { bytes_sent_.add(n); }

  // Reading (any thread).
  const std::string& service() const { return service_; }
  const std::string& method() const { return method_; }
  const std::string& cluster() const { return cluster_; }
  // How the client spoke; exported as the `protocol` label except for native gRPC.
  const std::string& protocol() const { return protocol_; }
  RpcLabels labels() const { return {service_, method_, cluster_, protocol_}; }
  uint64_t startedCount() const { return started_.value(); }
  uint64_t handledCount(int grpc_code) const { return handled_[grpc_code].value(); }
  // Observations in bucket i alone (not cumulative); i == kHandlingBuckets.size() is +Inf.
  uint64_t bucketCount(size_t i) const { return buckets_[i].value(); }
  double handlingSecondsSum() const { return seconds_sum_.load(std::memory_order_relaxed); }
  uint64_t messagesReceivedCount() const { return msg_received_.value(); }
  uint64_t messagesSentCount() const { return msg_sent_.value(); }
  uint64_t bytesReceivedCount() const { return bytes_received_.value(); }
  uint64_t bytesSentCount() const { return bytes_sent_.value(); }

 private:
  const std::string service_;
  const std::string method_;
  const std::string cluster_;
  const std::string protocol_;
  ShardCounter started_;
  std::array<ShardCounter, kGrpcCodeCount> handled_;
  std::array<ShardCounter, kHandlingBuckets.size() + 1> buckets_;
  std::atomic<double> seconds_sum_{0.0};
  ShardCounter msg_received_;
  ShardCounter msg_sent_;
  ShardCounter bytes_received_;
  ShardCounter bytes_sent_;
};

// One downstream listener (by its configured name) in one worker.
class alignas(64) ListenerSeries {
 public:
  explicit ListenerSeries(std::string_view name) : name_(name) {}
  ListenerSeries(const ListenerSeries&) = delete;
  ListenerSeries& operator=(const ListenerSeries&) = delete;

  void connectionOpened() { opened_.add(1); }
  void connectionClosed() { closed_.add(1); }
  void tlsHandshakeFailed() { tls_failures_.add(1); }
  void protocolError() { protocol_errors_.add(1); }
  void glitch(Glitch g) { glitches_[static_cast<size_t>(g)].add(1); }
  void limitHit(ListenerLimit l) { limits_[static_cast<size_t>(l)].add(1); }
  // A connection reached max_connection_age and was sent GOAWAY.
  void connectionAged() { aged_.add(1); }

  const std::string& name() const { return name_; }
  uint64_t agedCount() const { return aged_.value(); }
  uint64_t openedCount() const { return opened_.value(); }
  uint64_t closedCount() const { return closed_.value(); }
  uint64_t tlsHandshakeFailures() const { return tls_failures_.value(); }
  uint64_t protocolErrors() const { return protocol_errors_.value(); }
  uint64_t glitchCount(Glitch g) const { return glitches_[static_cast<size_t>(g)].value(); }
  uint64_t limitCount(ListenerLimit l) const { return limits_[static_cast<size_t>(l)].value(); }

 private:
  const std::string name_;
  ShardCounter opened_;
  ShardCounter closed_;
  ShardCounter tls_failures_;
  ShardCounter protocol_errors_;
  ShardCounter aged_;
  std::array<ShardCounter, kGlitchCount> glitches_;
  std::array<ShardCounter, kListenerLimitCount> limits_;
};

// One cluster (by its configured name) in one worker.
class alignas(64) ClusterSeries {
 public:
  explicit ClusterSeries(std::string_view name) : name_(name) {}
  ClusterSeries(const ClusterSeries&) = delete;
  ClusterSeries& operator=(const ClusterSeries&) = delete;

  void overflow(Overflow o) { overflows_[static_cast<size_t>(o)].add(1); }

  const std::string& name() const { return name_; }
  uint64_t overflowCount(Overflow o) const { return overflows_[static_cast<size_t>(o)].value(); }

 private:
  const std::string name_;
  std::array<ShardCounter, kOverflowCount> overflows_;
};

// One backend endpoint (cluster + "ip:port") in one worker.
class alignas(64) EndpointSeries {
 public:
  EndpointSeries(std::string_view cluster, std::string_view address)
      : cluster_(cluster), address_(address) {}
  EndpointSeries(const EndpointSeries&) = delete;
  EndpointSeries& operator=(const EndpointSeries&) = delete;

  void connectionOpened() { opened_.add(1); }
  void connectionClosed() { closed_.add(1); }
  void connectFailed() { connect_failures_.add(1); }
  void streamStarted() { streams_started_.add(1); }
  void streamEnded() { streams_ended_.add(1); }
  void limitHit(UpstreamLimit l) { limits_[static_cast<size_t>(l)].add(1); }
  // An RPC attempt on this endpoint ended with grpc_code (the backend's status,
  // or 14 when the stream failed) after `seconds` from its request headers.
  void attemptFinished(int grpc_code, double seconds);
  void transparentRetry() { transparent_retries_.add(1); }
  void policyRetry() { policy_retries_.add(1); }
  void retryBudgetExceeded() { retry_overflow_.add(1); }

  const std::string& cluster() const { return cluster_; }
  const std::string& address() const { return address_; }
  uint64_t openedCount() const { return opened_.value(); }
  uint64_t closedCount() const { return closed_.value(); }
  uint64_t connectFailures() const { return connect_failures_.value(); }
  uint64_t streamsStarted() const { return streams_started_.value(); }
  uint64_t streamsEnded() const { return streams_ended_.value(); }
  uint64_t limitCount(UpstreamLimit l) const { return limits_[static_cast<size_t>(l)].value(); }
  uint64_t attemptCount(int grpc_code) const { return attempts_[grpc_code].value(); }
  uint64_t attemptBucketCount(size_t i) const { return attempt_buckets_[i].value(); }
  double attemptSecondsSum() const { return attempt_seconds_.load(std::memory_order_relaxed); }
  uint64_t transparentRetries() const { return transparent_retries_.value(); }
  uint64_t policyRetries() const { return policy_retries_.value(); }
  uint64_t retryBudgetOverflows() const { return retry_overflow_.value(); }

 private:
  const std::string cluster_;
  const std::string address_;
  std::array<ShardCounter, kGrpcCodeCount> attempts_;
  std::array<ShardCounter, kHandlingBuckets.size() + 1> attempt_buckets_;
  std::atomic<double> attempt_seconds_{0.0};
  ShardCounter transparent_retries_;
  ShardCounter policy_retries_;
  ShardCounter retry_overflow_;
  ShardCounter opened_;
  ShardCounter closed_;
  ShardCounter connect_failures_;
  ShardCounter streams_started_;
  ShardCounter streams_ended_;
  std::array<ShardCounter, kUpstreamLimitCount> limits_;
};

// Label value that replaces service/method (or endpoint address) once a shard
// has reached its series cap.
inline constexpr std::string_view kOverflowLabel = "other";

// One route's authentication decisions in one worker (see auth_series.h).
class AuthSeries {
 public:
  explicit AuthSeries(std::string_view route) : route_(route) {}
  AuthSeries(const AuthSeries&) = delete;
  AuthSeries& operator=(const AuthSeries&) = delete;

  void allowed() { allowed_.add(1); }
  void failed(AuthFailure cause) { failures_[static_cast<size_t>(cause)].add(1); }

  const std::string& route() const { return route_; }
  uint64_t allowedCount() const { return allowed_.value(); }
  uint64_t failureCount(AuthFailure cause) const { return failures_[static_cast<size_t>(cause)].value(); }

 private:
  std::string route_;
  ShardCounter allowed_;
  std::array<ShardCounter, kAuthFailureCount> failures_;
};

class WorkerStats {
 public:
  WorkerStats(size_t max_rpc_series, size_t max_endpoint_series);
  WorkerStats(const WorkerStats&) = delete;
  WorkerStats& operator=(const WorkerStats&) = delete;
  ~WorkerStats();

  // Stable pointer for the label set (never null). At most max_rpc_series
  // distinct sets per shard; past that, an unseen set gets the series
  // (grpc_service="other", grpc_method="other", cluster) of its cluster, so
  // a shard holds at most max_rpc_series + (number of clusters) RPC series.
  // Unmatched routes should pass "unmatched" for service and method.
  RpcSeries* rpc(std::string_view service, std::string_view method, std::string_view cluster,
                 std::string_view protocol = kNativeProtocol);
  // Listeners come from the config, so they are not capped.
  ListenerSeries* listener(std::string_view name);
  // Clusters come from the config too (names of removed clusters stay).
  ClusterSeries* cluster(std::string_view name);
  // At most max_endpoint_series per shard; past that, an unseen endpoint gets
  // (cluster, endpoint="other"). DNS-discovered endpoints churn, and series are
  // never freed, so this cap is what bounds memory over a long uptime.
  EndpointSeries* endpoint(std::string_view cluster, std::string_view address);
  void localError(LocalError cause) { local_errors_[static_cast<size_t>(cause)].add(1); }
  // Routes come from the config, so they are not capped.
  AuthSeries* auth(std::string_view route);
  // Rate-limit counters of a route label (routes come from the config: not capped).
  RateLimitSeries* rateLimit(std::string_view route);

  // Scrape side (any thread). Each visitor runs under the registration mutex,
  // so it must not call back into this shard.
  template <class Fn>
  void forEachRpc(Fn&& fn) const {
    std::lock_guard<std::mutex> g(mu_);
    for (const auto& s : rpc_series_) fn(*s);
  }
  template <class Fn>
  void forEachListener(Fn&& fn) const {
    std::lock_guard<std::mutex> g(mu_);
    for (const auto& s : listener_series_) fn(*s);
  }
  template <class Fn>
  void forEachCluster(Fn&& fn) const {
    std::lock_guard<std::mutex> g(mu_);
    for (const auto& s : cluster_series_) fn(*s);
  }
  template <class Fn>
  void forEachEndpoint(Fn&& fn) const {
    std::lock_guard<std::mutex> g(mu_);
    for (const auto& s : endpoint_series_) fn(*s);
  }
  template <class Fn>
  void forEachAuth(Fn&& fn) const {
    std::lock_guard<std::mutex> g(mu_);
    for (const auto& s : auth_series_) fn(*s);
  }
  template <class Fn>
  void forEachRateLimit(Fn&& fn) const {
    std::lock_guard<std::mutex> g(mu_);
    for (const auto& s : rate_limit_series_) fn(*s);
  }
  uint64_t localErrorCount(LocalError cause) const {
    return local_errors_[static_cast<size_t>(cause)].value();
  }

 private:
  struct RpcLabelsHash {
    size_t operator()(const RpcLabels& k) const;
  };
  struct EndpointKey {
    std::string_view cluster;
    std::string_view address;
    bool operator==(const EndpointKey&) const = default;
  };
  struct EndpointKeyHash {
    size_t operator()(const EndpointKey& k) const;
  };

  RpcSeries* addRpc(std::string_view service, std::string_view method, std::string_view cluster,
                    std::string_view protocol);
  EndpointSeries* addEndpoint(std::string_view cluster, std::string_view address);

  const size_t max_rpc_series_;
  const size_t max_endpoint_series_;

  // Lookup maps: touched only by the owning thread. Keys view the strings
  // stored inside the series, which never move.
  std::unordered_map<RpcLabels, RpcSeries*, RpcLabelsHash> rpc_index_;
  size_t capped_rpc_series_ = 0;  // entries of rpc_index_ that count toward the cap
  RpcSeries* last_rpc_ = nullptr;  // the series rpc() found last (never an overflow stand-in)
  std::unordered_map<std::string_view, ListenerSeries*> listener_index_;
  std::unordered_map<std::string_view, ClusterSeries*> cluster_index_;
  std::unordered_map<EndpointKey, EndpointSeries*, EndpointKeyHash> endpoint_index_;
  size_t capped_endpoint_series_ = 0;
  std::unordered_map<std::string_view, RateLimitSeries*> rate_limit_index_;

  // Ownership and the scrape's view. Appended by the owning thread under mu_.
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<RpcSeries>> rpc_series_;
  std::vector<std::unique_ptr<ListenerSeries>> listener_series_;
  std::vector<std::unique_ptr<ClusterSeries>> cluster_series_;
  std::vector<std::unique_ptr<EndpointSeries>> endpoint_series_;
  std::vector<std::unique_ptr<AuthSeries>> auth_series_;
  std::unordered_map<std::string_view, AuthSeries*> auth_index_;  // owning thread only
  std::vector<std::unique_ptr<RateLimitSeries>> rate_limit_series_;

  std::array<ShardCounter, kLocalErrorCount> local_errors_;
};

}  // namespace switchyard::metrics
