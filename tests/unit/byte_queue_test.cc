// ByteQueue: FIFO order across the inline block and the heap, prepending
// (request replay), and release of a large block once the queue empties.
#include "proxy/byte_queue.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchyard::proxy {
namespace {

void put(ByteQueue& q, const std::string& s) {
  q.append(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

std::string take(ByteQueue& q, size_t n) {
  std::string s(n, '\0');
  s.resize(q.take(reinterpret_cast<uint8_t*>(s.data()), n));
  return s;
}

std::string pattern(size_t n, size_t seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + seed) % 26);
  return s;
}

TEST(ByteQueue, KeepsOrderWithinTheInlineBlock) {
  ByteQueue q;
  EXPECT_TRUE(q.empty());
  put(q, "hello ");
  put(q, "world");
  EXPECT_EQ(q.size(), 11u);
  EXPECT_EQ(take(q, 3), "hel");
  EXPECT_EQ(take(q, 100), "lo world");
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(take(q, 5), "");
}

// Appends that do not fit slide the unread bytes forward or move them to a
// larger block; reads in between must see one unbroken stream.
TEST(ByteQueue, InterleavedAppendsAndTakesAcrossGrowth) {
  ByteQueue q;
  std::string expected, got;
  for (size_t round = 0; round < 200; ++round) {
    std::string chunk = pattern(1 + (round * 37) % 3000, round);
    put(q, chunk);
    expected += chunk;
    got += take(q, (round * 53) % 2500);
    ASSERT_EQ(q.size(), expected.size() - got.size()) << round;
  }
  got += take(q, q.size());
  EXPECT_EQ(got, expected);
  EXPECT_TRUE(q.empty());
}

TEST(ByteQueue, PrependPutsTheOtherQueueInFront) {
  ByteQueue q, sent;
  put(q, "fg");
  put(sent, "abcde");
  q.prependFrom(sent);
  EXPECT_TRUE(sent.empty());
  EXPECT_EQ(q.size(), 7u);
  EXPECT_EQ(take(q, 7), "abcdefg");

  // In front of bytes partly read already, and larger than the inline block.
  put(q, "0123456789");
  EXPECT_EQ(take(q, 4), "0123");
  std::string big = pattern(5000, 3);
  put(sent, big);
  q.prependFrom(sent);
  EXPECT_EQ(take(q, q.size()), big + "456789");

  ByteQueue none;
  put(q, "x");
  q.prependFrom(none);
  EXPECT_EQ(take(q, 10), "x");
}

TEST(ByteQueue, ClearReturnsWhatWasDropped) {
  ByteQueue q;
  put(q, pattern(100000, 1));
  EXPECT_EQ(take(q, 10).size(), 10u);
  EXPECT_EQ(q.clear(), 99990u);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.clear(), 0u);
  // Usable again after its large block was released.
  put(q, "again");
  EXPECT_EQ(take(q, 10), "again");
}

}  // namespace
}  // namespace switchyard::proxy
