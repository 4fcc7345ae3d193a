// RequestHeadersView: the routing layer's read-only view of a request's
// HTTP/2 header list (first value of a name, as HeaderList::get).
#pragma once

#include "http2/headers.h"
#include "routing/request_match.h"

namespace switchyard::proxy {

class RequestHeadersView final : public routing::RequestHeaders {
 public:
  explicit RequestHeadersView(const http2::HeaderList& list) : list_(list) {}
  bool find(std::string_view name, std::string_view* value) const override {
    bool found = false;
    *value = list_.get(name, &found);
    return found;
  }
  // :authority, or host when a client sent that instead.
  std::string_view authority() const {
    bool found = false;
    std::string_view a = list_.get(":authority", &found);
    return found ? a : list_.get("host");
  }

 private:
  const http2::HeaderList& list_;
};

}  // namespace switchyard::proxy
