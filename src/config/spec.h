// The configuration as plain data: what the YAML file says, with every default
// applied and every value validated. No sockets, no handles: the server builds
// its runtime objects from this. Each section remembers where it was written
// (Mark) so later stages can report file:line:col too.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/duration.h"

namespace switchyard::config {

// 1-based line and column in the YAML file; 0 when not known.
struct Mark {
  int line = 0;
  int col = 0;
};

// One certificate a listener may present, chosen by SNI.
struct TlsCertificateSpec {
  std::string cert;  // PEM certificate chain path
  std::string key;   // PEM private key path
  std::vector<std::string> server_names;  // exact or "*.example.com"; empty: the default
  Mark mark;
};

struct TlsSpec {
  std::string cert;  // PEM certificate chain path (the default certificate)
  std::string key;   // PEM private key path
  std::string min_version = "1.2";  // "1.2" or "1.3"
  std::string max_version = "1.3";
  std::vector<TlsCertificateSpec> certificates;  // chosen by SNI
  std::string client_ca;             // PEM bundle; required unless client_auth is none
  std::string client_auth = "none";  // none | optional | require
  uint32_t verify_depth = 10;
  std::string crl;  // PEM CRL file checked against client certificates
  std::string ciphers;       // TLS 1.2 cipher list; empty: the built-in AEAD list
  std::string ciphersuites;  // TLS 1.3 ciphersuites; empty: OpenSSL's default
  std::string groups;        // key exchange groups, e.g. "X25519:P-256"; empty: OpenSSL's
  bool session_resumption = true;
  Duration session_timeout = std::chrono::minutes(5);
  // Files of 80 bytes each (tls/ticket_keys.h): the first encrypts session
  // tickets, all decrypt. Empty: resumption from a session cache only.
  std::vector<std::string> session_ticket_keys;
  Duration handshake_timeout = std::chrono::seconds(10);
  bool forward_client_cert = false;  // x-forwarded-client-cert to backends
  Mark mark;
};

// TLS from the proxy to a cluster's backends.
struct UpstreamTlsSpec {
  std::string ca;           // PEM bundle; empty: the system trust store
  std::string server_name;  // SNI and verified name; empty: the endpoint's host
  bool verify = true;
  std::string cert;  // client certificate for mutual TLS (with key)
  std::string key;
  std::string min_version = "1.2";
  std::string max_version = "1.3";
  bool session_resumption = true;
  Mark mark;
};

struct Http2Spec {
  uint32_t max_concurrent_streams = 1024;
  uint32_t initial_stream_window = 256 * 1024;           // bytes; bounds memory per stream
  uint32_t initial_connection_window = 4 * 1024 * 1024;  // bytes
  uint32_t max_frame_size = 16384;
  uint32_t max_header_list_size = 16 * 1024;
  uint32_t max_header_fields = 100;  // fields per header block
  // Glitch budget: this many client-caused oddities per window, then GOAWAY(ENHANCE_YOUR_CALM).
  uint32_t max_glitches = 1000;
  Duration glitch_window = std::chrono::seconds(10);
};

// listeners[].grpc_web.cors: which web origins may call, and what their
// scripts may send and see. Without it no CORS header is sent (same origin only).
struct CorsSpec {
  // Exact origins ("https://app.example.com"), "*.suffix" (any origin whose
  // host ends in ".suffix", any scheme and port), or "*" (any origin).
  std::vector<std::string> allow_origins;
  Duration max_age = std::chrono::minutes(10);  // how long a browser may cache a preflight
  std::vector<std::string> allow_headers;   // request headers allowed besides the gRPC-Web ones
  std::vector<std::string> expose_headers;  // response metadata shown besides grpc-status/message
  bool allow_credentials = false;           // Access-Control-Allow-Credentials: true
  Mark mark;
};

// listeners[].grpc_web: its presence accepts gRPC-Web requests on the listener.
struct GrpcWebSpec {
  std::optional<CorsSpec> cors;
  Mark mark;
};

// One protobuf descriptor set file (protoc --include_imports --descriptor_set_out).
struct DescriptorSetSpec {
  std::string path;  // resolved against the configuration file's folder
  Mark mark;
};

// How a listener's new connections are spread over the workers.
enum class ConnectionBalance {
  Kernel,  // each worker accepts on its own SO_REUSEPORT socket; the kernel hashes
  Exact,   // the accepting worker hands each connection to the worker with the fewest
};

// Who answers grpc.reflection.v1(alpha).ServerReflection on a listener.
enum class ReflectionMode {
  Passthrough,  // routed to backends like any other RPC
  Merged,       // answered by the proxy from the descriptor sets, for every routed service
};

// listeners[].http1: limits of HTTP/1.1 requests (gRPC-Web and REST/JSON
// clients). Header size, field count and the header timeout are the
// listener's http2.max_header_list_size, http2.max_header_fields and
// request_headers_timeout.
struct Http1Spec {
  uint64_t max_request_body_bytes = 4 * 1024 * 1024;  // larger bodies get 413
  bool operator==(const Http1Spec&) const = default;
};

struct ListenerSpec {
  std::string name;
  std::string address;  // "host:port" or "[v6]:port"
  std::optional<TlsSpec> tls;
  Http2Spec http2;
  Duration idle_timeout = std::chrono::minutes(5);  // 0 = never
  Duration request_headers_timeout = std::chrono::seconds(10);  // 0 = never
  Duration stream_idle_timeout = std::chrono::minutes(5);       // 0 = never
  uint32_t max_connections = 0;  // open client connections, all workers; 0 = no limit
  std::optional<GrpcWebSpec> grpc_web;  // absent: gRPC-Web requests get HTTP 415
  // A client connection older than this (±10 % jitter) is drained with a
  // two-phase GOAWAY; 0 = never.
  Duration max_connection_age = Duration::zero();
  // After that GOAWAY, RPCs still open this much later are ended; 0 = wait for them.
  Duration max_connection_age_grace = std::chrono::seconds(30);
  ReflectionMode reflection = ReflectionMode::Passthrough;
  ConnectionBalance connection_balance = ConnectionBalance::Exact;
  Http1Spec http1;
  Mark mark;
};

// One request-header condition of a route match. Names are lower case.
struct HeaderMatchSpec {
  enum class Kind { Exact, Regex, Present };
  std::string name;
  Kind kind = Kind::Present;
  std::string value;  // the exact value or the RE2 pattern (matched in full)
  Mark mark;
};

struct RouteMatchSpec {
  std::string service;  // "pkg.Service"
  std::string method;   // "Method"; only with service
  std::string prefix;   // "/pkg." path prefix
  std::string authority;  // "" = any; "api.example.com" or "*.example.com"
  std::vector<HeaderMatchSpec> headers;  // all must hold
};

// One target of a weighted split (route `clusters:`).
struct WeightedClusterSpec {
  std::string name;
  uint32_t weight = 1;
  Mark mark;
};

// Route `override:`: a request carrying `header` (with `value`, if set) goes
// to `cluster` instead of the weighted split.
struct ClusterOverrideSpec {
  std::string header;
  std::string value;  // "" = the header's presence is enough
  std::string cluster;
  Mark mark;
};

// Route `request_headers:`: edits applied to the request sent upstream.
struct HeaderEditSpec {
  std::vector<std::pair<std::string, std::string>> set;  // replaces any client copy
  std::vector<std::pair<std::string, std::string>> add;  // appended after the client's
  std::vector<std::string> remove;
};

struct RetryPolicySpec {
  std::vector<int> retry_on;  // gRPC codes, e.g. {14}
  uint32_t max_attempts = 1;  // 1 = no retries; capped at 5
  Duration backoff_base = std::chrono::milliseconds(25);
  Duration backoff_max = std::chrono::milliseconds(250);
};

// Route `auth:` — who may call the route: nobody is checked (`none`, the
// default), a JWT from a provider, or a key from an API key set.
struct RouteAuthSpec {
  enum class Kind { None, Jwt, ApiKey };
  Kind kind = Kind::None;
  std::string name;  // the provider or key set
  // claim -> value that must hold (equal, a word of a space-separated claim,
  // or an item of an array claim); JWT only.
  std::vector<std::pair<std::string, std::string>> require_claims;
  Mark mark;
};

// Route `rate_limit:`: a token bucket per route, or per key within the route.
struct RateLimitSpec {
  enum class Key { None, ClientIp, Header, JwtSub };
  double rps = 0;        // sustained requests per second (> 0, fractions allowed)
  uint32_t burst = 0;    // requests a full bucket admits at once; 0 in the file: ceil(rps)
  Key key = Key::None;
  std::string header;    // Key::Header: the lower-case header name
  uint32_t max_keys = 10000;  // keyed buckets kept at most (bounded table)
  Mark mark;
};

// Route `json_transcoding:` — HTTP/JSON requests to the route's service are
// translated to gRPC by the google.api.http rules in the descriptor sets.
// `json_transcoding: true` takes every default; a map sets some of them.
struct JsonTranscodingSpec {
  enum class UnknownFields { Reject, Ignore };
  enum class StreamFormat { Array, Ndjson };
  UnknownFields unknown_fields = UnknownFields::Reject;  // in the JSON body and query
  StreamFormat stream_format = StreamFormat::Array;     // server-streaming responses
  uint64_t max_request_body_bytes = 1024 * 1024;        // the JSON request body
  uint64_t max_response_body_bytes = 4 * 1024 * 1024;   // the JSON response body
  Mark mark;
};

struct RouteSpec {
  RouteMatchSpec match;
  std::string cluster;
  std::optional<Duration> timeout_default;  // applied when the client sent no grpc-timeout
  std::optional<Duration> timeout_max;      // caps the client's grpc-timeout
  std::optional<RetryPolicySpec> retry;
  bool require_client_cert = false;      // a verified client certificate is required
  std::vector<std::string> allowed_sans;  // patterns ("spiffe://prod/ns/billing/*"); empty: any
  // Weighted split (instead of `cluster`, which is then empty).
  std::vector<WeightedClusterSpec> clusters;
  std::optional<ClusterOverrideSpec> cluster_override;
  HeaderEditSpec request_headers;
  uint64_t max_request_message_bytes = 0;   // 0 = no limit
  uint64_t max_response_message_bytes = 0;  // 0 = no limit
  std::optional<RateLimitSpec> rate_limit;  // unset: no rate limit
  // stats.per_method: methods that get their own metric series, as
  // "pkg.Service/Method" (a bare "Method" in the file is qualified with the
  // route's service). Other methods under this route count as method "other".
  std::vector<std::string> stats_per_method;
  RouteAuthSpec auth;
  std::optional<JsonTranscodingSpec> json_transcoding;  // unset: gRPC only
  Mark mark;
};

struct HealthCheckSpec {
  bool enabled = false;
  std::string service;  // grpc.health.v1 HealthCheckRequest.service
  std::string mode = "check";  // "check" or "watch"
  Duration interval = std::chrono::seconds(5);
  Duration timeout = std::chrono::seconds(1);
  Duration jitter = Duration::zero();
  uint32_t unhealthy_threshold = 3;
  uint32_t healthy_threshold = 2;
  // The largest HealthCheckResponse message accepted (a real one is 2 bytes);
  // a larger one fails the check as soon as its length prefix arrives.
  uint64_t max_response_bytes = 16 * 1024;
  Mark mark;
};

struct OutlierSpec {
  bool enabled = true;
  uint32_t consecutive_failures = 5;
  Duration base_ejection_time = std::chrono::seconds(30);
  Duration max_ejection_time = std::chrono::seconds(300);
  uint32_t max_ejection_percent = 50;
};

struct RetryBudgetSpec {
  double budget_percent = 20.0;  // retries may add at most this share of active RPCs
  uint32_t min_retry_concurrency = 3;
};

inline constexpr uint32_t kMaxEndpointWeight = 128;

struct EndpointSpec {
  std::string host;  // IP literal or DNS name (without brackets)
  uint16_t port = 0;
  uint32_t weight = 1;  // 1..kMaxEndpointWeight; every address a DNS name resolves to gets it
  Mark mark;
};

struct ClusterSpec {
  std::string name;
  std::vector<EndpointSpec> endpoints;
  std::string lb = "round_robin";
  std::string authority;  // if set, replaces :authority on forwarded requests
  Duration connect_timeout = std::chrono::seconds(1);
  uint32_t max_connections_per_endpoint = 16;
  Duration dns_refresh = std::chrono::seconds(5);
  uint64_t retry_buffer = 64 * 1024;  // bytes of request kept for transparent retry
  uint32_t max_transparent_retries = 2;
  Duration keepalive_interval = std::chrono::seconds(300);  // idle upstream PING
  Duration keepalive_timeout = std::chrono::seconds(20);
  uint32_t panic_threshold = 0;  // percent healthy below which all endpoints are used; 0 = off
  HealthCheckSpec health_check;
  OutlierSpec outlier_detection;
  RetryBudgetSpec retry_budget;
  std::optional<UpstreamTlsSpec> tls;
  // Header limits toward and from the backends (bytes by RFC 7541 4.1, and fields).
  uint32_t max_request_header_list_size = 8 * 1024;
  uint32_t max_response_header_list_size = 64 * 1024;
  uint32_t max_response_header_fields = 500;
  // RPCs waiting for a stream slot on a connection: at most max_pending (per
  // worker), each for at most pending_timeout.
  uint32_t max_pending = 1024;
  // RPCs in flight to the cluster over all workers (circuit_breaker.max_active_rpcs);
  // one more is refused with UNAVAILABLE. 0 = no limit.
  uint32_t max_active_rpcs = 10000;
  Duration pending_timeout = std::chrono::seconds(5);
  // Descriptor sets describing this cluster's services (merged with the top-level ones).
  std::vector<DescriptorSetSpec> descriptor_sets;
  Mark mark;
};

struct AdminSpec {
  std::string address = "127.0.0.1:9901";  // "" disables the admin listener
};

struct LoggingSpec {
  std::string level = "info";
  std::string access_log = "stdout";  // "stdout", "stderr", "off" or a file path
  std::string access_log_format = "text";  // "text" or "json"
  Duration access_log_flush_interval = std::chrono::milliseconds(200);
  uint64_t access_log_buffer = 64 * 1024;  // bytes per worker before a write
};

// Request identity headers added on the way to the backend.
struct TracingSpec {
  bool generate_request_id = true;   // add x-request-id when the client sent none
  bool start_traceparent = false;    // add a W3C traceparent when the client sent none
};

// auth.jwt_providers entry: who issues accepted JWTs and with which keys.
struct JwtProviderSpec {
  std::string name;
  std::string issuer;                  // required `iss`
  std::vector<std::string> audiences;  // `aud` must name one; empty = any
  std::string jwks_file;               // absolute path; read at every load
  Duration clock_skew = std::chrono::seconds(60);
  // claim -> request header set from the verified claim; client-sent
  // copies of these headers are always removed.
  std::vector<std::pair<std::string, std::string>> forward_claims;
  bool forward_token = false;  // keep `authorization` on the forwarded request
  bool allow_hs256 = false;    // accept HS256 with `oct` keys of the JWKS
  uint32_t token_cache_size = 1024;  // verified tokens cached per worker; 0 = off
  Mark mark;
  Mark jwks_mark;
};

// auth.api_key_sets entry.
struct ApiKeySetSpec {
  std::string name;
  std::string header = "x-api-key";
  std::string keys_file;  // absolute path; SHA-256 hex digests, one per line
  bool forward_key = false;  // keep the key header on the forwarded request
  Mark mark;
  Mark keys_mark;
};

struct AuthSpec {
  std::vector<JwtProviderSpec> jwt_providers;
  std::vector<ApiKeySetSpec> api_key_sets;
};

struct Config {
  std::string path;     // the file it came from
  uint32_t workers = 0;  // 0 = auto (one per core)
  AdminSpec admin;
  LoggingSpec logging;
  TracingSpec tracing;
  Duration drain_timeout = std::chrono::seconds(30);
  std::vector<DescriptorSetSpec> descriptor_sets;  // loaded by schema::loadCatalog
  std::vector<ListenerSpec> listeners;
  std::vector<RouteSpec> routes;
  std::vector<ClusterSpec> clusters;
  AuthSpec auth;
};

}  // namespace switchyard::config
