// RetryState: everything one RPC knows about sending itself again. It counts
// the request bytes already sent upstream against the cluster's retry_buffer
// (FlowBuffers keeps them; past that limit the RPC is committed to its
// backend), counts attempts and transparent retries, holds the RPC's place in
// the retry budget, and decides policy retries (gRPC A6: a listed status,
// attempts and budget left; server pushback, or exponential backoff with full
// jitter drawn from the worker's random source). No I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/duration.h"
#include "config/spec.h"
#include "http2/headers.h"

namespace switchyard::metrics {
class EndpointSeries;
}

namespace switchyard::proxy {

struct ClusterCounters;
class WorkerContext;

class RetryState {
 public:
  RetryState() = default;
  ~RetryState() { leaveBudget(); }
  RetryState(const RetryState&) = delete;
  RetryState& operator=(const RetryState&) = delete;

  // --- attempts
  void attemptStarted() { ++attempts_; }
  uint32_t attempts() const { return attempts_; }
  // Transparent retries (the backend provably never saw the request) left.
  bool mayRetryTransparently(uint32_t max) const { return transparent_retries_ < max; }
  void transparentRetryStarted() { ++transparent_retries_; }

  // --- the retained request bytes (kept by FlowBuffers)
  // `len` more bytes were sent upstream; returns whether every byte sent so
  // far still fits `limit`. Once false, the caller lets the kept bytes go and
  // the RPC can no longer be replayed.
  bool retain(size_t len, uint64_t limit);
  // Every byte sent so far is kept, so the request can be replayed.
  bool bodyRetained() const { return body_retained_; }
  // The kept bytes were put back for the next attempt: counting starts again.
  void replayed() { sent_total_ = 0; }
  // The kept bytes are gone; the RPC can no longer be replayed.
  void dropRetained() { body_retained_ = false; }

  // --- the retry budget (per worker and cluster): retries in flight may not
  // exceed budget_percent of the active RPCs, with a floor, so an outage
  // cannot multiply the load.
  void joinCounters(ClusterCounters* counters);
  bool budgetAllows(const config::RetryBudgetSpec& budget) const;
  // Counts this RPC as a retry in flight (once) until it ends.
  void enterBudget();

  // --- policy retries (gRPC A6)
  // The delay before sending again a call the backend answered with
  // `grpc_status` and `response` (its Trailers-Only headers), or nullopt
  // when the policy does not retry it: the status is not listed, the
  // attempts are used up, the server's pushback says no, or the budget is
  // spent (counted on `endpoint`). The backoff jitter comes from `worker`.
  std::optional<Duration> policyDelay(const config::RetryPolicySpec& policy,
                                      const config::RetryBudgetSpec& budget, int grpc_status,
                                      const http2::HeaderList& response, WorkerContext& worker,
                                      metrics::EndpointSeries* endpoint) const;

 private:
  void leaveBudget();

  uint32_t attempts_ = 0;
  uint32_t transparent_retries_ = 0;
  uint64_t sent_total_ = 0;
  bool body_retained_ = true;
  ClusterCounters* counters_ = nullptr;  // lives as long as the worker
  bool counted_as_retry_ = false;
};

// Whether a response status is in the policy's retry_on list.
bool retryableStatus(const config::RetryPolicySpec& policy, int grpc_status);

// gRPC A6 grpc-retry-pushback-ms: the delay the server asks for, or nullopt
// for "do not retry" (a negative or malformed value).
std::optional<Duration> pushbackDelay(std::string_view header_value);

// Exponential backoff with full jitter before attempt `attempts` + 1:
// uniform in [0, min(backoff_base * 2^(attempts-1), backoff_max)], picked by `random`.
Duration backoffDelay(const config::RetryPolicySpec& policy, uint32_t attempts, uint64_t random);

}  // namespace switchyard::proxy
