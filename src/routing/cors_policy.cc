#include "routing/cors_policy.h"

#include <chrono>

namespace switchyard::routing {
namespace {

// What a gRPC-Web client sends (grpc-web, connect-web) besides simple headers.
constexpr std::string_view kWebRequestHeaders =
    "content-type,x-grpc-web,x-user-agent,grpc-timeout,authorization,x-request-id,traceparent";
constexpr std::string_view kWebExposedHeaders = "grpc-status,grpc-message,grpc-status-details-bin";

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string joined(std::string_view base, const std::vector<std::string>& extra) {
  std::string out(base);
  for (const auto& h : extra) {
    out.push_back(',');
    out.append(lower(h));
  }
  return out;
}

// The host of "scheme://host[:port]" (an IPv6 literal keeps its brackets).
std::string_view hostOf(std::string_view origin) {
  size_t scheme = origin.find("://");
  if (scheme == std::string_view::npos) return {};
  std::string_view rest = origin.substr(scheme + 3);
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    return close == std::string_view::npos ? std::string_view() : rest.substr(0, close + 1);
  }
  return rest.substr(0, rest.find(':'));
}

}  // namespace

CorsPolicy::CorsPolicy(const config::CorsSpec& spec)
    : credentials_(spec.allow_credentials),
      max_age_(std::to_string(std::chrono::duration_cast<std::chrono::seconds>(spec.max_age).count())),
      allow_headers_(joined(kWebRequestHeaders, spec.allow_headers)),
      expose_headers_(joined(kWebExposedHeaders, spec.expose_headers)) {
  for (const auto& o : spec.allow_origins) {
    if (o == "*") {
      any_ = true;
    } else if (o.rfind("*.", 0) == 0) {
      suffixes_.push_back(lower(o.substr(1)));
    } else {
      exact_.push_back(lower(o));
    }
  }
}

bool CorsPolicy::allows(std::string_view origin) const {
  if (origin.empty() || origin == "null") return any_ && !credentials_;
  if (any_) return true;
  std::string o = lower(origin);
  for (const auto& e : exact_) {
    if (o == e) return true;
  }
  std::string_view host = hostOf(o);
  for (const auto& s : suffixes_) {
    if (host.size() > s.size() && host.substr(host.size() - s.size()) == s) return true;
  }
  return false;
}

std::vector<grpc::HeaderField> CorsPolicy::responseHeaders(std::string_view origin) const {
  std::vector<grpc::HeaderField> out;
  out.push_back({"access-control-allow-origin", std::string(origin)});
  out.push_back({"access-control-expose-headers", expose_headers_});
  if (credentials_) out.push_back({"access-control-allow-credentials", "true"});
  out.push_back({"vary", "origin"});
  return out;
}

std::vector<grpc::HeaderField> CorsPolicy::preflightHeaders(std::string_view origin) const {
  std::vector<grpc::HeaderField> out;
  out.push_back({"access-control-allow-origin", std::string(origin)});
  out.push_back({"access-control-allow-methods", "POST,OPTIONS"});
  out.push_back({"access-control-allow-headers", allow_headers_});
  out.push_back({"access-control-max-age", max_age_});
  if (credentials_) out.push_back({"access-control-allow-credentials", "true"});
  out.push_back({"vary", "origin"});
  return out;
}

}  // namespace switchyard::routing
