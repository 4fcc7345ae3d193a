// ByteQueue: a FIFO of bytes an RPC holds between its two streams. Up to
// kInline bytes live inline in the object (a small unary message never
// touches the heap); beyond that the bytes live in a chain of fixed-size
// blocks. Appending fills the last block and links new ones; taking from the
// front unlinks drained blocks. Bytes already queued never move, so a 64 KiB
// message is copied once in and once out, whatever the mix of frame sizes.
// Blocks come from and go back to a small per-thread free list (no malloc per
// message, no memory bound to an idle stream: an empty queue holds no block).
// Flow control bounds what one queue can hold (a stream's window).
//
// A queue can also keep what it hands out, for a request that may be sent
// again: while keeping, taken bytes stay behind the read position (kept(),
// not size()) until rewind() makes them readable again, in front, or
// dropKept() lets them go. The replay costs no copy of its own.
#pragma once

#include <cstddef>
#include <cstdint>

namespace switchyard::proxy {

class ByteQueue {
 public:
  static constexpr size_t kInline = 64;
  // Payload bytes per block: one full HTTP/2 DATA frame at the default size.
  static constexpr size_t kBlockBytes = 16 * 1024;
  // Free blocks a thread keeps for reuse; the rest go back to malloc.
  static constexpr size_t kPooledBlocks = 32;

  ByteQueue() = default;
  ~ByteQueue();
  ByteQueue(const ByteQueue&) = delete;
  ByteQueue& operator=(const ByteQueue&) = delete;

  // Bytes not yet taken.
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  void append(const uint8_t* data, size_t len);
  // Copies up to `len` bytes from the front into `out` and drops them (or,
  // while keeping, moves them behind the read position); returns how many.
  size_t take(uint8_t* out, size_t len);
  // Drops every byte, kept ones included; returns how many had not been taken.
  size_t clear();

  // --- keeping taken bytes for a replay
  // From now on taken bytes are kept until rewind() or dropKept().
  void keepTaken() { keeping_ = true; }
  bool keeping() const { return keeping_; }
  // Bytes taken and kept.
  size_t kept() const { return kept_; }
  // Every kept byte becomes readable again, in front of the rest (they stay
  // kept once taken again while keeping); returns how many.
  size_t rewind();
  // Lets the kept bytes go and stops keeping.
  void dropKept();

  // Blocks this queue holds (for tests of the memory bound).
  size_t blocks() const;

  struct Block;  // one link of the chain (byte_queue.cc)

 private:
  // Moves the inline bytes into a block of their own, so the rest deals
  // with blocks only.
  void spillInline();
  // Gives back the blocks before the read position that hold no kept byte.
  void releaseRead();

  Block* head_ = nullptr;    // null: the bytes, if any, are inline
  Block* tail_ = nullptr;
  Block* cursor_ = nullptr;  // first block with unread bytes; null when all are read
  size_t size_ = 0;
  size_t kept_ = 0;
  bool keeping_ = false;
  // Inline: held bytes are [begin, end), unread ones [read, end).
  uint32_t inline_begin_ = 0;
  uint32_t inline_read_ = 0;
  uint32_t inline_end_ = 0;
  uint8_t inline_[kInline];
};

}  // namespace switchyard::proxy
