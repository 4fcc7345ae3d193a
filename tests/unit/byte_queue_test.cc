// ByteQueue: FIFO order across the inline bytes and the block chain,
// prepending (request replay), and no block held once the queue empties.
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

// Appends and takes of every size, across block boundaries and back to the
// inline bytes when the chain drains, must read as one unbroken stream.
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
  EXPECT_EQ(q.blocks(), 0u);
  // Usable again after its blocks went back.
  put(q, "again");
  EXPECT_EQ(take(q, 10), "again");
}

// A full DATA frame's worth of payload per block: a 64 KiB message sits in
// five blocks at most (one partly filled at each end), and every block goes
// back as soon as its last byte is read, so a queue that is read as fast as
// it is filled holds at most two.
TEST(ByteQueue, HoldsOnlyTheBlocksItsBytesNeed) {
  ByteQueue q;
  put(q, "hello");
  EXPECT_EQ(q.blocks(), 0u);  // inline
  put(q, pattern(64 * 1024, 1));
  EXPECT_LE(q.blocks(), 5u);
  EXPECT_GE(q.blocks(), 4u);
  EXPECT_EQ(take(q, 5 + 64 * 1024), "hello" + pattern(64 * 1024, 1));
  EXPECT_EQ(q.blocks(), 0u);

  std::string expected, got;
  for (size_t round = 0; round < 64; ++round) {
    std::string chunk = pattern(ByteQueue::kBlockBytes - 7 + round, round);
    put(q, chunk);
    expected += chunk;
    EXPECT_LE(q.blocks(), 2u) << round;
    got += take(q, q.size());
    EXPECT_EQ(q.blocks(), 0u) << round;
  }
  EXPECT_EQ(got, expected);
}

// Replay in front of a chain whose first block is partly read, from a
// queue that is itself a chain (a retried request larger than one block).
TEST(ByteQueue, PrependLinksChainsWithoutReordering) {
  ByteQueue q, sent;
  std::string tail = pattern(3 * ByteQueue::kBlockBytes + 11, 5);
  put(q, tail);
  EXPECT_EQ(take(q, 100), tail.substr(0, 100));
  std::string replay = pattern(2 * ByteQueue::kBlockBytes + 3, 6);
  put(sent, replay);
  q.prependFrom(sent);
  EXPECT_TRUE(sent.empty());
  EXPECT_EQ(sent.blocks(), 0u);
  EXPECT_EQ(q.size(), replay.size() + tail.size() - 100);
  put(q, "end");
  EXPECT_EQ(take(q, q.size()), replay + tail.substr(100) + "end");
  EXPECT_EQ(q.blocks(), 0u);

  // Small replay in front of a chain; chain in front of inline bytes.
  put(q, tail);
  put(sent, "ab");
  q.prependFrom(sent);
  EXPECT_EQ(take(q, q.size()), "ab" + tail);
  put(q, "xy");
  put(sent, replay);
  q.prependFrom(sent);
  EXPECT_EQ(take(q, q.size()), replay + "xy");
}

}  // namespace
}  // namespace switchyard::proxy
