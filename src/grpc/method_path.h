// The gRPC request path: ":path" = "/" Service-Name "/" method-name
// (grpc/grpc doc/PROTOCOL-HTTP2.md). Pure functions, no I/O.
#pragma once

#include <optional>
#include <string_view>

namespace switchyard::grpc {

// Views into the string passed to parseMethodPath; valid only as long as it is.
struct MethodPath {
  std::string_view service;  // "pkg.Service"
  std::string_view method;   // "Method"
};

// "/pkg.Service/Method" -> {"pkg.Service", "Method"}. Returns nullopt when the
// leading '/' is missing, the service or the method is empty, there are more
// than two segments, or the path carries a query ('?') or fragment ('#').
// Also rejects spaces and control characters, which cannot appear in a valid
// :path. Case is preserved; matching on the result is case-sensitive.
std::optional<MethodPath> parseMethodPath(std::string_view path);

}  // namespace switchyard::grpc
