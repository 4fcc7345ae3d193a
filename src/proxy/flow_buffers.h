// FlowBuffers: the bytes an RPC holds between its two streams, and the
// window bookkeeping that makes flow control end to end. Bytes a side sends
// are buffered here; the caller reopens that side's window (consume) only by
// the counts these functions return, i.e. once the other side has taken the
// bytes. Request bytes replayed for a retry were paid for when first received,
// so taking them again opens nothing. No I/O: the Rpc does the consuming.
#pragma once

#include <cstddef>
#include <cstdint>

#include "proxy/byte_queue.h"

namespace switchyard::proxy {

class FlowBuffers {
 public:
  // --- request: client -> backend
  void addRequest(const uint8_t* data, size_t len) { req_.append(data, len); }
  // Moves up to `len` queued request bytes into `buf`; returns how many.
  // `*to_consume` gets how many of them the client's window has not yet
  // been reopened for.
  size_t takeRequest(uint8_t* buf, size_t len, size_t* to_consume);
  bool requestEmpty() const { return req_.empty(); }
  // Puts bytes sent by an earlier attempt back in front of the queue (see RetryState).
  ByteQueue& requestQueue() { return req_; }
  void requeued(size_t n) { resend_pending_ += n; }
  // Drops every queued request byte; returns how many the client's window still owes.
  size_t discardRequest();

  // --- response: backend -> client
  void addResponse(const uint8_t* data, size_t len) { resp_.append(data, len); }
  // Moves up to `len` response bytes into `buf`; returns how many (the
  // backend's window may be reopened by as many).
  size_t takeResponse(uint8_t* buf, size_t len);
  size_t responsePending() const { return resp_.size(); }
  // Drops the buffered response; returns how many bytes were dropped.
  size_t discardResponse();

 private:
  ByteQueue req_;   // request bytes received, not yet sent upstream
  ByteQueue resp_;  // response bytes received, not yet sent downstream
  size_t resend_pending_ = 0;         // bytes in req_ the client's window already paid for
};

}  // namespace switchyard::proxy
