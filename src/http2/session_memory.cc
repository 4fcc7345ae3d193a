#include "http2/session_memory.h"

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

namespace switchyard::http2 {
namespace {

// Block sizes, the header included. The header keeps the class index in
// front of the caller's bytes and keeps them 16-byte aligned, as malloc does.
constexpr std::array<size_t, 5> kClassBytes = {64, 128, 256, 512, 1024};
constexpr size_t kHeader = 16;
constexpr uint32_t kUnpooled = 0xffffffffu;

struct FreeBlock {
  FreeBlock* next;
};

struct Pool {
  std::array<FreeBlock*, kClassBytes.size()> head{};
  size_t retained = 0;
  ~Pool();
};

// Trivially destructible, so it can be read after the thread's Pool is gone
// (a session freed during thread or process exit then uses free()).
thread_local bool t_pool_gone = false;
thread_local Pool t_pool;

Pool::~Pool() {
  t_pool_gone = true;
  for (auto& h : head) {
    while (h != nullptr) {
      FreeBlock* next = h->next;
      std::free(h);
      h = next;
    }
  }
  retained = 0;
}

// Under AddressSanitizer the caller's bytes of a block waiting on a free list
// are poisoned, so a use after free (an HPACK field nghttp2 still points at,
// say) is reported as it would be for memory given back to malloc.
void poison(void* block, uint32_t cls) {
#if defined(__SANITIZE_ADDRESS__)
  ASAN_POISON_MEMORY_REGION(static_cast<uint8_t*>(block) + kHeader, kClassBytes[cls] - kHeader);
#else
  (void)block;
  (void)cls;
#endif
}

void unpoison(void* block, uint32_t cls) {
#if defined(__SANITIZE_ADDRESS__)
  ASAN_UNPOISON_MEMORY_REGION(static_cast<uint8_t*>(block) + kHeader, kClassBytes[cls] - kHeader);
#else
  (void)block;
  (void)cls;
#endif
}

uint32_t classFor(size_t size) {
  for (uint32_t c = 0; c < kClassBytes.size(); ++c) {
    if (size <= kClassBytes[c] - kHeader) return c;
  }
  return kUnpooled;
}

void* withHeader(void* block, uint32_t cls) {
  if (block == nullptr) return nullptr;
  std::memcpy(block, &cls, sizeof cls);
  return static_cast<uint8_t*>(block) + kHeader;
}

uint32_t classOf(void* ptr) {
  uint32_t cls;
  std::memcpy(&cls, static_cast<uint8_t*>(ptr) - kHeader, sizeof cls);
  return cls;
}

void* poolMalloc(size_t size, void*) {
  if (size > SIZE_MAX - kHeader) return nullptr;
  uint32_t cls = classFor(size);
  if (cls == kUnpooled) return withHeader(std::malloc(size + kHeader), kUnpooled);
  if (!t_pool_gone) {
    Pool& pool = t_pool;
    if (FreeBlock* b = pool.head[cls]) {
      pool.head[cls] = b->next;
      pool.retained -= kClassBytes[cls];
      unpoison(b, cls);
      return withHeader(b, cls);
    }
  }
  return withHeader(std::malloc(kClassBytes[cls]), cls);
}

void poolFree(void* ptr, void*) {
  if (ptr == nullptr) return;
  void* block = static_cast<uint8_t*>(ptr) - kHeader;
  uint32_t cls = classOf(ptr);
  if (cls == kUnpooled || t_pool_gone || t_pool.retained + kClassBytes[cls] > kMaxRetainedBytes) {
    std::free(block);
    return;
  }
  Pool& pool = t_pool;
  auto* b = static_cast<FreeBlock*>(block);
  b->next = pool.head[cls];
  pool.head[cls] = b;
  pool.retained += kClassBytes[cls];
  poison(b, cls);
}

void* poolCalloc(size_t n, size_t size, void* ud) {
  if (size != 0 && n > SIZE_MAX / size) return nullptr;
  void* p = poolMalloc(n * size, ud);
  if (p != nullptr) std::memset(p, 0, n * size);
  return p;
}

void* poolRealloc(void* ptr, size_t size, void* ud) {
  if (ptr == nullptr) return poolMalloc(size, ud);
  if (size == 0) {
    poolFree(ptr, ud);
    return nullptr;
  }
  uint32_t cls = classOf(ptr);
  if (cls == kUnpooled) {
    if (size > SIZE_MAX - kHeader) return nullptr;
    void* block = std::realloc(static_cast<uint8_t*>(ptr) - kHeader, size + kHeader);
    return withHeader(block, kUnpooled);
  }
  size_t usable = kClassBytes[cls] - kHeader;
  if (size <= usable) return ptr;
  void* grown = poolMalloc(size, ud);
  if (grown == nullptr) return nullptr;
  std::memcpy(grown, ptr, usable);
  poolFree(ptr, ud);
  return grown;
}

nghttp2_mem g_memory{nullptr, poolMalloc, poolFree, poolCalloc, poolRealloc};

}  // namespace

nghttp2_mem* sessionMemory() { return &g_memory; }

size_t retainedSessionBytes() { return t_pool_gone ? 0 : t_pool.retained; }

}  // namespace switchyard::http2
