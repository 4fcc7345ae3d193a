// LocalCall: an RPC the proxy answers itself, with no backend and no upstream
// attempt (today: merged reflection). It is the "local" step of an Rpc's
// pipeline, after policy and before routing: openLocalCall decides from the
// listener and the :path whether the proxy serves the call, and the Rpc then
// carries it through a LocalExchange (framing, flow control, trailers) instead
// of balancing it to a cluster.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/request_filter.h"
#include "proxy/runtime.h"
#include "routing/request_match.h"

namespace switchyard::proxy {

struct ListenerInfo;

class LocalCall {
 public:
  virtual ~LocalCall() = default;
  // One complete request message (without its 5-byte prefix). Appends the
  // response messages it produces to `responses`; a value ends the call.
  virtual std::optional<LocalAnswer> onMessage(std::string_view message,
                                               std::vector<std::string>& responses) = 0;
  // The client sent its last message: the status the call ends with.
  virtual LocalAnswer onRequestEnd() { return LocalAnswer{grpc::StatusCode::Ok, {}, {}}; }
  // For metrics and logs: "pkg.Service" and "Method".
  virtual std::string_view service() const = 0;
  virtual std::string_view method() const = 0;
};

// The local service for `path` on this listener, or null when the call is
// routed to a backend as usual.
std::unique_ptr<LocalCall> openLocalCall(std::string_view path, const ListenerInfo& listener,
                                         const Runtime& runtime, const routing::RequestView& request);

}  // namespace switchyard::proxy
