#include "proxy/local_exchange.h"

#include <algorithm>
#include <vector>

namespace switchyard::proxy {

LocalExchange::LocalExchange(std::unique_ptr<LocalCall> call, size_t max_message)
    : call_(std::move(call)), reader_(max_message), max_message_(max_message) {}

void LocalExchange::feed(const uint8_t* data, size_t len) {
  unconsumed_ += len;
  if (!ended_) reader_.feed(data, len);
}

size_t LocalExchange::release() {
  size_t n = unconsumed_;
  unconsumed_ = 0;
  return n;
}

LocalExchange::Step LocalExchange::pump(size_t response_pending) {
  Step step = pumpMessages(response_pending);
  step.consumed = std::min(step.consumed, unconsumed_);
  unconsumed_ -= step.consumed;
  return step;
}

LocalExchange::Step LocalExchange::pumpMessages(size_t response_pending) {
  Step step;
  if (ended_) return step;
  std::vector<std::string> answers;
  while (response_pending + step.response.size() < kMaxPendingResponse) {
    if (!held_) held_ = reader_.next();
    if (!held_) break;
    std::string message = std::move(*held_);
    held_.reset();
    step.consumed += 5 + message.size();
    ++step.messages_in;
    answers.clear();
    auto end = call_->onMessage(message, answers);
    for (const auto& a : answers) step.response += grpc::frameMessage(a);
    if (end) {
      ended_ = true;
      step.end = std::move(end);
      return step;
    }
  }
  if (reader_.error() != grpc::MessageReader::Error::None) {
    ended_ = true;
    step.end = reader_.error() == grpc::MessageReader::Error::TooLarge
                   ? LocalAnswer{grpc::StatusCode::ResourceExhausted,
                                 "request message larger than " + std::to_string(max_message_) +
                                     " bytes",
                                 {}}
                   : LocalAnswer{grpc::StatusCode::Unimplemented,
                                 "compressed request messages are not supported here", {}};
    return step;
  }
  if (request_ended_ && !held_ && !reader_.partial()) {
    // All handled (or a truncated last message, which the end of the stream drops).
    std::optional<std::string> more = reader_.next();
    if (more) {
      held_ = std::move(more);
      return step;  // answers still waiting for room
    }
    ended_ = true;
    step.end = call_->onRequestEnd();
  } else if (request_ended_ && !held_ && reader_.partial()) {
    ended_ = true;
    step.end = LocalAnswer{grpc::StatusCode::Internal, "request stream ended inside a message", {}};
  }
  return step;
}

}  // namespace switchyard::proxy
