// Per-message size limits of a route (max_request_message_bytes,
// max_response_message_bytes): the grpc-message text for a refused message.
// The check itself is MessageCounter's: it reads each length prefix before
// any byte of that message is buffered or forwarded.
#pragma once

#include <cstdint>
#include <string>

namespace switchyard::proxy {

inline std::string messageTooLargeText(const char* direction, uint64_t declared, uint64_t limit) {
  return std::string(direction) + " message of " + std::to_string(declared) +
         " bytes exceeds the route's limit of " + std::to_string(limit) + " bytes";
}

}  // namespace switchyard::proxy
