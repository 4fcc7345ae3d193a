// Token buckets keyed by a caller's identity (client address, tenant header,
// subject), shared by every worker thread without locks, in a table of fixed
// size so memory stays bounded whatever keys clients send.
//
// The table is open addressing over `capacity` slots. A slot is two atomics:
// the key's 64-bit hash and the key's GCRA TAT (see gcra.h). A key lives in
// one of kProbe slots after its hash's home slot. A slot whose TAT is in the
// past is a full bucket and may be taken by any key. When all kProbe slots
// hold live keys, the slot whose TAT is oldest (the bucket closest to full)
// is evicted and its new key starts with a full bucket; the caller learns of
// it (Decision::evicted) so evictions can be counted.
//
// Degradation, by design: an evicted key that comes back starts full (a
// table too small for its keys admits more, never less); two keys whose
// hashes are equal share one bucket; a request racing an eviction of its own
// slot may be charged to the slot's new key. Hashes are seeded per table so
// clients cannot choose keys that land in one probe window without knowing
// the seed (the hash is not cryptographic).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "limits/gcra.h"

namespace switchyard::limits {

struct KeyedDecision {
  Decision decision;
  bool evicted = false;  // a live key was pushed out of the table to make room
};

class KeyedBuckets {
 public:
  static constexpr size_t kProbe = 8;
  static constexpr size_t kMaxCapacity = size_t{1} << 24;

  // capacity: slots (1..kMaxCapacity); seed: hash seed (random in production).
  KeyedBuckets(Rate rate, size_t capacity, uint64_t seed);

  // `domain` keeps kinds of key apart (a header value equal to a client
  // address is not that client): keys are equal only in the same domain.
  KeyedDecision take(std::string_view key, int64_t now_ns, uint8_t domain = 0);

  const Rate& rate() const { return rate_; }
  size_t capacity() const { return capacity_; }
  // Slots whose bucket is not full at now_ns (keys that hold state). For tests
  // and diagnostics: a scan of the whole table.
  size_t liveKeys(int64_t now_ns) const;
  // Whether `key` currently has a slot of its own.
  bool holds(std::string_view key, uint8_t domain = 0) const;
  uint64_t hash(std::string_view key, uint8_t domain = 0) const;

 private:
  struct alignas(16) Slot {
    std::atomic<uint64_t> key{0};  // hash of the key; 0: never used
    std::atomic<int64_t> tat{0};
  };
  Slot& at(uint64_t h, size_t i) const { return slots_[(h % capacity_ + i) % capacity_]; }

  const Rate rate_;
  const size_t capacity_;
  const uint64_t seed_;
  std::unique_ptr<Slot[]> slots_;
};

}  // namespace switchyard::limits
