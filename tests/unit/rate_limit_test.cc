// The local rate limiter: GCRA buckets over a simulated clock (exact admits),
// the bounded key table (bounds, reuse of full buckets, eviction), two
// threads on one bucket (never more than rate * t + burst), the policy
// filter (keys, fallback, pushback trailer, metrics) and its config keys.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "config/loader.h"
#include "limits/gcra.h"
#include "limits/keyed_buckets.h"
#include "metrics/rate_limit_series.h"
#include "metrics/worker_stats.h"
#include "proxy/rate_limit_filter.h"
#include "routing/route_table.h"

namespace switchyard {
namespace {

using limits::Bucket;
using limits::KeyedBuckets;
using limits::Rate;

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSec = 1'000 * kMs;
constexpr int64_t kStart = 1'000 * kSec;  // an arbitrary monotonic-clock reading

// ------------------------------------------------------------------ GCRA

TEST(Gcra, FullBucketAdmitsBurstThenOnePerInterval) {
  Bucket b(Rate::perSecond(10, 5));  // one token per 100 ms, 5 at once
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(b.take(kStart).allowed) << i;
  auto refused = b.take(kStart);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_ns, 100 * kMs);
  EXPECT_FALSE(b.take(kStart + 99 * kMs).allowed);
  EXPECT_EQ(b.take(kStart + 99 * kMs).retry_after_ns, 1 * kMs);
  EXPECT_TRUE(b.take(kStart + 100 * kMs).allowed);
  EXPECT_FALSE(b.take(kStart + 100 * kMs).allowed);
}

TEST(Gcra, AdmitsExactlyRateTimesTimePlusBurstOverASimulatedClock) {
  Bucket b(Rate::perSecond(50, 20));
  int admitted = 0;
  for (int64_t t = 0; t <= 10 * kSec; t += kMs) {  // a request every millisecond for 10 s
    for (int k = 0; k < 3; ++k) admitted += b.take(kStart + t).allowed ? 1 : 0;
  }
  EXPECT_EQ(admitted, 20 + 50 * 10);
}

TEST(Gcra, IdleBucketRefillsOnlyUpToBurst) {
  Bucket b(Rate::perSecond(100, 3));
  int admitted = 0;
  for (int i = 0; i < 10; ++i) admitted += b.take(kStart + 3600 * kSec).allowed ? 1 : 0;
  EXPECT_EQ(admitted, 3);
}

TEST(Gcra, FractionalRates) {
  Bucket b(Rate::perSecond(0.5, 1));  // one every 2 s
  EXPECT_TRUE(b.take(kStart).allowed);
  auto d = b.take(kStart + kSec);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ns, kSec);
  EXPECT_TRUE(b.take(kStart + 2 * kSec).allowed);
}

TEST(Gcra, PushbackRoundsUp) {
  EXPECT_EQ(limits::ceilMillis(0), 0);
  EXPECT_EQ(limits::ceilMillis(1), 1);
  EXPECT_EQ(limits::ceilMillis(kMs), 1);
  EXPECT_EQ(limits::ceilMillis(kMs + 1), 2);
}

// Two threads hammering one bucket on the real clock never get more than
// rate * elapsed + burst between them.
TEST(Gcra, TwoThreadsNeverExceedRateTimesTimePlusBurst) {
  Bucket b(Rate::perSecond(1000, 50));
  std::atomic<int64_t> admitted{0};
  auto start = proxy::RateLimitFilter::steadyNowNs();
  auto hammer = [&] {
    int64_t mine = 0;
    for (int i = 0; i < 400'000; ++i) {
      int64_t now = proxy::RateLimitFilter::steadyNowNs();
      if (now - start > 300 * kMs) break;
      mine += b.take(now).allowed ? 1 : 0;
    }
    admitted += mine;
  };
  std::thread t1(hammer), t2(hammer);
  t1.join();
  t2.join();
  int64_t elapsed = proxy::RateLimitFilter::steadyNowNs() - start;
  EXPECT_LE(admitted.load(), 50 + elapsed / kMs + 1) << "elapsed " << elapsed / kMs << " ms";
  EXPECT_GE(admitted.load(), 50);
}

