// Request identity: the x-request-id and W3C trace context of one RPC.
// The client's x-request-id, traceparent and tracestate are forwarded
// untouched; when absent, an x-request-id is generated (tracing.
// generate_request_id, on by default) and a traceparent started (tracing.
// start_traceparent, off by default). Ids come from a per-thread generator
// seeded once, so making one costs no syscall.
#pragma once

#include <nghttp2/nghttp2.h>

#include <string>
#include <string_view>
#include <vector>

#include "config/spec.h"
#include "http2/headers.h"

namespace switchyard::proxy {

class RequestIdentity {
 public:
  // Reads the client's headers (one pass, also keeping :authority and
  // user-agent for the access log) and generates what `tracing` asks for.
  void resolve(const http2::HeaderList& headers, const config::TracingSpec& tracing);
  // Adds the generated headers (not the client's: those are forwarded as they came).
  void appendGenerated(http2::NvList& nva) const;

  std::string_view requestId() const {
    return has_id_ ? std::string_view(id_, kRequestIdSize) : client_id_;
  }
  std::string_view traceparent() const {
    return has_trace_ ? std::string_view(trace_, kTraceparentSize) : client_trace_;
  }

  std::string_view authority() const { return authority_; }
  std::string_view userAgent() const { return user_agent_; }

  static constexpr size_t kRequestIdSize = 36;
  static constexpr size_t kTraceparentSize = 55;

 private:
  std::string_view client_id_;     // views into the request headers
  std::string_view client_trace_;
  std::string_view authority_;
  std::string_view user_agent_;
  // Generated values live inline: no allocation per RPC.
  char id_[kRequestIdSize];
  char trace_[kTraceparentSize];
  bool has_id_ = false;
  bool has_trace_ = false;
};

// Write a fresh request id / traceparent into `out` (kRequestIdSize /
// kTraceparentSize bytes, no terminator).
void writeRequestId(char* out);
void writeTraceparent(char* out);

// A random UUID (version 4), e.g. "3b241101-e2bb-4255-8caf-4136c566a962".
std::string makeRequestId();
// "00-<32 hex trace id>-<16 hex parent id>-01" with fresh random ids.
std::string makeTraceparent();

}  // namespace switchyard::proxy
