// Recognising the gRPC content-type (grpc/grpc doc/PROTOCOL-HTTP2.md):
//   "application/grpc" [("+proto" / "+json" / {custom})] [";" parameters]
#pragma once

#include <string_view>

namespace switchyard::grpc {

// True for "application/grpc", "application/grpc+proto", "application/grpc+json",
// any other "+suffix", and any of these followed by ";" parameters
// (optionally after spaces or tabs). The type and subtype compare
// case-insensitively; surrounding spaces/tabs are ignored. False for
// gRPC-Web ("application/grpc-web", "application/grpc-web-text") and for
// anything else that merely starts with the same letters ("application/grpcx").
bool isGrpcContentType(std::string_view ct);

}  // namespace switchyard::grpc
