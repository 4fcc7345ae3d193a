#include "grpc/method_path.h"

namespace switchyard::grpc {

std::optional<MethodPath> parseMethodPath(std::string_view path) {
  if (path.size() < 4 || path.front() != '/') return std::nullopt;  // shortest: "/s/m"
  size_t slash = std::string_view::npos;
  for (size_t i = 1; i < path.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(path[i]);
    if (c <= 0x20 || c == 0x7f || c == '?' || c == '#') return std::nullopt;
    if (c == '/') {
      if (slash != std::string_view::npos) return std::nullopt;  // a third segment
      slash = i;
    }
  }
  if (slash == std::string_view::npos) return std::nullopt;
  MethodPath mp{path.substr(1, slash - 1), path.substr(slash + 1)};
  if (mp.service.empty() || mp.method.empty()) return std::nullopt;
  return mp;
}

}  // namespace switchyard::grpc
