#include "limits/keyed_buckets.h"

#include <algorithm>
#include <limits>

namespace switchyard::limits {

KeyedBuckets::KeyedBuckets(Rate rate, size_t capacity, uint64_t seed)
    : rate_(rate),
      capacity_(std::clamp<size_t>(capacity, 1, kMaxCapacity)),
      seed_(seed),
      slots_(std::make_unique<Slot[]>(capacity_)) {}

uint64_t KeyedBuckets::hash(std::string_view key, uint8_t domain) const {
  // FNV-1a from a seeded start, then the splitmix64 finaliser to spread the bits.
  uint64_t h = (seed_ ^ 14695981039346656037ULL ^ domain) * 1099511628211ULL;
  for (unsigned char c : key) h = (h ^ c) * 1099511628211ULL;
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h == 0 ? 1 : h;  // 0 marks an unused slot
}

KeyedDecision KeyedBuckets::take(std::string_view key, int64_t now_ns, uint8_t domain) {
  const uint64_t h = hash(key, domain);
  const size_t probe = std::min(kProbe, capacity_);
  Slot* victim = nullptr;
  for (int round = 0; round < 2; ++round) {
    Slot* free_slot = nullptr;
    Slot* oldest = nullptr;
    uint64_t free_key = 0;
    uint64_t oldest_key = 0;
    int64_t oldest_tat = std::numeric_limits<int64_t>::max();
    for (size_t i = 0; i < probe; ++i) {
      Slot& s = at(h, i);
      uint64_t k = s.key.load(std::memory_order_acquire);
      if (k == h) return {limits::take(s.tat, rate_, now_ns), false};
      int64_t t = s.tat.load(std::memory_order_relaxed);
      if (free_slot == nullptr && (k == 0 || t <= now_ns)) {
        free_slot = &s;
        free_key = k;
      }
      if (t < oldest_tat) {
        oldest_tat = t;
        oldest = &s;
        oldest_key = k;
      }
    }
    // A free slot's TAT is already in the past (a full bucket): taking it
    // needs no reset. Evicting a live key resets its TAT to "full".
    Slot* s = free_slot != nullptr ? free_slot : oldest;
    uint64_t expected = free_slot != nullptr ? free_key : oldest_key;
    victim = s;
    if (s->key.compare_exchange_strong(expected, h, std::memory_order_acq_rel)) {
      bool evicted = free_slot == nullptr;
      if (evicted) s->tat.store(0, std::memory_order_relaxed);
      return {limits::take(s->tat, rate_, now_ns), evicted};
    }
    // Another thread claimed that slot meanwhile (perhaps for this key): look again.
  }
  // Still racing after two rounds: share the last slot looked at rather than spin.
  return {limits::take(victim->tat, rate_, now_ns), false};
}

size_t KeyedBuckets::liveKeys(int64_t now_ns) const {
  size_t n = 0;
  for (size_t i = 0; i < capacity_; ++i) {
    if (slots_[i].key.load(std::memory_order_relaxed) != 0 &&
        slots_[i].tat.load(std::memory_order_relaxed) > now_ns) {
      ++n;
    }
  }
  return n;
}

bool KeyedBuckets::holds(std::string_view key, uint8_t domain) const {
  const uint64_t h = hash(key, domain);
  for (size_t i = 0; i < std::min(kProbe, capacity_); ++i) {
    if (at(h, i).key.load(std::memory_order_relaxed) == h) return true;
  }
  return false;
}

}  // namespace switchyard::limits
