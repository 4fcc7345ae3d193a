// ByteQueue: a FIFO of bytes an RPC holds between its two streams. Up to
// kInline bytes live inline in the object (a small unary message never
// touches the heap); beyond that the bytes live in a chain of fixed-size
// blocks. Appending fills the last block and links new ones; taking from the
// front unlinks drained blocks. Bytes already queued never move, so a 64 KiB
// message is copied once in and once out, whatever the mix of frame sizes.
// Blocks come from and go back to a small per-thread free list (no malloc per
// message, no memory bound to an idle stream: an empty queue holds no block).
// Flow control bounds what one queue can hold (a stream's window).
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

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  void append(const uint8_t* data, size_t len);
  // Puts `other`'s bytes in front of this queue's and empties `other`.
  void prependFrom(ByteQueue& other);
  // Copies up to `len` bytes from the front into `out` and drops them; returns how many.
  size_t take(uint8_t* out, size_t len);
  // Drops every byte; returns how many there were.
  size_t clear();

  // Blocks this queue holds (for tests of the memory bound).
  size_t blocks() const;

  struct Block;  // one link of the chain (byte_queue.cc)

 private:
  // Moves the inline bytes into a block chain of their own, so appends and
  // prepends deal with blocks only.
  void spillInline();

  Block* head_ = nullptr;  // null: the bytes, if any, are inline
  Block* tail_ = nullptr;
  size_t size_ = 0;
  uint32_t inline_begin_ = 0;
  uint32_t inline_end_ = 0;
  uint8_t inline_[kInline];
};

}  // namespace switchyard::proxy
