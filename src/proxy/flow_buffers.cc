#include "proxy/flow_buffers.h"

#include <algorithm>

namespace switchyard::proxy {

size_t FlowBuffers::takeRequest(uint8_t* buf, size_t len, size_t* to_consume) {
  size_t taken = req_.take(buf, len);
  size_t resent = std::min(taken, resend_pending_);
  resend_pending_ -= resent;
  *to_consume = taken - resent;
  return taken;
}

size_t FlowBuffers::replayRequest() {
  size_t n = req_.rewind();
  resend_pending_ += n;
  return n;
}

size_t FlowBuffers::discardRequest() {
  size_t pending = req_.clear();
  size_t unpaid = pending - std::min(pending, resend_pending_);
  resend_pending_ = 0;
  return unpaid;
}

size_t FlowBuffers::takeResponse(uint8_t* buf, size_t len) {
  return resp_.take(buf, len);
}

size_t FlowBuffers::discardResponse() {
  return resp_.clear();
}

}  // namespace switchyard::proxy
