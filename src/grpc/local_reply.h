// Header sets for responses the proxy makes itself, as plain data; the HTTP/2
// layer turns them into nghttp2 name/value pairs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "grpc/status_code.h"

namespace switchyard::grpc {

struct HeaderField {
  std::string name;   // lower-case
  std::string value;
};

// A Trailers-Only response, to be sent as one HEADERS frame with END_STREAM:
//   :status 200, content-type application/grpc, grpc-status <n>,
//   grpc-message <percent-encoded message> (omitted when `message` is empty).
// `message` is UTF-8 text and is encoded here; do not pre-encode it.
std::vector<HeaderField> trailersOnlyHeaders(StatusCode code, std::string_view message);

// The trailers that end a response whose headers were already sent:
//   grpc-status <n>, grpc-message <percent-encoded> (omitted when empty).
std::vector<HeaderField> trailersFields(StatusCode code, std::string_view message);

}  // namespace switchyard::grpc
