#include "proxy/byte_queue.h"

#include <algorithm>
#include <cstring>

namespace switchyard::proxy {

void ByteQueue::append(const uint8_t* data, size_t len) {
  if (len == 0) return;
  if (capacity_ - end_ < len) reshape(0, len);
  std::memcpy(block() + end_, data, len);
  end_ += len;
}

void ByteQueue::prependFrom(ByteQueue& other) {
  size_t n = other.size();
  if (n == 0) return;
  if (begin_ < n) reshape(n, 0);
  begin_ -= n;
  std::memcpy(block() + begin_, other.block() + other.begin_, n);
  other.clear();
}

size_t ByteQueue::take(uint8_t* out, size_t len) {
  size_t n = std::min(len, size());
  if (n == 0) return 0;
  std::memcpy(out, block() + begin_, n);
  begin_ += n;
  releaseIfEmpty();
  return n;
}

size_t ByteQueue::clear() {
  size_t n = size();
  begin_ = end_;
  releaseIfEmpty();
  return n;
}

void ByteQueue::reshape(size_t front, size_t extra) {
  size_t held = size();
  size_t need = front + held + extra;
  if (need <= capacity_) {
    // Room enough once the bytes move: slide them to `front`.
    std::memmove(block() + front, block() + begin_, held);
  } else {
    size_t capacity = std::max(need, capacity_ * 2);
    std::unique_ptr<uint8_t[]> grown(new uint8_t[capacity]);
    std::memcpy(grown.get() + front, block() + begin_, held);
    heap_ = std::move(grown);
    capacity_ = capacity;
  }
  begin_ = front;
  end_ = front + held;
}

void ByteQueue::releaseIfEmpty() {
  if (begin_ != end_) return;
  begin_ = end_ = 0;
  if (heap_ && capacity_ > kKeep) {
    heap_.reset();
    capacity_ = kInline;
  }
}

}  // namespace switchyard::proxy
