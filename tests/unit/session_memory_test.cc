// The pooled nghttp2_mem: blocks are reused per class, realloc keeps the
// bytes, calloc zeroes, large blocks bypass the pool, and what a thread keeps
// free is capped.
#include "http2/session_memory.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

namespace switchyard::http2 {
namespace {

void* alloc(size_t n) { return sessionMemory()->malloc(n, nullptr); }
void release(void* p) { sessionMemory()->free(p, nullptr); }

TEST(SessionMemory, FreedBlocksAreReusedForTheSameClass) {
  void* a = alloc(40);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 16, 0u);
  std::memset(a, 0xab, 40);
  size_t before = retainedSessionBytes();
  release(a);
  EXPECT_EQ(retainedSessionBytes(), before + 64);
  void* b = alloc(33);  // same class (up to 48 bytes)
  EXPECT_EQ(b, a);
  EXPECT_EQ(retainedSessionBytes(), before);
  release(b);
  release(nullptr);
}

TEST(SessionMemory, ReallocKeepsTheBytesAcrossClassesAndBeyondThePool) {
  auto* p = static_cast<uint8_t*>(alloc(10));
  for (int i = 0; i < 10; ++i) p[i] = static_cast<uint8_t>(i);
  p = static_cast<uint8_t*>(sessionMemory()->realloc(p, 20, nullptr));  // same block
  p = static_cast<uint8_t*>(sessionMemory()->realloc(p, 1000, nullptr));
  for (int i = 0; i < 10; ++i) ASSERT_EQ(p[i], i);
  p[999] = 7;
  p = static_cast<uint8_t*>(sessionMemory()->realloc(p, 100000, nullptr));  // unpooled
  for (int i = 0; i < 10; ++i) ASSERT_EQ(p[i], i);
  EXPECT_EQ(p[999], 7);
  p = static_cast<uint8_t*>(sessionMemory()->realloc(p, 200000, nullptr));
  EXPECT_EQ(p[999], 7);
  EXPECT_EQ(sessionMemory()->realloc(p, 0, nullptr), nullptr);
  void* fresh = sessionMemory()->realloc(nullptr, 30, nullptr);
  ASSERT_NE(fresh, nullptr);
  release(fresh);
}

TEST(SessionMemory, CallocZeroesAReusedBlock) {
  void* a = alloc(200);
  std::memset(a, 0xff, 200);
  release(a);
  auto* z = static_cast<uint8_t*>(sessionMemory()->calloc(50, 4, nullptr));
  for (int i = 0; i < 200; ++i) ASSERT_EQ(z[i], 0) << i;
  release(z);
  EXPECT_EQ(sessionMemory()->calloc(SIZE_MAX / 2, 4, nullptr), nullptr);  // overflow
}

TEST(SessionMemory, AThreadKeepsAtMostTheCap) {
  std::thread t([] {
    std::vector<void*> blocks;
    for (int i = 0; i < 1000; ++i) blocks.push_back(alloc(1000));
    for (void* b : blocks) release(b);
    EXPECT_LE(retainedSessionBytes(), kMaxRetainedBytes);
    EXPECT_GT(retainedSessionBytes(), kMaxRetainedBytes / 2);
    void* big = alloc(1 << 20);  // past the largest class: not pooled
    size_t before = retainedSessionBytes();
    release(big);
    EXPECT_EQ(retainedSessionBytes(), before);
  });
  t.join();
}

// What nghttp2 allocates once per connection (the two HPACK ring buffers,
// 1,024 B each, and larger tables) is past the largest class and goes to
// malloc as asked, so an idle connection does not carry blocks rounded up to
// the next power of two.
TEST(SessionMemory, BlocksPastTheLargestClassAreNotRoundedUp) {
  void* small = alloc(1008);  // the largest class's 1,024-byte block
  size_t before = retainedSessionBytes();
  release(small);
  EXPECT_EQ(retainedSessionBytes(), before + 1024);
  void* table = alloc(1024);
  before = retainedSessionBytes();
  release(table);
  EXPECT_EQ(retainedSessionBytes(), before);
}

// A block freed on another thread joins that thread's lists.
TEST(SessionMemory, FreeingOnAnotherThreadIsSafe) {
  void* a = alloc(500);
  std::thread t([a] { release(a); });
  t.join();
  void* b = alloc(500);
  release(b);
}

}  // namespace
}  // namespace switchyard::http2
