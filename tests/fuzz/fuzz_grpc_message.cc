// Fuzz target: the gRPC message framer (src/proxy/message_counter.h) and the
// grpc-message codec (src/grpc/message.*). The first input byte chooses how
// the rest is split into chunks; counting messages chunk by chunk must give
// the same answer as counting the whole stream at once, and
// percent-decoding what was percent-encoded gives back the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "grpc/message.h"
#include "proxy/message_counter.h"

namespace {

// Messages in a stream of complete-or-partial length-prefixed frames, the slow way.
uint64_t referenceCount(const uint8_t* data, size_t size) {
  uint64_t n = 0;
  size_t pos = 0;
  while (pos + 5 <= size) {
    ++n;
    uint64_t len = (uint64_t{data[pos + 1]} << 24) | (uint64_t{data[pos + 2]} << 16) |
                   (uint64_t{data[pos + 3]} << 8) | uint64_t{data[pos + 4]};
    if (len > size - pos - 5) return n;
    pos += 5 + len;
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t chunk = data[0] % 17 + 1;
  ++data;
  --size;

  switchyard::proxy::MessageCounter whole;
  whole.feed(data, size);
  switchyard::proxy::MessageCounter chunked;
  for (size_t pos = 0; pos < size; pos += chunk) {
    chunked.feed(data + pos, std::min(chunk, size - pos));
  }
  if (whole.messages() != chunked.messages()) std::abort();
  if (whole.messages() != referenceCount(data, size)) std::abort();

  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string encoded = switchyard::grpc::percentEncodeGrpcMessage(text);
  for (unsigned char c : encoded) {
    if (c < 0x20 || c > 0x7e) std::abort();  // the header value is printable ASCII
  }
  if (switchyard::grpc::percentDecodeGrpcMessage(encoded) != text) std::abort();
  (void)switchyard::grpc::percentDecodeGrpcMessage(text);
  return 0;
}
