#include "grpc/content_type.h"

namespace switchyard::grpc {
namespace {

constexpr std::string_view kGrpc = "application/grpc";

char asciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool isOws(char c) { return c == ' ' || c == '\t'; }

std::string_view trimOws(std::string_view s) {
  while (!s.empty() && isOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && isOws(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

bool isGrpcContentType(std::string_view ct) {
  // What every gRPC client sends, checked in one comparison.
  if (ct == kGrpc || ct == "application/grpc+proto") return true;
  ct = trimOws(ct);
  if (ct.size() < kGrpc.size()) return false;
  for (size_t i = 0; i < kGrpc.size(); ++i) {
    if (asciiLower(ct[i]) != kGrpc[i]) return false;
  }
  std::string_view rest = ct.substr(kGrpc.size());
  if (rest.empty()) return true;
  if (rest.front() == '+') return true;  // +proto, +json or a custom codec
  rest = trimOws(rest);
  return !rest.empty() && rest.front() == ';';
}

}  // namespace switchyard::grpc
