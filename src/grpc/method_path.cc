#include "grpc/method_path.h"

#include <array>

namespace switchyard::grpc {
namespace {

// The bytes the scan must stop at: '/' (a segment ends) and what no :path may
// hold (spaces, control characters, DEL, a query or a fragment). One table
// lookup per byte instead of five comparisons; the path is parsed on every RPC.
constexpr std::array<bool, 256> kStops = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c <= 0x20; ++c) t[c] = true;
  t[0x7f] = true;
  t['?'] = true;
  t['#'] = true;
  t['/'] = true;
  return t;
}();

}  // namespace

std::optional<MethodPath> parseMethodPath(std::string_view path) {
  if (path.size() < 4 || path.front() != '/') return std::nullopt;  // shortest: "/s/m"
  size_t slash = std::string_view::npos;
  for (size_t i = 1; i < path.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(path[i]);
    if (!kStops[c]) continue;
    if (c != '/') return std::nullopt;
    if (slash != std::string_view::npos) return std::nullopt;  // a third segment
    slash = i;
  }
  if (slash == std::string_view::npos) return std::nullopt;
  MethodPath mp{path.substr(1, slash - 1), path.substr(slash + 1)};
  if (mp.service.empty() || mp.method.empty()) return std::nullopt;
  return mp;
}

}  // namespace switchyard::grpc
