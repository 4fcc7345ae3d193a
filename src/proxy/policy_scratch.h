// PolicyScratch: one worker's mutable state of the policy filters (caches of
// verified tokens and the like), so filters themselves stay immutable and
// shared. A filter that needs such state is given a slot number when its
// configuration is built and finds its state with slot<T>(n), created on
// first use. A reload builds new filters: the first RPC under the new
// configuration drops every slot of the old one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace switchyard::proxy {

// The base of a filter's per-worker state.
class FilterState {
 public:
  virtual ~FilterState() = default;
};

class PolicyScratch {
 public:
  // Called by each RPC before its filters run: keeps the slots when
  // `policies_id` is the configuration they belong to, else drops them.
  void use(uint64_t policies_id, size_t slots) {
    if (policies_id == policies_id_ && slots_.size() == slots) return;
    policies_id_ = policies_id;
    slots_.clear();
    slots_.resize(slots);
  }

  // The state of slot `n`, made with T's default constructor on first use.
  // Each slot belongs to one filter, which always asks for the same T.
  template <class T>
  T& slot(size_t n) {
    if (n >= slots_.size()) slots_.resize(n + 1);  // a miscounted slot costs memory, not a crash
    auto& s = slots_[n];
    if (!s) s = std::make_unique<T>();
    return static_cast<T&>(*s);
  }

 private:
  uint64_t policies_id_ = 0;
  std::vector<std::unique_ptr<FilterState>> slots_;
};

}  // namespace switchyard::proxy