// ------------------------------------------------------------- key table

TEST(KeyedBuckets, KeysHaveTheirOwnBudgets) {
  KeyedBuckets t(Rate::perSecond(1, 2), 100, 42);
  EXPECT_TRUE(t.take("a", kStart).decision.allowed);
  EXPECT_TRUE(t.take("a", kStart).decision.allowed);
  EXPECT_FALSE(t.take("a", kStart).decision.allowed);
  EXPECT_TRUE(t.take("b", kStart).decision.allowed);
  EXPECT_TRUE(t.take("b", kStart).decision.allowed);
  EXPECT_FALSE(t.take("b", kStart).decision.allowed);
  // Same bytes in another domain is another key.
  EXPECT_TRUE(t.take("a", kStart, 7).decision.allowed);
  EXPECT_NE(t.hash("a", 0), t.hash("a", 7));
}

TEST(KeyedBuckets, MemoryIsBoundedAndLiveKeysAreEvictedOldestFirst) {
  KeyedBuckets t(Rate::perSecond(1, 5), 16, 1);
  int evictions = 0;
  for (int i = 0; i < 1000; ++i) {
    auto d = t.take("key-" + std::to_string(i), kStart + i);
    EXPECT_TRUE(d.decision.allowed);  // a new or evicted key starts with a full bucket
    evictions += d.evicted ? 1 : 0;
  }
  EXPECT_EQ(t.capacity(), 16u);
  EXPECT_LE(t.liveKeys(kStart + 1000), 16u);
  EXPECT_GE(evictions, 1000 - 16);  // at most one use of each never-used slot
}

TEST(KeyedBuckets, FullBucketsAreReusedWithoutEviction) {
  KeyedBuckets t(Rate::perSecond(1000, 1), 8, 3);  // a bucket is full again 1 ms after use
  int evictions = 0;
  for (int i = 0; i < 200; ++i) {
    auto d = t.take("k" + std::to_string(i), kStart + i * 2 * kMs);
    EXPECT_TRUE(d.decision.allowed);
    evictions += d.evicted ? 1 : 0;
  }
  EXPECT_EQ(evictions, 0);
  EXPECT_LE(t.liveKeys(kStart + 400 * kMs), 1u);
}

TEST(KeyedBuckets, AKeyKeepsItsStateWhileOthersComeAndGo) {
  KeyedBuckets t(Rate::perSecond(1, 1), 1000, 9);
  EXPECT_TRUE(t.take("tenant", kStart).decision.allowed);
  for (int i = 0; i < 100; ++i) t.take("other-" + std::to_string(i), kStart);
  EXPECT_TRUE(t.holds("tenant"));
  EXPECT_FALSE(t.take("tenant", kStart).decision.allowed);
}

TEST(KeyedBuckets, TwoThreadsOnOneKeyNeverExceedTheLimit) {
  KeyedBuckets t(Rate::perSecond(1000, 50), 4096, 5);
  std::atomic<int64_t> admitted{0};
  auto start = proxy::RateLimitFilter::steadyNowNs();
  auto hammer = [&](int id) {
    int64_t mine = 0;
    for (int i = 0; i < 400'000; ++i) {
      int64_t now = proxy::RateLimitFilter::steadyNowNs();
      if (now - start > 300 * kMs) break;
      mine += t.take("shared", now).decision.allowed ? 1 : 0;
      t.take("noise-" + std::to_string(id) + "-" + std::to_string(i % 100), now);
    }
    admitted += mine;
  };
  std::thread t1(hammer, 1), t2(hammer, 2);
  t1.join();
  t2.join();
  int64_t elapsed = proxy::RateLimitFilter::steadyNowNs() - start;
  EXPECT_LE(admitted.load(), 50 + elapsed / kMs + 1) << "elapsed " << elapsed / kMs << " ms";
}

// ---------------------------------------------------------------- filter

std::atomic<int64_t> g_now{kStart};
int64_t fakeNow() { return g_now.load(); }

