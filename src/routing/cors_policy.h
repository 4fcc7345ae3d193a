// CorsPolicy: a listener's gRPC-Web CORS rules (grpc_web.cors), compiled once
// per configuration. Answers whether an Origin may call, and builds the
// headers of a preflight answer and of an actual response. Pure: no I/O.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/spec.h"
#include "grpc/local_reply.h"

namespace switchyard::routing {

class CorsPolicy {
 public:
  explicit CorsPolicy(const config::CorsSpec& spec);

  // Origin is "scheme://host[:port]". Exact entries compare in full
  // (case-insensitively); "*.suffix" matches a host ending in ".suffix".
  bool allows(std::string_view origin) const;

  // The headers of the proxy's answer to an allowed preflight (the caller
  // adds :status 204).
  std::vector<grpc::HeaderField> preflightHeaders(std::string_view origin) const;
  // Headers added to every response to an allowed origin.
  std::vector<grpc::HeaderField> responseHeaders(std::string_view origin) const;

 private:
  std::vector<std::string> exact_;     // lower case
  std::vector<std::string> suffixes_;  // ".example.org", lower case
  bool any_ = false;
  bool credentials_ = false;
  std::string max_age_;        // seconds
  std::string allow_headers_;  // comma-separated
  std::string expose_headers_;
};

}  // namespace switchyard::routing
