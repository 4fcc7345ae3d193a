// A route's request header edits (request_headers: set / add / remove),
// compiled for the per-RPC path: which client headers to drop, and which
// fields to append to the request sent upstream. Names were validated by the
// config loader (never pseudo-headers, grpc-* or hop-by-hop ones).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/spec.h"

namespace switchyard::routing {

class HeaderEdits {
 public:
  HeaderEdits() = default;
  explicit HeaderEdits(const config::HeaderEditSpec& spec);

  bool empty() const { return dropped_.empty() && appended_.empty(); }
  // Whether a client-sent field with this name is left out (removed or set).
  // Most routes edit nothing; they pay no call per field.
  bool drops(std::string_view name) const { return !dropped_.empty() && listed(name); }
  // Fields to send after the client's own: every `set`, then every `add`.
  const std::vector<std::pair<std::string, std::string>>& appended() const { return appended_; }

 private:
  bool listed(std::string_view name) const;

  std::vector<std::string> dropped_;
  std::vector<std::pair<std::string, std::string>> appended_;
};

}  // namespace switchyard::routing
