// StreamTable: what one connection keeps per open stream, by stream id.
// A hash map whose nodes are recycled per thread (RecyclingHashMap) that
// also remembers the entry it found last. The frames of one stream come
// together: a header block is one callback per field and then the frame, a
// DATA frame a chunk callback and then the frame. So most lookups ask for
// the id asked for just before, and those cost one comparison instead of a
// hash lookup. Entries never move (the map's nodes are stable), and every
// way of removing one goes through this class, which forgets the entry it
// remembered first.
#pragma once

#include <cstdint>
#include <utility>

#include "common/block_recycler.h"

namespace switchyard::common {

template <class V>
class StreamTable {
 public:
  using Map = RecyclingHashMap<int32_t, V>;

  StreamTable() = default;
  StreamTable(const StreamTable&) = delete;
  StreamTable& operator=(const StreamTable&) = delete;

  // The entry of `id`, or null.
  V* find(int32_t id) {
    if (last_ != nullptr && last_id_ == id) return last_;
    auto it = map_.find(id);
    if (it == map_.end()) return nullptr;
    remember(id, &it->second);
    return last_;
  }
  const V* find(int32_t id) const { return const_cast<StreamTable*>(this)->find(id); }

  // The entry of `id`, made (value-initialized) if there is none.
  V& operator[](int32_t id) {
    V& v = map_[id];
    remember(id, &v);
    return v;
  }
  // Removes the entry of `id`; false if there was none.
  bool erase(int32_t id) {
    if (last_id_ == id) last_ = nullptr;
    return map_.erase(id) != 0;
  }
  void clear() {
    last_ = nullptr;
    map_.clear();
  }
  // Every entry, leaving the table empty.
  Map takeAll() {
    last_ = nullptr;
    Map all = std::move(map_);
    map_.clear();
    return all;
  }

  size_t size() const { return map_.size(); }
  bool empty() const { return map_.empty(); }
  // Iteration may change values but not which entries exist.
  auto begin() { return map_.begin(); }
  auto end() { return map_.end(); }
  auto begin() const { return map_.begin(); }
  auto end() const { return map_.end(); }

 private:
  void remember(int32_t id, V* v) {
    last_id_ = id;
    last_ = v;
  }

  Map map_;
  int32_t last_id_ = 0;
  V* last_ = nullptr;
};

}  // namespace switchyard::common
