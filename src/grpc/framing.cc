#include "grpc/framing.h"

#include <algorithm>

namespace switchyard::grpc {

std::string frameMessage(std::string_view message) {
  const auto len = static_cast<uint32_t>(message.size());
  std::string out;
  out.reserve(5 + message.size());
  out.push_back('\0');
  out.push_back(static_cast<char>(len >> 24));
  out.push_back(static_cast<char>(len >> 16));
  out.push_back(static_cast<char>(len >> 8));
  out.push_back(static_cast<char>(len));
  out.append(message);
  return out;
}

bool MessageReader::feed(const uint8_t* data, size_t len) {
  while (len > 0 && error_ == Error::None) {
    if (!have_body_) {
      header_[header_pos_++] = *data++;
      --len;
      if (header_pos_ < 5) continue;
      header_pos_ = 0;
      body_len_ = (size_t{header_[1]} << 24) | (size_t{header_[2]} << 16) |
                  (size_t{header_[3]} << 8) | size_t{header_[4]};
      if (header_[0] != 0) {
        error_ = Error::Compressed;
      } else if (body_len_ > max_message_) {
        error_ = Error::TooLarge;
      } else {
        have_body_ = true;
        body_.clear();
        body_.reserve(body_len_);
      }
    }
    if (have_body_) {
      size_t take = std::min(len, body_len_ - body_.size());
      body_.append(reinterpret_cast<const char*>(data), take);
      data += take;
      len -= take;
      if (body_.size() == body_len_) {
        ready_.push_back(std::move(body_));
        body_ = std::string();
        have_body_ = false;
      }
    }
  }
  return error_ == Error::None;
}

std::optional<std::string> MessageReader::next() {
  if (ready_.empty()) return std::nullopt;
  std::string m = std::move(ready_.front());
  ready_.pop_front();
  return m;
}

const char* toString(MessageReader::Error e) {
  switch (e) {
    case MessageReader::Error::None: return "no error";
    case MessageReader::Error::TooLarge: return "message too large";
    case MessageReader::Error::Compressed: return "compressed message (no encoding was offered)";
  }
  return "unknown error";
}

}  // namespace switchyard::grpc
