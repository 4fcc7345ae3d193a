// The limit step of a route's policy chain (see request_filter.h): a route's
// rate_limit as a GCRA token bucket shared by every worker (limits/), one
// bucket for the route or one per key. Over the limit the RPC ends with
// RESOURCE_EXHAUSTED, a grpc-message naming the route, and the trailer
// grpc-retry-pushback-ms: the milliseconds until a token is available, which
// gRPC clients with a retry policy wait before retrying.
//
// Keys: client_ip (the connection's peer address), header:NAME (the first
// value of that request header), jwt:sub (PolicyFacts::subject, set by an
// authentication step earlier in the chain). A request without its key (no
// such header, no authenticated subject) is keyed by its client address
// instead, so it neither escapes the limit nor shares one bucket with every
// other keyless caller.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "config/spec.h"
#include "limits/gcra.h"
#include "limits/keyed_buckets.h"
#include "proxy/request_filter.h"

namespace switchyard::proxy {

class RateLimitFilter final : public RequestFilter {
 public:
  // Nanoseconds of a monotonic clock; injectable for tests.
  using NowFn = int64_t (*)();
  static int64_t steadyNowNs();

  // `route` is the route's label (routing::Route::name) for messages and
  // metrics; `seed` seeds the key table's hash (random in production).
  RateLimitFilter(const config::RateLimitSpec& spec, std::string route, uint64_t seed,
                  NowFn now = &steadyNowNs);

  std::optional<LocalAnswer> onRequest(PolicyRequest& request) const override;

 private:
  // The key's bucket decision; sets *evicted when a live key made room.
  limits::Decision take(const PolicyRequest& request, int64_t now, bool* evicted) const;

  const config::RateLimitSpec::Key key_;
  const std::string header_;
  const std::string route_;
  const std::string limit_text_;  // "100/s" for messages
  const NowFn now_;
  std::unique_ptr<limits::Bucket> bucket_;       // key none
  std::unique_ptr<limits::KeyedBuckets> keyed_;  // any other key
};

// A random seed for a key table's hash.
uint64_t randomHashSeed();

}  // namespace switchyard::proxy
