// ByteQueue: a FIFO of bytes an RPC holds between its two streams. The bytes
// live in one contiguous block: inline in the object up to kInline bytes (a
// small unary message never touches the heap), on the heap beyond that. Taking
// from the front only moves a read offset; appending compacts or grows the
// block. Flow control bounds what one queue can hold (a stream's window), so
// the block never grows past that; a heap block larger than kKeep is released
// whenever the queue empties, so an idle long-lived stream holds no more than
// that.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace switchyard::proxy {

class ByteQueue {
 public:
  static constexpr size_t kInline = 64;
  static constexpr size_t kKeep = 64 * 1024;

  ByteQueue() = default;
  ByteQueue(const ByteQueue&) = delete;
  ByteQueue& operator=(const ByteQueue&) = delete;

  size_t size() const { return end_ - begin_; }
  bool empty() const { return end_ == begin_; }

  void append(const uint8_t* data, size_t len);
  // Puts `other`'s bytes in front of this queue's and empties `other`.
  void prependFrom(ByteQueue& other);
  // Copies up to `len` bytes from the front into `out` and drops them; returns how many.
  size_t take(uint8_t* out, size_t len);
  // Drops every byte; returns how many there were.
  size_t clear();

 private:
  uint8_t* block() { return heap_ ? heap_.get() : inline_; }
  // Makes room for `extra` more bytes after the current ones, with `front`
  // free bytes before them (which the caller then fills).
  void reshape(size_t front, size_t extra);
  void releaseIfEmpty();

  std::unique_ptr<uint8_t[]> heap_;
  size_t capacity_ = kInline;
  size_t begin_ = 0;
  size_t end_ = 0;
  uint8_t inline_[kInline];
};

}  // namespace switchyard::proxy
