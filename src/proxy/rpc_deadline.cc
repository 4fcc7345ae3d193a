#include "proxy/rpc_deadline.h"

#include "grpc/timeout.h"

namespace switchyard::proxy {

bool RpcDeadline::start(const http2::HeaderList& request, const routing::Route* route,
                        std::string_view* bad_value) {
  std::optional<Duration> timeout;
  bool found = false;
  std::string_view timeout_text = request.get("grpc-timeout", &found);
  if (found) {
    timeout = grpc::parseGrpcTimeout(timeout_text);
    if (!timeout) {
      *bad_value = timeout_text;
      return false;
    }
    if (route != nullptr && route->timeout_max && *timeout > *route->timeout_max) {
      timeout = route->timeout_max;
    }
  } else if (route != nullptr && route->timeout_default) {
    timeout = route->timeout_default;
  }
  if (timeout) {
    at_ = start_ + *timeout;
    queue_.arm(entry_, *at_);
  }
  return true;
}

std::optional<Duration> RpcDeadline::left() const {
  if (!at_) return std::nullopt;
  return *at_ - clock_.now();
}

}  // namespace switchyard::proxy
