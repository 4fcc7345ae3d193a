#include "proxy/flow_buffers.h"

#include <algorithm>

namespace switchyard::proxy {

size_t FlowBuffers::takeRequest(uint8_t* buf, size_t len, size_t* to_consume) {
  int n = evbuffer_remove(req_.get(), buf, len);
  size_t taken = n > 0 ? static_cast<size_t>(n) : 0;
  size_t resent = std::min(taken, resend_pending_);
  resend_pending_ -= resent;
  *to_consume = taken - resent;
  return taken;
}

size_t FlowBuffers::discardRequest() {
  size_t pending = evbuffer_get_length(req_.get());
  size_t unpaid = pending - std::min(pending, resend_pending_);
  evbuffer_drain(req_.get(), pending);
  resend_pending_ = 0;
  return unpaid;
}

size_t FlowBuffers::takeResponse(uint8_t* buf, size_t len) {
  int n = evbuffer_remove(resp_.get(), buf, len);
  return n > 0 ? static_cast<size_t>(n) : 0;
}

size_t FlowBuffers::discardResponse() {
  size_t n = evbuffer_get_length(resp_.get());
  evbuffer_drain(resp_.get(), n);
  return n;
}

}  // namespace switchyard::proxy
