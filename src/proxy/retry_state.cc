#include "proxy/retry_state.h"

#include <algorithm>
#include <charconv>

#include "metrics/worker_stats.h"
#include "proxy/cluster_table.h"
#include "proxy/worker_context.h"

namespace switchyard::proxy {

bool RetryState::retain(size_t len, uint64_t limit) {
  sent_total_ += len;
  if (sent_total_ > limit) body_retained_ = false;
  return body_retained_;
}

void RetryState::joinCounters(ClusterCounters* counters) {
  counters_ = counters;
  ++counters_->active_rpcs;
}

bool RetryState::budgetAllows(const config::RetryBudgetSpec& budget) const {
  if (counted_as_retry_) return true;
  double allowed = std::max<double>(budget.min_retry_concurrency,
                                    counters_->active_rpcs * budget.budget_percent / 100.0);
  return counters_->active_retries + 1 <= allowed;
}

void RetryState::enterBudget() {
  if (counted_as_retry_) return;
  counted_as_retry_ = true;
  ++counters_->active_retries;
}

void RetryState::leaveBudget() {
  if (counters_ == nullptr) return;
  --counters_->active_rpcs;
  if (counted_as_retry_) --counters_->active_retries;
  counters_ = nullptr;
}

std::optional<Duration> RetryState::policyDelay(const config::RetryPolicySpec& policy,
                                                const config::RetryBudgetSpec& budget,
                                                int grpc_status, const http2::HeaderList& response,
                                                WorkerContext& worker,
                                                metrics::EndpointSeries* endpoint) const {
  if (attempts_ >= policy.max_attempts || !retryableStatus(policy, grpc_status)) {
    return std::nullopt;
  }
  if (!budgetAllows(budget)) {
    if (endpoint != nullptr) endpoint->retryBudgetExceeded();
    return std::nullopt;
  }
  bool has_pushback = false;
  std::string_view pushback = response.get("grpc-retry-pushback-ms", &has_pushback);
  if (has_pushback) return pushbackDelay(pushback);
  return backoffDelay(policy, attempts_, worker.random());
}

bool retryableStatus(const config::RetryPolicySpec& policy, int grpc_status) {
  return std::find(policy.retry_on.begin(), policy.retry_on.end(), grpc_status) !=
         policy.retry_on.end();
}

std::optional<Duration> pushbackDelay(std::string_view value) {
  long long ms = -1;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
  if (ec != std::errc() || p != value.data() + value.size() || ms < 0) return std::nullopt;
  return std::chrono::milliseconds(ms);
}

Duration backoffDelay(const config::RetryPolicySpec& policy, uint32_t attempts, uint64_t random) {
  uint32_t doublings = std::min<uint32_t>(attempts == 0 ? 0 : attempts - 1, 20);
  auto cap = policy.backoff_base * (1LL << doublings);
  if (cap > policy.backoff_max) cap = policy.backoff_max;
  return Duration(static_cast<Duration::rep>(random % static_cast<uint64_t>(cap.count() + 1)));
}

}  // namespace switchyard::proxy
