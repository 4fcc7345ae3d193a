#include "proxy/rate_limit_filter.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>

#include "metrics/rate_limit_series.h"
#include "routing/route_table.h"

namespace switchyard::proxy {
namespace {

using Key = config::RateLimitSpec::Key;

// Hash domains of the key table: a key of one kind never equals one of another.
enum KeyDomain : uint8_t { kClientIp = 1, kHeader = 2, kSubject = 3 };

// "100/s", "2.5/s": whole rates without an exponent, fractions as written.
std::string rateText(double rps) {
  if (rps >= 1 && rps == std::floor(rps)) return std::to_string(static_cast<uint64_t>(rps)) + "/s";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g/s", rps);
  return buf;
}

}  // namespace

int64_t RateLimitFilter::steadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

uint64_t randomHashSeed() {
  std::random_device rd;
  return (uint64_t{rd()} << 32) ^ rd();
}

RateLimitFilter::RateLimitFilter(const config::RateLimitSpec& spec, std::string route, uint64_t seed,
                                 NowFn now)
    : key_(spec.key),
      header_(spec.header),
      route_(std::move(route)),
      limit_text_(rateText(spec.rps)),
      now_(now) {
  auto rate = limits::Rate::perSecond(spec.rps, spec.burst);
  if (key_ == Key::None) {
    bucket_ = std::make_unique<limits::Bucket>(rate);
  } else {
    keyed_ = std::make_unique<limits::KeyedBuckets>(rate, spec.max_keys, seed);
  }
}

limits::Decision RateLimitFilter::take(const PolicyRequest& request, int64_t now, bool* evicted) const {
  if (bucket_) return bucket_->take(now);
  std::string_view key;
  uint8_t domain = kClientIp;
  if (key_ == Key::Header) {
    bool found = false;
    std::string_view v = request.headers.get(header_, &found);
    if (found) {
      key = v;
      domain = kHeader;
    }
  } else if (key_ == Key::JwtSub && !request.facts.subject.empty()) {
    key = request.facts.subject;
    domain = kSubject;
  }
  if (domain == kClientIp) key = request.peer_ip;
  auto d = keyed_->take(key, now, domain);
  *evicted = d.evicted;
  return d.decision;
}

std::optional<LocalAnswer> RateLimitFilter::onRequest(PolicyRequest& request) const {
  bool evicted = false;
  limits::Decision d = take(request, now_(), &evicted);
  metrics::RateLimitSeries* series = nullptr;
  if (request.stats != nullptr && (evicted || !d.allowed)) series = request.stats->rateLimit(route_);
  if (evicted && series != nullptr) series->evicted();
  if (d.allowed) return std::nullopt;
  if (series != nullptr) {
    series->limited();
    request.stats->localError(metrics::LocalError::RateLimited);
  }
  int64_t pushback_ms = limits::ceilMillis(d.retry_after_ns);
  return LocalAnswer{grpc::StatusCode::ResourceExhausted,
                     "rate limit of " + limit_text_ + " exceeded on route " + route_ + "; retry in " +
                         std::to_string(pushback_ms) + " ms",
                     {{"grpc-retry-pushback-ms", std::to_string(pushback_ms)}}};
}

}  // namespace switchyard::proxy
