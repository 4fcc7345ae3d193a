// LocalExchange: carries a LocalCall over the client's gRPC stream. It
// reassembles request messages from DATA (cut anywhere), hands them to the
// call one by one and frames the answers. Memory is bounded both ways: a
// request message over `max_message` ends the call with RESOURCE_EXHAUSTED,
// and while more than kMaxPendingResponse bytes of answers wait for the
// client to read them, further requests stay queued and unpaid (the client's
// stream window is reopened only for the messages handled), so a client that
// sends without reading stalls on its own window. No I/O: the Rpc moves the
// bytes and reopens the window by the counts returned here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "grpc/framing.h"
#include "proxy/local_call.h"

namespace switchyard::proxy {

class LocalExchange {
 public:
  static constexpr size_t kMaxPendingResponse = 1024 * 1024;
  static constexpr size_t kMaxRequestMessage = 64 * 1024;

  explicit LocalExchange(std::unique_ptr<LocalCall> call, size_t max_message = kMaxRequestMessage);

  const LocalCall& call() const { return *call_; }

  // Request bytes from the client.
  void feed(const uint8_t* data, size_t len);
  // The client sent END_STREAM.
  void requestEnded() { request_ended_ = true; }

  struct Step {
    std::string response;  // framed response messages to send
    size_t consumed = 0;   // request bytes handled: reopen the client's window by as many
    uint64_t messages_in = 0;
    std::optional<LocalAnswer> end;  // the call is over, with this status
  };
  // Handles queued request messages while fewer than kMaxPendingResponse
  // bytes (`response_pending` plus what this step made) wait for the client.
  Step pump(size_t response_pending);
  bool ended() const { return ended_; }
  // Requests are queued that wait for the client to read answers first.
  bool waiting() const { return !ended_ && (held_.has_value() || reader_.ready()); }
  // Request bytes received and not yet reported as consumed; the call is
  // over, so the caller reopens the client's window by them.
  size_t release();

 private:
  Step pumpMessages(size_t response_pending);

  std::unique_ptr<LocalCall> call_;
  grpc::MessageReader reader_;
  size_t max_message_;
  bool request_ended_ = false;
  bool ended_ = false;
  size_t unconsumed_ = 0;  // fed minus consumed
  std::optional<std::string> held_;  // a message taken from reader_ but not handled yet
};

}  // namespace switchyard::proxy
