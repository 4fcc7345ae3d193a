// BlockRecycler<kBytes, kKeep>: a per-thread stack of up to kKeep freed blocks
// of kBytes each, for memory a worker takes and gives back with every RPC
// that malloc's own per-thread cache would not keep: blocks over its size
// limit (glibc's tcache stops at 1,032 bytes), or more of one size in flight
// than it holds (7). Those otherwise take malloc's slower bin search and
// free's consolidation.
//
// A block is handed back to the thread that releases it; past kKeep, or once
// the thread's stack is gone (thread exit), blocks go straight to operator
// delete. Under AddressSanitizer a kept block is poisoned, so a use after
// release is reported as it would be for freed memory.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <new>
#include <unordered_map>
#include <utility>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

namespace switchyard::common {

template <size_t kBytes, size_t kKeep>
class BlockRecycler {
 public:
  static void* allocate() {
    if (!t_gone && t_stack.count > 0) {
      void* block = t_stack.blocks[--t_stack.count];
      unpoison(block);
      return block;
    }
    return ::operator new(kBytes);
  }
  static void release(void* block) {
    if (block == nullptr) return;
    if (t_gone || t_stack.count == kKeep) {
      ::operator delete(block);
      return;
    }
    if (!t_stack.reaper_armed) armReaper();
    poison(block);
    t_stack.blocks[t_stack.count++] = block;
  }
  // Blocks this thread keeps for reuse.
  static size_t kept() { return t_gone ? 0 : t_stack.count; }

 private:
  // Trivial, so reading it costs no per-access check whether this thread has
  // constructed it yet (as one with a destructor would: a call per access).
  struct Stack {
    void* blocks[kKeep];
    size_t count;
    bool reaper_armed;
  };
  // Frees what the thread kept as it ends. Touched once per thread, on the
  // first block kept, which is what makes the thread run its destructor.
  struct Reaper {
    bool armed = false;
    ~Reaper() {
      t_gone = true;
      while (t_stack.count > 0) {
        void* block = t_stack.blocks[--t_stack.count];
        unpoison(block);
        ::operator delete(block);
      }
    }
  };
  static void armReaper() {
    t_reaper.armed = true;
    t_stack.reaper_armed = true;
  }

  static void poison(void* block) {
#if defined(__SANITIZE_ADDRESS__)
    ASAN_POISON_MEMORY_REGION(block, kBytes);
#else
    (void)block;
#endif
  }
  static void unpoison(void* block) {
#if defined(__SANITIZE_ADDRESS__)
    ASAN_UNPOISON_MEMORY_REGION(block, kBytes);
#else
    (void)block;
#endif
  }

  // Trivially destructible, so they can be read after the thread's reaper ran.
  static inline thread_local bool t_gone = false;
  static inline thread_local Stack t_stack{};
  static inline thread_local Reaper t_reaper;
};

// RecyclingAllocator<T, kCount, kKeep>: a standard allocator whose
// allocations of exactly kCount T's (a container's usual size: one hash node,
// a header block's typical field count) go through a BlockRecycler keeping up
// to kKeep of them per thread; any other size goes to std::allocator.
template <class T, size_t kCount, size_t kKeep>
struct RecyclingAllocator {
  using value_type = T;
  using Blocks = BlockRecycler<sizeof(T) * kCount, kKeep>;
  template <class U>
  struct rebind {
    using other = RecyclingAllocator<U, kCount, kKeep>;
  };
  static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);

  RecyclingAllocator() = default;
  template <class U>
  RecyclingAllocator(const RecyclingAllocator<U, kCount, kKeep>&) {}  // NOLINT: rebinding is implicit

  T* allocate(size_t n) {
    if (n == kCount) return static_cast<T*>(Blocks::allocate());
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, size_t n) {
    if (n == kCount) {
      Blocks::release(p);
    } else {
      std::allocator<T>().deallocate(p, n);
    }
  }
  template <class U>
  bool operator==(const RecyclingAllocator<U, kCount, kKeep>&) const { return true; }
};

// A hash map whose nodes are recycled per thread: for tables with an entry
// per stream, filled and emptied with every RPC.
template <class K, class V, size_t kKeep = 256>
using RecyclingHashMap = std::unordered_map<K, V, std::hash<K>, std::equal_to<K>,
                                            RecyclingAllocator<std::pair<const K, V>, 1, kKeep>>;

}  // namespace switchyard::common
