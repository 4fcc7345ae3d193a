#include "proxy/byte_queue.h"

#include <algorithm>
#include <cstring>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

namespace switchyard::proxy {

struct ByteQueue::Block {
  Block* next = nullptr;
  uint32_t begin = 0;  // first unread byte
  uint32_t end = 0;    // one past the last written byte
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
  b->begin = b->end = 0;
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
    if (inline_end_ + len <= kInline) {
      std::memcpy(inline_ + inline_end_, data, len);
      inline_end_ += static_cast<uint32_t>(len);
      size_ += len;
      return;
    }
    if (size_ + len <= kInline) {
      std::memmove(inline_, inline_ + inline_begin_, size_);
      inline_begin_ = 0;
      inline_end_ = static_cast<uint32_t>(size_);
      std::memcpy(inline_ + inline_end_, data, len);
      inline_end_ += static_cast<uint32_t>(len);
      size_ += len;
      return;
    }
    spillInline();
  }
  size_ += len;
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
    size_t n = std::min(len, kBlockBytes - tail_->end);
    std::memcpy(tail_->data + tail_->end, data, n);
    tail_->end += static_cast<uint32_t>(n);
    data += n;
    len -= n;
  }
}

void ByteQueue::spillInline() {
  if (head_ != nullptr || inline_begin_ == inline_end_) {
    inline_begin_ = inline_end_ = 0;
    return;
  }
  Block* b = newBlock();
  size_t n = inline_end_ - inline_begin_;
  std::memcpy(b->data, inline_ + inline_begin_, n);
  b->end = static_cast<uint32_t>(n);
  head_ = tail_ = b;
  inline_begin_ = inline_end_ = 0;
}

void ByteQueue::prependFrom(ByteQueue& other) {
  if (other.empty()) return;
  if (head_ == nullptr && other.head_ == nullptr && size_ + other.size_ <= kInline) {
    // Both inline and small: shift ours up, put theirs in front.
    uint8_t joined[kInline];
    size_t theirs = other.size_;
    std::memcpy(joined, other.inline_ + other.inline_begin_, theirs);
    std::memcpy(joined + theirs, inline_ + inline_begin_, size_);
    size_ += theirs;
    std::memcpy(inline_, joined, size_);
    inline_begin_ = 0;
    inline_end_ = static_cast<uint32_t>(size_);
    other.clear();
    return;
  }
  spillInline();
  other.spillInline();
  // Link other's chain in front of ours; no byte moves.
  other.tail_->next = head_;
  if (tail_ == nullptr) tail_ = other.tail_;
  head_ = other.head_;
  size_ += other.size_;
  other.head_ = other.tail_ = nullptr;
  other.size_ = 0;
}

size_t ByteQueue::take(uint8_t* out, size_t len) {
  size_t n = std::min(len, size_);
  if (n == 0) return 0;
  size_ -= n;
  if (head_ == nullptr) {
    std::memcpy(out, inline_ + inline_begin_, n);
    inline_begin_ += static_cast<uint32_t>(n);
    if (inline_begin_ == inline_end_) inline_begin_ = inline_end_ = 0;
    return n;
  }
  size_t left = n;
  while (left > 0) {
    size_t chunk = std::min<size_t>(left, head_->end - head_->begin);
    std::memcpy(out, head_->data + head_->begin, chunk);
    head_->begin += static_cast<uint32_t>(chunk);
    out += chunk;
    left -= chunk;
    if (head_->begin == head_->end) {
      Block* done = head_;
      head_ = done->next;
      if (head_ == nullptr) tail_ = nullptr;
      releaseBlock(done);
    }
  }
  return n;
}

size_t ByteQueue::clear() {
  size_t n = size_;
  while (head_ != nullptr) {
    Block* done = head_;
    head_ = done->next;
    releaseBlock(done);
  }
  tail_ = nullptr;
  size_ = 0;
  inline_begin_ = inline_end_ = 0;
  return n;
}

size_t ByteQueue::blocks() const {
  size_t n = 0;
  for (const Block* b = head_; b != nullptr; b = b->next) ++n;
  return n;
}

}  // namespace switchyard::proxy
