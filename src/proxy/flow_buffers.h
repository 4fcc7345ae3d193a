// FlowBuffers: the bytes an RPC holds between its two streams, and the
// window bookkeeping that makes flow control end to end. Bytes a side sends
// are buffered here; the caller reopens that side's window (consume) only by
// the counts these functions return, i.e. once the other side has taken the
// bytes. Request bytes sent upstream stay kept in the request queue while
// the RPC may be retried; replayed, they were paid for when first received,
// so taking them again opens nothing. No I/O: the Rpc does the consuming.
#pragma once

#include <cstddef>
#include <cstdint>

#include "proxy/byte_queue.h"

namespace switchyard::proxy {

class FlowBuffers {
 public:
  FlowBuffers() { req_.keepTaken(); }

  // --- request: client -> backend
  void addRequest(const uint8_t* data, size_t len) { req_.append(data, len); }
  // Moves up to `len` queued request bytes into `buf`; returns how many.
  // `*to_consume` gets how many of them the client's window has not yet
  // been reopened for.
  size_t takeRequest(uint8_t* buf, size_t len, size_t* to_consume);
  bool requestEmpty() const { return req_.empty(); }
  // Puts every request byte sent so far back in front of the queue for the
  // next attempt; returns how many (see RetryState).
  size_t replayRequest();
  // The request will not be replayed: lets the bytes sent so far go.
  void dropSentRequest() { req_.dropKept(); }
  // Request bytes sent upstream and kept for a replay.
  size_t requestKept() const { return req_.kept(); }
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
  ByteQueue req_;   // request bytes received, not yet sent upstream (and those kept)
  ByteQueue resp_;  // response bytes received, not yet sent downstream
  size_t resend_pending_ = 0;         // bytes in req_ the client's window already paid for
};

}  // namespace switchyard::proxy
