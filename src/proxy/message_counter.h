// MessageCounter: counts gRPC length-prefixed messages in a byte stream whose
// DATA frame boundaries have nothing to do with message boundaries (gRPC
// spec: 1-byte flag, 4-byte big-endian length, payload). O(1) per chunk when
// a chunk lies inside a message; no buffering. Also spots a message whose
// declared length is over a limit as soon as its prefix is complete, a
// compressed flag, and a stream that stops inside a message.
#pragma once

#include <cstddef>
#include <cstdint>

namespace switchyard::proxy {

class MessageCounter {
 public:
  void feed(const uint8_t* data, size_t len) {
    while (len > 0 && oversized_ == 0) {
      if (remaining_ > 0) {
        size_t take = len < remaining_ ? len : static_cast<size_t>(remaining_);
        remaining_ -= take;
        data += take;
        len -= take;
        continue;
      }
      if (header_pos_ == 0 && len >= 5) {
        // A whole prefix in this chunk (the common case): read it at once.
        if ((data[0] & 0x01) != 0) compressed_ = true;
        length_ = (uint32_t{data[1]} << 24) | (uint32_t{data[2]} << 16) |
                  (uint32_t{data[3]} << 8) | uint32_t{data[4]};
        data += 5;
        len -= 5;
        header_pos_ = 5;
        if (!startMessage()) return;
        continue;
      }
      // A prefix split over chunks: the flag byte, then the length.
      if (header_pos_ == 0 && (*data & 0x01) != 0) compressed_ = true;
      if (header_pos_ >= 1) length_ = (length_ << 8) | *data;
      ++data;
      --len;
      if (++header_pos_ == 5 && !startMessage()) return;
    }
  }
  uint64_t messages() const { return messages_; }
  // The bytes so far end inside a message (its prefix or its payload): a
  // stream that ends here ends with a truncated message.
  bool partial() const { return header_pos_ != 0 || remaining_ != 0; }
  // A message with the compressed flag set has been seen.
  bool compressed() const { return compressed_; }
  // Messages whose prefix declares more than `max` bytes are refused (0 = no limit).
  void setLimit(uint64_t max) { limit_ = max; }
  // The declared length of the first message over the limit; 0 while none.
  uint64_t oversized() const { return oversized_; }

 private:
  // The prefix of a message declaring length_ bytes is complete; false when
  // that is over the limit (nothing after it is counted).
  bool startMessage() {
    if (limit_ != 0 && length_ > limit_) {
      oversized_ = length_;
      return false;
    }
    ++messages_;
    remaining_ = length_;
    header_pos_ = 0;
    length_ = 0;
    return true;
  }

  uint64_t remaining_ = 0;
  uint32_t length_ = 0;
  int header_pos_ = 0;
  uint64_t messages_ = 0;
  uint64_t limit_ = 0;
  uint64_t oversized_ = 0;
  bool compressed_ = false;
};

// One direction of an RPC's traffic, for its metrics and access-log line.
struct Traffic {
  void feed(const uint8_t* data, size_t len) {
    bytes += len;
    messages.feed(data, len);
  }
  uint64_t bytes = 0;
  MessageCounter messages;
};

}  // namespace switchyard::proxy
