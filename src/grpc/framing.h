// gRPC's length-prefixed messages (grpc/grpc doc/PROTOCOL-HTTP2.md): each
// message on a stream is a 1-byte compressed flag, a 4-byte big-endian length
// and that many bytes, with no relation to HTTP/2 DATA frame boundaries.
// Used where the proxy itself is a gRPC client (health checks). Pure, no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

namespace switchyard::grpc {

// One uncompressed message with its 5-byte prefix.
std::string frameMessage(std::string_view message);

// Reassembles messages from a byte stream cut anywhere. Messages larger than
// `max_message` and compressed messages (the proxy never offers an encoding)
// break the stream: feed() then returns false and ignores further input.
class MessageReader {
 public:
  enum class Error { None, TooLarge, Compressed };

  explicit MessageReader(size_t max_message) : max_message_(max_message) {}

  bool feed(const uint8_t* data, size_t len);
  // The oldest complete message not yet taken.
  std::optional<std::string> next();
  Error error() const { return error_; }
  // Part of a message has arrived but not all of it.
  bool partial() const { return header_pos_ > 0 || have_body_; }
  // A complete message is waiting to be taken.
  bool ready() const { return !ready_.empty(); }
  // How many more bytes complete the prefix or message being read (5 between
  // messages): a caller that feeds at most this much holds at most one message.
  size_t wanted() const { return have_body_ ? body_len_ - body_.size() : 5 - header_pos_; }

 private:
  size_t max_message_;
  uint8_t header_[5] = {};
  size_t header_pos_ = 0;
  bool have_body_ = false;  // the prefix is read; `body_` is being filled
  size_t body_len_ = 0;
  std::string body_;
  std::deque<std::string> ready_;
  Error error_ = Error::None;
};

const char* toString(MessageReader::Error e);

}  // namespace switchyard::grpc
