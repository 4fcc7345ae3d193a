#include "server/connection_limit.h"

#include <algorithm>
#include <map>
#include <mutex>

namespace switchyard::server {
namespace {

constexpr auto kFirstPause = std::chrono::milliseconds(50);
constexpr auto kMaxPause = std::chrono::seconds(1);
constexpr auto kLogInterval = std::chrono::seconds(10);

}  // namespace

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

Duration AcceptBackoff::onFailure() {
  ++unlogged_;
  uint32_t shift = std::min<uint32_t>(consecutive_++, 5);
  return std::min<Duration>(kFirstPause * (1 << shift), kMaxPause);
}

bool AcceptBackoff::shouldLog(uint64_t* suppressed) {
  auto now = std::chrono::steady_clock::now();
  if (logged_once_ && now - last_log_ < kLogInterval) return false;
  logged_once_ = true;
  last_log_ = now;
  *suppressed = unlogged_ > 0 ? unlogged_ - 1 : 0;
  unlogged_ = 0;
  return true;
}

}  // namespace switchyard::server