struct FilterHarness {
  routing::Route route;
  proxy::PolicyFacts facts;
  proxy::PolicyScratch scratch;
  metrics::WorkerStats stats{100, 100};

  FilterHarness() { route.name = "billing.Billing/*"; }

  std::optional<proxy::LocalAnswer> call(const proxy::RateLimitFilter& f, std::string_view ip,
                                         http2::HeaderList& headers) {
    proxy::PolicyRequest req{headers, route, "public", ip, nullptr, facts, scratch, &stats};
    return f.onRequest(req);
  }
  uint64_t limited() { return stats.rateLimit(route.name)->limitedCount(); }
};

config::RateLimitSpec spec(double rps, uint32_t burst, config::RateLimitSpec::Key key, std::string header = "") {
  config::RateLimitSpec s;
  s.rps = rps;
  s.burst = burst;
  s.key = key;
  s.header = std::move(header);
  s.max_keys = 100;
  return s;
}

TEST(RateLimitFilter, RefusesWithResourceExhaustedAndPushback) {
  g_now = kStart;
  FilterHarness h;
  proxy::RateLimitFilter f(spec(10, 2, config::RateLimitSpec::Key::None), h.route.name, 1, &fakeNow);
  http2::HeaderList headers;
  EXPECT_FALSE(h.call(f, "10.0.0.1", headers));
  EXPECT_FALSE(h.call(f, "10.0.0.2", headers));
  g_now += 30 * kMs;
  auto a = h.call(f, "10.0.0.3", headers);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->code, grpc::StatusCode::ResourceExhausted);
  EXPECT_NE(a->message.find("rate limit of 10/s exceeded on route billing.Billing/*"), std::string::npos)
      << a->message;
  ASSERT_EQ(a->trailers.size(), 1u);
  EXPECT_EQ(a->trailers[0].name, "grpc-retry-pushback-ms");
  EXPECT_EQ(a->trailers[0].value, "70");
  EXPECT_EQ(h.limited(), 1u);
  g_now += 70 * kMs;
  EXPECT_FALSE(h.call(f, "10.0.0.3", headers));
}

TEST(RateLimitFilter, ClientIpKeysAreSeparate) {
  g_now = kStart;
  FilterHarness h;
  proxy::RateLimitFilter f(spec(1, 1, config::RateLimitSpec::Key::ClientIp), h.route.name, 1, &fakeNow);
  http2::HeaderList headers;
  EXPECT_FALSE(h.call(f, "10.0.0.1", headers));
  EXPECT_TRUE(h.call(f, "10.0.0.1", headers));
  EXPECT_FALSE(h.call(f, "10.0.0.2", headers));
}

TEST(RateLimitFilter, JwtSubjectKeysAndFallsBackToClientIp) {
  g_now = kStart;
  FilterHarness h;
  proxy::RateLimitFilter f(spec(1, 1, config::RateLimitSpec::Key::JwtSub), h.route.name, 1, &fakeNow);
  http2::HeaderList headers;
  h.facts.subject = "alice";
  EXPECT_FALSE(h.call(f, "10.0.0.1", headers));
  EXPECT_TRUE(h.call(f, "10.0.0.2", headers));  // alice again, from elsewhere
  h.facts.subject = "bob";
  EXPECT_FALSE(h.call(f, "10.0.0.1", headers));
  h.facts.subject.clear();  // no subject: keyed by address, apart from subjects
  EXPECT_FALSE(h.call(f, "10.0.0.1", headers));
  EXPECT_TRUE(h.call(f, "10.0.0.1", headers));
  EXPECT_FALSE(h.call(f, "10.0.0.9", headers));
}

TEST(RateLimitFilter, CountsEvictionsOfAFullKeyTable) {
  g_now = kStart;
  FilterHarness h;
  auto s = spec(1, 1, config::RateLimitSpec::Key::ClientIp);
  s.max_keys = 4;
  proxy::RateLimitFilter f(s, h.route.name, 1, &fakeNow);
  http2::HeaderList headers;
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(h.call(f, "10.0.0." + std::to_string(i), headers));
  EXPECT_EQ(h.stats.rateLimit(h.route.name)->evictedCount(), 6u);
  EXPECT_EQ(h.limited(), 0u);
}

