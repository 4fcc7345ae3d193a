// FrameSink: where Connection::flush() is putting the frames nghttp2 makes,
// so a DATA frame's payload can be read straight into it instead of into
// nghttp2's frame buffer first (NGHTTP2_DATA_FLAG_NO_COPY).
//
// The sink is either the per-thread staging block (plain sockets, written with
// one write()) or an evbuffer (TLS, in-memory pairs, or output left over).
// For one DATA frame nghttp2 calls the data provider, then at once, within the
// same nghttp2_session_mem_send call and before it returns any later frame,
// the send_data callback (nghttp2 1.52 lib/nghttp2_session.c,
// NGHTTP2_OB_SEND_NO_COPY). So:
//   reserve(stream, len)  at the provider: room for the frame header, the
//                         payload and the largest padding, at the sink's end;
//                         the provider writes the payload at the returned
//                         pointer (nullptr: no room, or no flush under way ->
//                         the provider fills nghttp2's buffer as before);
//   commit(frame, hd, n)  at send_data: writes the 9-byte header in front of
//                         the payload (and padding, if nghttp2 asks for it),
//                         and appends the frame to the sink.
// Nothing else is appended between the two, so frame order stays exactly as
// nghttp2 emits it. A reservation nghttp2 does not send (an empty DATA it
// cancels, a stream closed meanwhile) is dropped by the next reserve() or
// by detach().
#pragma once

#include <event2/buffer.h>
#include <nghttp2/nghttp2.h>

#include <cstddef>
#include <cstdint>

namespace switchyard::http2 {

class FrameSink {
 public:
  static constexpr size_t kFrameHeader = 9;
  // Padding field plus the most padding a frame can carry (RFC 9113 6.1).
  static constexpr size_t kMaxPadding = 256;

  // Frames go to block[*used..capacity); no payload is reserved once *used
  // reached high_water (the caller stops there too).
  void toBlock(uint8_t* block, size_t* used, size_t capacity, size_t high_water);
  // Frames go to the end of `out`; no payload is reserved once it holds high_water.
  void toBuffer(evbuffer* out, size_t high_water);
  // No flush under way: reserve() returns nullptr.
  void detach();

  // Room for a DATA frame of up to `len` payload bytes on `stream_id`; returns
  // where the payload goes, or nullptr.
  uint8_t* reserve(int32_t stream_id, size_t len);
  // The reserved frame is being sent: `hd` is its 9-byte header, `length` its
  // payload (without padding). False if it does not match the reservation
  // (then nothing is appended and the connection must fail).
  bool commit(const nghttp2_frame* frame, const uint8_t* hd, size_t length);

 private:
  uint8_t* block_ = nullptr;
  size_t* used_ = nullptr;
  size_t capacity_ = 0;
  evbuffer* out_ = nullptr;
  size_t high_water_ = 0;
  // The open reservation: its frame start, room for the payload, stream.
  uint8_t* slot_ = nullptr;
  size_t room_ = 0;
  int32_t stream_id_ = 0;
  evbuffer_iovec iov_{};
};

}  // namespace switchyard::http2
