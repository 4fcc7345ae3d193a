// RequestFilter: the policy step of an RPC's pipeline, between validating the
// request headers and routing them. Authentication, authorization and limits
// plug in here: a filter sees the request headers and either lets the RPC go
// on or answers it locally with a gRPC status (sent as Trailers-Only). Filters
// live in the Runtime snapshot, are shared by every worker and must not block;
// none are configured today.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "grpc/status_code.h"
#include "http2/headers.h"

namespace switchyard::proxy {

// What a filter sees of the RPC besides its headers.
struct RequestInfo {
  std::string_view listener;  // the listener's name
  std::string_view peer_ip;   // the client's address
};

// A proxy-made answer that ends the RPC before it is routed.
struct LocalAnswer {
  grpc::StatusCode code;
  std::string message;
};

class RequestFilter {
 public:
  virtual ~RequestFilter() = default;
  // nullopt: on to the next filter (then routing); a value: the RPC ends with it.
  virtual std::optional<LocalAnswer> onRequestHeaders(const http2::HeaderList& headers,
                                                      const RequestInfo& info) const = 0;
};

using RequestFilters = std::vector<std::shared_ptr<const RequestFilter>>;

}  // namespace switchyard::proxy