// ---------------------------------------------------------------- config

constexpr const char* kBase = R"(listeners:
  - name: public
    address: 127.0.0.1:8080
clusters:
  - name: c
    endpoints: [127.0.0.1:9001]
routes:
)";

config::LoadResult load(const std::string& routes) { return config::loadString(kBase + routes, "t.yaml"); }

std::string errors(const config::LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e + "\n";
  return out;
}

TEST(RateLimitConfig, ReadsKeysAndDefaults) {
  auto r = load(R"(  - match: { service: a.A }
    cluster: c
    rate_limit: { rps: 100, burst: 200, key: client_ip }
  - match: { service: b.B }
    cluster: c
    rate_limit: { rps: 2.5, key: "header:x-tenant", max_keys: 50 }
  - match: { service: d.D }
    cluster: c
    rate_limit: { rps: 7, key: "jwt:sub" }
  - match: { service: e.E }
    cluster: c
)");
  ASSERT_TRUE(r.config) << errors(r);
  const auto& a = *r.config->routes.at(0).rate_limit;
  EXPECT_EQ(a.rps, 100);
  EXPECT_EQ(a.burst, 200u);
  EXPECT_EQ(a.key, config::RateLimitSpec::Key::ClientIp);
  EXPECT_EQ(a.max_keys, 10000u);
  const auto& b = *r.config->routes.at(1).rate_limit;
  EXPECT_EQ(b.rps, 2.5);
  EXPECT_EQ(b.burst, 3u);  // default: one second's worth, rounded up
  EXPECT_EQ(b.key, config::RateLimitSpec::Key::Header);
  EXPECT_EQ(b.header, "x-tenant");
  EXPECT_EQ(b.max_keys, 50u);
  const auto& d = *r.config->routes.at(2).rate_limit;
  EXPECT_EQ(d.key, config::RateLimitSpec::Key::JwtSub);
  EXPECT_EQ(d.burst, 7u);
  EXPECT_FALSE(r.config->routes.at(3).rate_limit);
}

TEST(RateLimitConfig, RejectsWithFileLineColumn) {
  struct Bad {
    const char* yaml;
    const char* where;
    const char* needle;
  };
  const Bad cases[] = {
      {"  - match: { service: a.A }\n    cluster: c\n    rate_limit: { rps: 0 }\n", "10:24",
       "rate_limit.rps must be more than 0"},
      {"  - match: { service: a.A }\n    cluster: c\n    rate_limit: { rps: lots }\n", "10:24",
       "expected a number of requests per second"},
      {"  - match: { service: a.A }\n    cluster: c\n    rate_limit: { burst: 5 }\n", "10:17",
       "missing required key \"rps\""},
      {"  - match: { service: a.A }\n    cluster: c\n    rate_limit: { rps: 5, burst: 0 }\n", "10:34",
       "rate_limit.burst"},
      {"  - match: { service: a.A }\n    cluster: c\n    rate_limit: { rps: 5, key: tenant }\n", "10:32",
       "must be none, client_ip, header:NAME or jwt:sub"},
      {"  - match: { service: a.A }\n    cluster: c\n    rate_limit: { rps: 5, key: \"header:X-Tenant\" }\n",
       "10:32", "lower-case header name"},
      {"  - match: { service: a.A }\n    cluster: c\n    rate_limit: { rps: 5, max_keys: 0 }\n", "10:37",
       "rate_limit.max_keys"},
      {"  - match: { service: a.A }\n    cluster: c\n    rate_limit: { rps: 5, per: minute }\n", "10:27",
       "per"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.yaml);
    auto r = load(c.yaml);
    ASSERT_FALSE(r.config);
    std::string prefix = std::string("t.yaml:") + c.where + ": ";
    bool found = false;
    for (const auto& e : r.errors) found = found || (e.rfind(prefix, 0) == 0 && e.find(c.needle) != std::string::npos);
    EXPECT_TRUE(found) << "want " << prefix << "..." << c.needle << "\ngot:\n" << errors(r);
  }
}

}  // namespace
}  // namespace switchyard
