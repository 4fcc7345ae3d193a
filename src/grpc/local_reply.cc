#include "grpc/local_reply.h"

#include "grpc/message.h"

namespace switchyard::grpc {
namespace {

void appendStatus(std::vector<HeaderField>& out, StatusCode code, std::string_view message) {
  out.push_back({"grpc-status", std::string(statusNumber(code))});
  if (!message.empty()) out.push_back({"grpc-message", percentEncodeGrpcMessage(message)});
}

}  // namespace

std::vector<HeaderField> trailersOnlyHeaders(StatusCode code, std::string_view message) {
  std::vector<HeaderField> out;
  out.reserve(4);
  out.push_back({":status", "200"});
  out.push_back({"content-type", "application/grpc"});
  appendStatus(out, code, message);
  return out;
}

std::vector<HeaderField> trailersFields(StatusCode code, std::string_view message) {
  std::vector<HeaderField> out;
  out.reserve(2);
  appendStatus(out, code, message);
  return out;
}

}  // namespace switchyard::grpc
