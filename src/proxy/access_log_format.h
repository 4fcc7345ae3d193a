// Access-log records and their two line formats. Pure: no I/O, no clock of its
// own; unit-tested directly.
//
// text (the default) keeps the historical shape and adds fields at the end:
//   [2026-01-02 03:04:05.678] 10.0.0.7 "/pkg.Svc/Method" listener=public
//   cluster=greeter endpoint=10.0.1.2:50051 grpc_status=0 duration_ms=1.234
//   bytes_in=17 bytes_out=21 msgs_in=1 msgs_out=1 http_status=200
//   upstream_ms=1.100 attempts=1 authority="api.example.com"
//   user_agent="grpc-c++/1.51.1" request_id="..." traceparent="..."
//   grpc_message="" client_identity="spiffe://prod/ns/billing/sa/api"
//   subject="alice"
// (one line; client_identity is "" without a verified client certificate,
// subject "" without an authenticated caller). json writes one object per
// line with the same fields.
//
// Every field the client or a backend controls is escaped: in text, `"`, `\`,
// control bytes, spaces in unquoted fields and bytes >= 0x7f become \" \\ or
// \xHH; in json, strings are JSON-escaped and invalid UTF-8 bytes become
// \u00HH. A line is always exactly one line.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace switchyard::proxy {

enum class AccessLogFormat { Text, Json };

// What one finished RPC contributes to the access log. Views must stay valid
// for the duration of formatAccessLine().
struct AccessRecord {
  std::chrono::system_clock::time_point time;  // when the RPC ended
  std::string_view client;     // peer IP
  std::string_view authority;
  std::string_view path;
  std::string_view listener;
  std::string_view cluster;    // empty: no route
  std::string_view endpoint;   // empty: never sent upstream
  int http_status = 200;       // :status sent to the client
  int grpc_status = -1;        // -1: none
  std::string_view grpc_message;
  double duration_ms = 0;      // request headers to the end of the response
  double upstream_ms = -1;     // last attempt's send to its end; < 0: none
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t msgs_in = 0;
  uint64_t msgs_out = 0;
  std::string_view user_agent;
  std::string_view request_id;
  std::string_view traceparent;
  uint32_t attempts = 0;       // upstream attempts (1 + retries)
  // The verified client certificate's first URI SAN, else its subject;
  // empty without one (tls::PeerIdentity::display()).
  std::string_view client_identity;
  // Who the route's auth step accepted: the JWT `sub`, or apikey:SET:HASH8
  // for an API key; empty when the route has no auth or the RPC was refused.
  std::string_view subject;
};

// Longest grpc-message kept; longer messages are cut and end in "...".
inline constexpr size_t kAccessLogMaxMessage = 256;
// Longest user-agent, authority, path or id kept (the rest is cut).
inline constexpr size_t kAccessLogMaxField = 512;

// Appends one line (ending in '\n') for `r` to `out`.
void formatAccessLine(const AccessRecord& r, AccessLogFormat format, std::string& out);

// "text" / "json" -> format; false for anything else.
bool parseAccessLogFormat(std::string_view name, AccessLogFormat* out);

}  // namespace switchyard::proxy
