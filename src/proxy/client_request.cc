#include "proxy/client_request.h"

#include <nghttp2/nghttp2.h>

#include "proxy/client_response.h"
#include "proxy/message_limits.h"

namespace switchyard::proxy {

using grpc::StatusCode;
using metrics::LocalError;

std::optional<ClientRequest::Refusal> ClientRequest::end() {
  state_ = State::HalfClosedRemote;
  if (protocol_->requestComplete()) return std::nullopt;
  return Refusal{LocalError::BadRequest, StatusCode::Internal,
                 std::string(protocol_->name()) + " request body ends inside a base64 group"};
}

void ClientRequest::drop(size_t len) {
  traffic_.bytes += len;
  conn_.consume(stream_id_, len);
}

ClientRequest::Chunk ClientRequest::decode(const uint8_t* data, size_t len) {
  Chunk chunk;
  auto grpc_bytes = protocol_->decodeRequest(data, len);
  if (!grpc_bytes) {
    conn_.consume(stream_id_, len);
    if (const auto& failure = protocol_->failure()) {
      chunk.refused = Refusal{failure->too_large ? LocalError::BodyTooLarge : LocalError::BadRequest,
                              failure->code, failure->message};
    } else {
      chunk.refused = Refusal{LocalError::BadRequest, StatusCode::Internal,
                              "malformed " + std::string(protocol_->name()) + " request body"};
    }
    return chunk;
  }
  if (protocol_->wholeMessages()) {
    // The adapter keeps the body (within its limit) until it ends.
    drop(len);
    chunk.kept = true;
    return chunk;
  }
  // From here on the bytes are gRPC framing (gRPC-Web text decoded), so the
  // size and compressed-flag checks see the message headers a backend would.
  traffic_.feed(reinterpret_cast<const uint8_t*>(grpc_bytes->data()), grpc_bytes->size());
  chunk.grpc = *grpc_bytes;
  return chunk;
}

std::optional<ClientRequest::Refusal> ClientRequest::forward(std::string_view grpc) {
  std::optional<Refusal> refused = oversized();
  if (!refused && traffic_.messages.compressed() && !isEncoded(headers_.get("grpc-encoding"))) {
    refused = Refusal{LocalError::BadRequest, StatusCode::Internal,
                      "request message is compressed but the request has no grpc-encoding"};
  }
  if (refused) {
    pay(grpc.size());  // nobody will forward them
    return refused;
  }
  // Without an open attempt a retry is waiting out its backoff: the bytes
  // stay queued for it (and unpaid, so the client's window bounds them).
  flow_.addRequest(reinterpret_cast<const uint8_t*>(grpc.data()), grpc.size());
  attempt_.resume();
  return std::nullopt;
}

std::optional<ClientRequest::Refusal> ClientRequest::finishWhole() {
  auto message = protocol_->finishRequest();
  if (!message.ok()) return Refusal{LocalError::TranscodeFailed, StatusCode::InvalidArgument, message.error()};
  const auto* bytes = reinterpret_cast<const uint8_t*>(message->data());
  traffic_.messages.feed(bytes, message->size());
  if (auto refused = oversized()) return refused;
  flow_.addRequest(bytes, message->size());
  return std::nullopt;
}

std::optional<ClientRequest::Refusal> ClientRequest::oversized() {
  if (traffic_.messages.oversized() == 0) return std::nullopt;
  return Refusal{LocalError::MessageTooLarge, StatusCode::ResourceExhausted,
                 messageTooLargeText("request", traffic_.messages.oversized(), max_message_)};
}

ssize_t ClientRequest::read(uint8_t* buf, size_t len, uint32_t* flags) {
  size_t to_consume = 0;
  size_t n = flow_.takeRequest(buf, len, &to_consume);
  if (n > 0) {
    // The bytes stay kept for a possible retry while they fit the retry buffer.
    if (!retry_.retain(n, retry_buffer_)) flow_.dropSentRequest();
    // The backend took these bytes: let the client send as many more.
    pay(to_consume);
  }
  if (flow_.requestEmpty() && state_ == State::HalfClosedRemote) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
  if (n == 0) return NGHTTP2_ERR_DEFERRED;
  return static_cast<ssize_t>(n);
}

void ClientRequest::pay(size_t forwarded) { conn_.consume(stream_id_, protocol_->clientBytesFor(forwarded)); }

void ClientRequest::discard() {
  // Reopen the client's window for what it sent and we will never forward;
  // bytes queued again for a retry were paid for when first sent.
  pay(flow_.discardRequest());
  flow_.dropSentRequest();
  retry_.dropRetained();
}

}  // namespace switchyard::proxy
