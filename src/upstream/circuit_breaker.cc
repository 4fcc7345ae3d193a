#include "upstream/circuit_breaker.h"

#include <map>
#include <mutex>

namespace switchyard::upstream {

std::shared_ptr<ActiveRpcCounter> clusterActiveRpcCounter(const std::string& name) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<ActiveRpcCounter>> counters;
  std::lock_guard<std::mutex> g(mu);
  auto& c = counters[name];
  if (!c) c = std::make_shared<ActiveRpcCounter>(0);
  return c;
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
