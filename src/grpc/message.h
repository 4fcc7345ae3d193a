// Percent-encoding of the grpc-message trailer (grpc/grpc doc/PROTOCOL-HTTP2.md):
// bytes 0x20-0x24 and 0x26-0x7E are sent as they are, every other byte
// (including '%' itself and every byte of a multi-byte UTF-8 sequence) as
// "%XX" with upper-case hex digits.
#pragma once

#include <string>
#include <string_view>

namespace switchyard::grpc {

std::string percentEncodeGrpcMessage(std::string_view utf8);

// Lenient decoder: "%XX" with two hex digits (either case) becomes that byte;
// a '%' not followed by two hex digits is kept as it is, as are all other
// bytes. Never fails and never drops input (the spec forbids erroring or
// dropping the message). The result is not checked for valid UTF-8.
std::string percentDecodeGrpcMessage(std::string_view encoded);

}  // namespace switchyard::grpc
