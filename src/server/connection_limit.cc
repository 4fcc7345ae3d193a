#include "server/connection_limit.h"

#include <map>
#include <mutex>

namespace switchyard::server {

std::shared_ptr<std::atomic<uint32_t>> listenerConnectionCounter(const std::string& name) {
  // Taken only when a listener is added to a worker, never per connection.
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<std::atomic<uint32_t>>> counters;
  std::lock_guard<std::mutex> g(mu);
  auto& c = counters[name];
  if (!c) c = std::make_shared<std::atomic<uint32_t>>(0);
  return c;
}

bool admitConnection(std::atomic<uint32_t>& open, uint32_t max) {
  uint32_t before = open.fetch_add(1, std::memory_order_relaxed);
  if (max == 0 || before < max) return true;
  open.fetch_sub(1, std::memory_order_relaxed);
  return false;
}

}  // namespace switchyard::server
