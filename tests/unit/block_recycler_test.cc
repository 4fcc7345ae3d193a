// BlockRecycler: released blocks come back on the same thread, no more than
// kKeep are kept, and a kept block is poisoned under AddressSanitizer.
#include "common/block_recycler.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace switchyard::common {
namespace {

// Each test its own block size, so the per-thread stacks do not mix.
TEST(BlockRecycler, TheLastReleasedBlockComesBackFirst) {
  using Blocks = BlockRecycler<96, 4>;
  void* a = Blocks::allocate();
  void* b = Blocks::allocate();
  ASSERT_NE(a, b);
  Blocks::release(a);
  Blocks::release(b);
  EXPECT_EQ(Blocks::kept(), 2u);
  EXPECT_EQ(Blocks::allocate(), b);
  EXPECT_EQ(Blocks::allocate(), a);
  EXPECT_EQ(Blocks::kept(), 0u);
  Blocks::release(a);
  Blocks::release(b);
}

TEST(BlockRecycler, KeepsNoMoreThanItsLimit) {
  using Blocks = BlockRecycler<112, 2>;
  std::vector<void*> blocks;
  for (int i = 0; i < 5; ++i) blocks.push_back(Blocks::allocate());
  for (void* b : blocks) Blocks::release(b);  // three of them go to operator delete
  EXPECT_EQ(Blocks::kept(), 2u);
  Blocks::release(nullptr);
  EXPECT_EQ(Blocks::kept(), 2u);
}

TEST(BlockRecycler, EachThreadKeepsWhatItReleased) {
  using Blocks = BlockRecycler<128, 4>;
  void* mine = Blocks::allocate();
  void* theirs = Blocks::allocate();
  std::thread other([&] {
    Blocks::release(theirs);
    EXPECT_EQ(Blocks::kept(), 1u);
    EXPECT_EQ(Blocks::allocate(), theirs);
    Blocks::release(theirs);
  });  // the thread's stack frees what it kept as the thread ends
  other.join();
  EXPECT_EQ(Blocks::kept(), 0u);
  Blocks::release(mine);
  EXPECT_EQ(Blocks::kept(), 1u);
}

#if defined(__SANITIZE_ADDRESS__)
TEST(BlockRecycler, AKeptBlockIsPoisoned) {
  using Blocks = BlockRecycler<144, 4>;
  auto* block = static_cast<char*>(Blocks::allocate());
  EXPECT_FALSE(__asan_address_is_poisoned(block + 100));
  Blocks::release(block);
  EXPECT_TRUE(__asan_address_is_poisoned(block));
  EXPECT_TRUE(__asan_address_is_poisoned(block + 143));
  EXPECT_EQ(Blocks::allocate(), block);
  EXPECT_FALSE(__asan_address_is_poisoned(block + 143));
  Blocks::release(block);
}
#endif

}  // namespace
}  // namespace switchyard::common
