#include "http2/frame_sink.h"

#include <cstring>

namespace switchyard::http2 {

void FrameSink::toBlock(uint8_t* block, size_t* used, size_t capacity, size_t high_water) {
  detach();
  block_ = block;
  used_ = used;
  capacity_ = capacity;
  high_water_ = high_water;
}

void FrameSink::toBuffer(evbuffer* out, size_t high_water) {
  detach();
  out_ = out;
  high_water_ = high_water;
}

void FrameSink::detach() {
  block_ = nullptr;
  used_ = nullptr;
  out_ = nullptr;
  slot_ = nullptr;
}

uint8_t* FrameSink::reserve(int32_t stream_id, size_t len) {
  slot_ = nullptr;
  const size_t need = kFrameHeader + len + kMaxPadding;
  if (block_ != nullptr) {
    if (*used_ >= high_water_ || capacity_ - *used_ < need) return nullptr;
    slot_ = block_ + *used_;
  } else if (out_ != nullptr) {
    if (evbuffer_get_length(out_) >= high_water_) return nullptr;
    // One vector: the space is contiguous.
    if (evbuffer_reserve_space(out_, static_cast<ev_ssize_t>(need), &iov_, 1) != 1 ||
        iov_.iov_len < need) {
      return nullptr;
    }
    slot_ = static_cast<uint8_t*>(iov_.iov_base);
  } else {
    return nullptr;
  }
  room_ = len;
  stream_id_ = stream_id;
  return slot_ + kFrameHeader;
}

bool FrameSink::commit(const nghttp2_frame* frame, const uint8_t* hd, size_t length) {
  uint8_t* slot = slot_;
  slot_ = nullptr;
  if (slot == nullptr || frame->hd.stream_id != stream_id_ || length > room_) return false;
  std::memcpy(slot, hd, kFrameHeader);
  size_t total = kFrameHeader + length;
  const size_t padlen = frame->data.padlen;  // the Pad Length field plus the padding
  if (padlen > 0) {
    if (padlen > kMaxPadding) return false;
    uint8_t* payload = slot + kFrameHeader;
    std::memmove(payload + 1, payload, length);
    payload[0] = static_cast<uint8_t>(padlen - 1);
    std::memset(payload + 1 + length, 0, padlen - 1);
    total += padlen;
  }
  if (block_ != nullptr) {
    *used_ += total;
  } else if (out_ != nullptr) {
    iov_.iov_len = total;
    if (evbuffer_commit_space(out_, &iov_, 1) != 0) return false;
  } else {
    return false;
  }
  return true;
}

}  // namespace switchyard::http2
