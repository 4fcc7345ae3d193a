// BlockRecycler: released blocks come back on the same thread, no more than
// kKeep are kept, and a kept block is poisoned under AddressSanitizer.
#include "common/block_recycler.h"

#include <gtest/gtest.h>

#include <string>
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

// The allocator recycles only allocations of its count; others go to
// std::allocator and are never kept.
TEST(RecyclingAllocator, RecyclesOnlyItsOwnSize) {
  using Alloc = RecyclingAllocator<std::string, 3, 8>;
  Alloc alloc;
  std::string* three = alloc.allocate(3);
  std::string* five = alloc.allocate(5);
  alloc.deallocate(five, 5);
  EXPECT_EQ(Alloc::Blocks::kept(), 0u);
  alloc.deallocate(three, 3);
  EXPECT_EQ(Alloc::Blocks::kept(), 1u);
  EXPECT_EQ(alloc.allocate(3), three);
  alloc.deallocate(three, 3);
}

// A stream table's erased entry leaves its node for the next stream.
TEST(RecyclingHashMap, AnErasedEntrysNodeServesTheNextInsert) {
  RecyclingHashMap<int, double, 16> table;
  using Node = std::__detail::_Hash_node<std::pair<const int, double>, false>;
  using Nodes = RecyclingAllocator<Node, 1, 16>::Blocks;
  table[1] = 1.5;
  table[3] = 2.5;
  const double* first = &table[1];
  const size_t kept = Nodes::kept();
  table.erase(1);
  EXPECT_EQ(Nodes::kept(), kept + 1);
  table[5] = 3.5;
  EXPECT_EQ(Nodes::kept(), kept);
  EXPECT_EQ(&table[5], first);  // the same node, so the same place for its value
  EXPECT_EQ(table.at(3), 2.5);
  EXPECT_EQ(table.size(), 2u);
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
