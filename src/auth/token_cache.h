// TokenCache: one worker's bounded LRU of verified JWTs, keyed by the whole
// token text (a hash alone could let a forged token collide with a cached
// one), so a client that repeats its token skips the signature check. Entries
// keep their exp/nbf and are re-checked by the caller on every hit; only
// verified tokens are cached. Not thread-safe: one per worker.
#pragma once

#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/jwt.h"

namespace switchyard::auth {

class TokenCache {
 public:
  explicit TokenCache(size_t capacity = 0) : capacity_(capacity) {}
  void setCapacity(size_t capacity) {
    capacity_ = capacity;
    trim();
  }

  // The cached verification of `jwt`, or null; a hit becomes the most recent.
  std::shared_ptr<const VerifiedToken> find(std::string_view jwt) {
    auto it = index_.find(jwt);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return it->second->token;
  }

  void insert(std::string_view jwt, std::shared_ptr<const VerifiedToken> token) {
    if (capacity_ == 0) return;
    auto it = index_.find(jwt);
    if (it != index_.end()) {
      it->second->token = std::move(token);
      order_.splice(order_.begin(), order_, it->second);
      return;
    }
    order_.push_front(Entry{std::string(jwt), std::move(token)});
    index_.emplace(order_.front().jwt, order_.begin());
    trim();
  }

  // Drops `jwt` (e.g. found expired).
  void erase(std::string_view jwt) {
    auto it = index_.find(jwt);
    if (it == index_.end()) return;
    auto pos = it->second;
    index_.erase(it);
    order_.erase(pos);
  }

  size_t size() const { return index_.size(); }

 private:
  struct Entry {
    std::string jwt;
    std::shared_ptr<const VerifiedToken> token;
  };
  void trim() {
    while (index_.size() > capacity_) {
      index_.erase(order_.back().jwt);
      order_.pop_back();
    }
  }

  size_t capacity_;
  std::list<Entry> order_;
  // Keys view the Entry's own string, which a std::list never moves.
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;
};

}  // namespace switchyard::auth
