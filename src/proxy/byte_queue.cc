#include "proxy/byte_queue.h"

#include <algorithm>
#include <cstring>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

namespace switchyard::proxy {

// Held bytes are [begin, end): kept ones [begin, read), unread ones [read, end).
struct ByteQueue::Block {
  Block* next = nullptr;
  uint32_t begin = 0;
  uint32_t read = 0;
  uint32_t end = 0;
  uint8_t data[kBlockBytes];
};

namespace {

using Block = ByteQueue::Block;

struct BlockPool {
  Block* head = nullptr;
  size_t count = 0;
  ~BlockPool();
};

// Trivially destructible, so it can be read after the thread's pool is gone
// (a queue destroyed during thread or process exit then uses delete).
thread_local bool t_pool_gone = false;
thread_local BlockPool t_pool;

// Under AddressSanitizer a pooled block's bytes are poisoned, so a read of a
// block already handed back is reported as it would be for freed memory.
void poison(Block* b) {
#if defined(__SANITIZE_ADDRESS__)
  ASAN_POISON_MEMORY_REGION(b->data, sizeof b->data);
#else
  (void)b;
#endif
}

void unpoison(Block* b) {
#if defined(__SANITIZE_ADDRESS__)
  ASAN_UNPOISON_MEMORY_REGION(b->data, sizeof b->data);
#else
  (void)b;
#endif
}

BlockPool::~BlockPool() {
  t_pool_gone = true;
  while (head != nullptr) {
    Block* next = head->next;
    unpoison(head);
    delete head;
    head = next;
  }
  count = 0;
}

Block* newBlock() {
  Block* b = nullptr;
  if (!t_pool_gone && t_pool.head != nullptr) {
    b = t_pool.head;
    t_pool.head = b->next;
    --t_pool.count;
    unpoison(b);
  } else {
    b = new Block;
  }
  b->next = nullptr;
  b->begin = b->read = b->end = 0;
  return b;
}

void releaseBlock(Block* b) {
  if (t_pool_gone || t_pool.count >= ByteQueue::kPooledBlocks) {
    delete b;
    return;
  }
  poison(b);
  b->next = t_pool.head;
  t_pool.head = b;
  ++t_pool.count;
}

}  // namespace

ByteQueue::~ByteQueue() { clear(); }

void ByteQueue::append(const uint8_t* data, size_t len) {
  if (len == 0) return;
  if (head_ == nullptr) {
    size_t held = inline_end_ - inline_begin_;
    if (inline_begin_ > 0 && held + len <= kInline) {
      // Slide the held bytes to the start to make room.
      std::memmove(inline_, inline_ + inline_begin_, held);
      inline_read_ -= inline_begin_;
      inline_begin_ = 0;
      inline_end_ = static_cast<uint32_t>(held);
    }
    if (inline_end_ + len <= kInline) {
      std::memcpy(inline_ + inline_end_, data, len);
      inline_end_ += static_cast<uint32_t>(len);
      size_ += len;
      return;
    }
    spillInline();
  }
  size_ += len;
  Block* first_written = nullptr;
  while (len > 0) {
    if (tail_ == nullptr || tail_->end == kBlockBytes) {
      Block* b = newBlock();
      if (tail_ == nullptr) {
        head_ = b;
      } else {
        tail_->next = b;
      }
      tail_ = b;
    }
    if (first_written == nullptr) first_written = tail_;
    size_t n = std::min(len, kBlockBytes - tail_->end);
    std::memcpy(tail_->data + tail_->end, data, n);
    tail_->end += static_cast<uint32_t>(n);
    data += n;
    len -= n;
  }
  if (cursor_ == nullptr) cursor_ = first_written;
}

void ByteQueue::spillInline() {
  if (inline_begin_ == inline_end_) {
    inline_begin_ = inline_read_ = inline_end_ = 0;
    return;
  }
  Block* b = newBlock();
  size_t held = inline_end_ - inline_begin_;
  std::memcpy(b->data, inline_ + inline_begin_, held);
  b->read = inline_read_ - inline_begin_;
  b->end = static_cast<uint32_t>(held);
  head_ = tail_ = b;
  cursor_ = b->read < b->end ? b : nullptr;
  inline_begin_ = inline_read_ = inline_end_ = 0;
}

size_t ByteQueue::take(uint8_t* out, size_t len) {
  size_t n = std::min(len, size_);
  if (n == 0) return 0;
  size_ -= n;
  if (keeping_) kept_ += n;
  if (head_ == nullptr) {
    std::memcpy(out, inline_ + inline_read_, n);
    inline_read_ += static_cast<uint32_t>(n);
    if (!keeping_) inline_begin_ = inline_read_;
    if (inline_begin_ == inline_end_) inline_begin_ = inline_read_ = inline_end_ = 0;
    return n;
  }
  size_t left = n;
  while (left > 0) {
    Block* c = cursor_;
    size_t chunk = std::min<size_t>(left, c->end - c->read);
    std::memcpy(out, c->data + c->read, chunk);
    c->read += static_cast<uint32_t>(chunk);
    if (!keeping_) c->begin = c->read;
    out += chunk;
    left -= chunk;
    if (c->read == c->end) cursor_ = c->next;
  }
  releaseRead();
  return n;
}

void ByteQueue::releaseRead() {
  // Blocks wholly read and holding nothing kept lead the chain only when not
  // keeping (or right after the kept bytes were dropped).
  while (head_ != nullptr && head_ != cursor_ && head_->begin == head_->end) {
    Block* done = head_;
    head_ = done->next;
    releaseBlock(done);
  }
  if (head_ == nullptr) tail_ = cursor_ = nullptr;
}

size_t ByteQueue::rewind() {
  size_t n = kept_;
  if (n == 0) return 0;
  kept_ = 0;
  size_ += n;
  if (head_ == nullptr) {
    inline_read_ = inline_begin_;
    return n;
  }
  for (Block* b = head_; b != nullptr; b = b->next) {
    b->read = b->begin;
    if (b == cursor_) break;
  }
  cursor_ = head_;
  return n;
}

void ByteQueue::dropKept() {
  keeping_ = false;
  if (kept_ == 0) return;
  kept_ = 0;
  if (head_ == nullptr) {
    inline_begin_ = inline_read_;
    if (inline_begin_ == inline_end_) inline_begin_ = inline_read_ = inline_end_ = 0;
    return;
  }
  for (Block* b = head_; b != nullptr; b = b->next) {
    b->begin = b->read;
    if (b == cursor_) break;
  }
  releaseRead();
}

size_t ByteQueue::clear() {
  size_t n = size_;
  while (head_ != nullptr) {
    Block* done = head_;
    head_ = done->next;
    releaseBlock(done);
  }
  tail_ = cursor_ = nullptr;
  size_ = 0;
  kept_ = 0;
  inline_begin_ = inline_read_ = inline_end_ = 0;
  return n;
}

size_t ByteQueue::blocks() const {
  size_t n = 0;
  for (const Block* b = head_; b != nullptr; b = b->next) ++n;
  return n;
}

}  // namespace switchyard::proxy
