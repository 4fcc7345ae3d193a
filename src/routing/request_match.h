// Route conditions beyond the path: the request's authority (exact host or
// "*.suffix") and its headers (exact value, RE2 full match, or presence).
// Compiled once per configuration; matching allocates nothing.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/spec.h"

namespace re2 {
class RE2;
}

namespace switchyard::routing {

// Read access to a request's header fields, kept abstract so routing stays
// free of the HTTP/2 types.
class RequestHeaders {
 public:
  virtual ~RequestHeaders() = default;
  // The first value of `name` (lower case); false when absent.
  virtual bool find(std::string_view name, std::string_view* value) const = 0;
};

// What a route may look at besides the :path.
struct RequestView {
  std::string_view authority;  // :authority (or host); may carry a :port
  const RequestHeaders* headers = nullptr;
};

// Host patterns: "api.example.com" matches that host (with any port, or
// exactly the port when the pattern has one); "*.example.com" matches any
// host ending in ".example.com" (not example.com itself). Case-insensitive.
bool authorityMatches(std::string_view pattern, std::string_view authority);

class HeaderMatcher {
 public:
  explicit HeaderMatcher(const config::HeaderMatchSpec& spec);
  ~HeaderMatcher();
  HeaderMatcher(HeaderMatcher&&) noexcept;
  HeaderMatcher& operator=(HeaderMatcher&&) noexcept;

  bool matches(const RequestHeaders* headers) const;

 private:
  std::string name_;
  config::HeaderMatchSpec::Kind kind_;
  std::string value_;
  std::unique_ptr<re2::RE2> re_;
};

// Every condition of one route's match besides the path.
class RequestConditions {
 public:
  RequestConditions() = default;
  explicit RequestConditions(const config::RouteMatchSpec& spec);

  bool empty() const { return authority_.empty() && headers_.empty(); }
  bool matches(const RequestView& req) const;

 private:
  std::string authority_;
  std::vector<HeaderMatcher> headers_;
};

}  // namespace switchyard::routing
