// CHandle: unique_ptr aliases that free C library handles with their own
// deleter, so every event_base, SSL_CTX, nghttp2_session... has exactly one owner.
#pragma once

#include <memory>

namespace switchyard {

template <class T, void (*Deleter)(T*)>
struct CDeleter {
  void operator()(T* p) const {
    if (p != nullptr) Deleter(p);
  }
};

template <class T, void (*Deleter)(T*)>
using CHandle = std::unique_ptr<T, CDeleter<T, Deleter>>;

}  // namespace switchyard
