#include "upstream/circuit_breaker.h"

#include <map>
#include <mutex>

namespace switchyard::upstream {

namespace {

using CounterMap = std::map<std::string, std::shared_ptr<std::atomic<uint32_t>>>;

// One counter per cluster name in `counters`, made on first use and kept.
std::shared_ptr<std::atomic<uint32_t>> counterFor(CounterMap& counters, const std::string& name) {
  static std::mutex mu;
  std::lock_guard<std::mutex> g(mu);
  auto& c = counters[name];
  if (!c) c = std::make_shared<std::atomic<uint32_t>>(0);
  return c;
}

}  // namespace

std::shared_ptr<ActiveRpcCounter> clusterActiveRpcCounter(const std::string& name) {
  static CounterMap counters;
  return counterFor(counters, name);
}

std::shared_ptr<PendingRpcCounter> clusterPendingRpcCounter(const std::string& name) {
  static CounterMap counters;
  return counterFor(counters, name);
}

ActiveRpcSlot ActiveRpcSlot::tryAcquire(std::shared_ptr<ActiveRpcCounter> counter, uint32_t max) {
  ActiveRpcSlot slot;
  if (!counter) return slot;
  uint32_t before = counter->fetch_add(1, std::memory_order_relaxed);
  if (max != 0 && before >= max) {
    counter->fetch_sub(1, std::memory_order_relaxed);
    return slot;
  }
  slot.counter_ = std::move(counter);
  return slot;
}

void ActiveRpcSlot::release() {
  if (counter_) counter_->fetch_sub(1, std::memory_order_relaxed);
  counter_.reset();
}

}  // namespace switchyard::upstream
