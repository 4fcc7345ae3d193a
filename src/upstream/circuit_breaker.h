// Circuit breaking by concurrency (circuit_breaker.max_active_rpcs and
// max_pending): the RPCs in flight to a cluster, and those waiting for a
// stream slot on its connections, are each counted in one atomic shared by
// every worker, so the limits hold for the process, not per worker. An RPC
// over a limit is refused at once (no queueing), as Envoy's overflow does.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace switchyard::upstream {

using ActiveRpcCounter = std::atomic<uint32_t>;
using PendingRpcCounter = std::atomic<uint32_t>;

// The shared counter of the cluster called `name`: one per name for the life
// of the process, so new snapshots and reloads keep counting the RPCs already
// in flight. Takes a mutex; called when a snapshot is built, never per RPC.
std::shared_ptr<ActiveRpcCounter> clusterActiveRpcCounter(const std::string& name);
// The same for the RPCs waiting for a stream slot (circuit_breaker.max_pending).
// Counters are never freed, so connections may keep raw pointers to them.
std::shared_ptr<PendingRpcCounter> clusterPendingRpcCounter(const std::string& name);

// One RPC's place in its cluster's count; gives it back when destroyed.
class ActiveRpcSlot {
 public:
  ActiveRpcSlot() = default;
  ~ActiveRpcSlot() { release(); }
  ActiveRpcSlot(ActiveRpcSlot&& o) noexcept : counter_(std::move(o.counter_)) {}
  ActiveRpcSlot& operator=(ActiveRpcSlot&& o) noexcept {
    if (this != &o) {
      release();
      counter_ = std::move(o.counter_);
    }
    return *this;
  }
  ActiveRpcSlot(const ActiveRpcSlot&) = delete;
  ActiveRpcSlot& operator=(const ActiveRpcSlot&) = delete;

  // Takes a place unless `max` RPCs (0: no limit) are in flight already; an
  // empty slot means the RPC overflows the cluster.
  static ActiveRpcSlot tryAcquire(std::shared_ptr<ActiveRpcCounter> counter, uint32_t max);

  bool held() const { return counter_ != nullptr; }
  void release();

 private:
  std::shared_ptr<ActiveRpcCounter> counter_;
};

}  // namespace switchyard::upstream
