#include "routing/request_match.h"

#include <re2/re2.h>

namespace switchyard::routing {
namespace {

char lowerChar(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equalsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lowerChar(a[i]) != lowerChar(b[i])) return false;
  }
  return true;
}

// The host part of an authority: "h:1" -> "h", "[::1]:1" -> "[::1]".
std::string_view hostOf(std::string_view authority) {
  size_t colon = authority.rfind(':');
  if (colon == std::string_view::npos) return authority;
  if (authority.find(']') != std::string_view::npos && colon < authority.find(']')) return authority;
  return authority.substr(0, colon);
}

bool hasPort(std::string_view pattern) { return hostOf(pattern).size() != pattern.size(); }

}  // namespace

bool authorityMatches(std::string_view pattern, std::string_view authority) {
  if (pattern.empty()) return true;
  if (authority.empty()) return false;
  if (pattern.starts_with("*.")) {
    std::string_view host = hostOf(authority);
    std::string_view suffix = pattern.substr(1);  // ".example.com"
    return host.size() > suffix.size() && equalsNoCase(host.substr(host.size() - suffix.size()), suffix);
  }
  if (hasPort(pattern)) return equalsNoCase(pattern, authority);
  return equalsNoCase(pattern, hostOf(authority));
}

HeaderMatcher::HeaderMatcher(const config::HeaderMatchSpec& spec)
    : name_(spec.name), kind_(spec.kind), value_(spec.value) {
  if (kind_ == config::HeaderMatchSpec::Kind::Regex) {
    re_ = std::make_unique<re2::RE2>(value_, re2::RE2::Quiet);
  }
}

HeaderMatcher::~HeaderMatcher() = default;
HeaderMatcher::HeaderMatcher(HeaderMatcher&&) noexcept = default;
HeaderMatcher& HeaderMatcher::operator=(HeaderMatcher&&) noexcept = default;

bool HeaderMatcher::matches(const RequestHeaders* headers) const {
  std::string_view value;
  if (headers == nullptr || !headers->find(name_, &value)) return false;
  switch (kind_) {
    case config::HeaderMatchSpec::Kind::Present:
      return true;
    case config::HeaderMatchSpec::Kind::Exact:
      return value == value_;
    case config::HeaderMatchSpec::Kind::Regex:
      // An invalid pattern (rejected by the loader) never matches.
      return re_->ok() && re2::RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *re_);
  }
  return false;
}

RequestConditions::RequestConditions(const config::RouteMatchSpec& spec) : authority_(spec.authority) {
  headers_.reserve(spec.headers.size());
  for (const auto& h : spec.headers) headers_.emplace_back(h);
}

bool RequestConditions::matches(const RequestView& req) const {
  if (!authorityMatches(authority_, req.authority)) return false;
  for (const auto& h : headers_) {
    if (!h.matches(req.headers)) return false;
  }
  return true;
}

}  // namespace switchyard::routing
