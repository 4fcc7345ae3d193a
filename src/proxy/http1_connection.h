// Http1Connection: one client connection speaking HTTP/1.x, for the clients
// that cannot speak HTTP/2 to the listener: browsers over http:// and tools
// such as curl calling gRPC-Web or REST/JSON. Each request becomes an Rpc,
// the same pipeline as a request over HTTP/2 (route, policy, deadline,
// retries, metrics, access log); this class is its DownstreamSide.
//
// Requests are served one at a time, in order: while one is in flight the
// parser pauses after its end, so pipelined requests wait in the socket
// buffers (bounded by the input high-water mark and the kernel) and are
// answered in order. Keep-alive follows the request (HTTP/1.0 needs
// "Connection: keep-alive"); a response is chunked for HTTP/1.1 unless it
// has a Content-Length, and delimited by the close for HTTP/1.0. Flow
// control is end to end as over HTTP/2: request bytes handed to the Rpc and
// not yet consumed are bounded by the listener's initial_stream_window
// (reading stops beyond it), and the response is pulled from the Rpc only
// while the socket's output is below a high-water mark.
//
// Limits: header size and field count (the listener's http2 limits, 431),
// body size (http1.max_request_body_bytes, 413), request_headers_timeout
// (408), idle_timeout between requests; each is counted in the listener's
// limit metrics and ends the connection. A request that is not HTTP/1.x gets
// 400 and the connection closes. Plain gRPC needs HTTP/2: application/grpc
// gets 415 with a text body. Every answer the connection makes itself gets an
// access-log line in the same record and format as an RPC's.
//
// As on HTTP/2, stream_idle_timeout ends an exchange whose RPC moves no bytes
// either way for that long (the RPC is aborted UNAVAILABLE), and
// max_connection_age (±10 %) makes the connection finish the exchange in
// flight with "Connection: close"; max_connection_age_grace later aborts it.
//
// Hop-by-hop fields (Connection and the fields it names, Keep-Alive,
// Proxy-Connection, TE, Transfer-Encoding, Upgrade) never reach the RPC. A
// HEAD request runs like any other, but its response carries the head only.
#pragma once

#include <event2/bufferevent.h>

#include <chrono>
#include <memory>
#include <string>

#include "common/c_handle.h"
#include "event/loop.h"
#include "event/socket_address.h"
#include "http1/request_parser.h"
#include "http1/response_writer.h"
#include "metrics/edge_limits.h"
#include "proxy/client_connection.h"
#include "proxy/downstream_side.h"
#include "proxy/rpc.h"
#include "proxy/worker_context.h"
#include "tls/peer_identity.h"

namespace switchyard::proxy {

class Http1Connection final : public DownstreamSide,
                              public ClientConnection,
                              private http1::RequestParser::Events {
 public:
  // `bev`: a connected socket, or a TLS bufferevent whose handshake is done
  // (then `identity` is the client's verified certificate, if any).
  // `counted`: its opening was already counted (by the TLS connection it
  // was handed over from).
  Http1Connection(WorkerContext& worker, bufferevent* bev, const event::SocketAddress& peer,
                  const ListenerInfo& listener,
                  std::shared_ptr<const tls::PeerIdentity> identity = nullptr,
                  bool counted = false);
  ~Http1Connection() override;
  Http1Connection(const Http1Connection&) = delete;
  Http1Connection& operator=(const Http1Connection&) = delete;

  // Starts reading (bytes already in the bufferevent's input are parsed too).
  void begin();

  // ClientConnection: the request in flight finishes, then the connection closes.
  void startDrain() override;
  void forceClose() override;

  // DownstreamSide
  WorkerContext& worker() override { return worker_; }
  const ListenerInfo& listener() const override { return listener_; }
  const std::string& peerIp() const override { return peer_ip_; }
  const tls::PeerIdentity* peerIdentity() const override { return identity_.get(); }
  Status respond(int32_t stream_id, const http2::NvList& headers, bool end_stream) override;
  Status sendTrailers(int32_t stream_id, const http2::NvList& trailers) override;
  void resumeResponse(int32_t stream_id) override;
  Status reset(int32_t stream_id, uint32_t h2_error) override;
  void consume(int32_t stream_id, size_t n) override;

  // For tests: requests served so far.
  uint64_t requestsServed() const { return served_; }

 private:
  // http1::RequestParser::Events (called while parsing)
  void onRequestHead(http1::RequestHead&& head) override;
  void onRequestBody(const uint8_t* data, size_t len) override;
  void onRequestComplete() override;

  static void readCb(bufferevent* bev, void* arg);
  static void writeCb(bufferevent* bev, void* arg);
  static void eventCb(bufferevent* bev, short what, void* arg);

  // The work of one loop pass: parse what arrived, pull the response, finish
  // the exchange, close. Always runs from the top of a libevent callback.
  void run();
  void parseInput();
  void pullResponse();
  void finishExchangeIfDone();
  void onParseError();
  // Answers with a short text response (no Rpc) and, if `close`, closes after it.
  void answer(int status, std::string_view text, bool close);
  void limitHit(metrics::ListenerLimit limit);
  void onHeadersTimeout();
  void onIdleTimeout();
  void armIdleTimer();
  // The exchange's RPC moved bytes: stream_idle_timeout counts from now.
  void touchStream();
  void onStreamIdleTimeout();
  void onMaxAge();
  void onAgeGraceExpired();
  // An access-log line for an answer the connection made without an Rpc.
  void logLocalAnswer(int status, std::string_view message);
  // The access log's path, authority and user agent from a head not handed out.
  void rememberPartialHead();
  // Whether `name` must not be forwarded (connection-specific, RFC 9110 7.6.1).
  bool isHopByHopField(std::string_view name, const http1::RequestHead& head) const;
  void write(std::string_view bytes);
  size_t outputPending() const;
  // Destroys the Rpc, telling it how its client stream ended.
  void endRpc(uint32_t h2_error);
  void closeAfterWrite();
  void closeNow();

  WorkerContext& worker_;
  CHandle<bufferevent, bufferevent_free> bev_;
  event::SocketAddress peer_;
  std::string peer_ip_;
  ListenerInfo listener_;
  std::shared_ptr<const tls::PeerIdentity> identity_;
  http1::RequestParser parser_;
  event::Deferred work_;
  event::LazyTimer headers_timer_;
  event::LazyTimer idle_timer_;
  event::LazyTimer stream_idle_timer_;
  event::LazyTimer age_timer_;
  event::LazyTimer age_grace_timer_;
  std::chrono::steady_clock::time_point last_activity_;
  bool idle_aborted_ = false;  // stream_idle_timeout aborted the exchange's RPC

  // What the access log says of an answer made without an Rpc.
  event::Clock::TimePoint request_start_;
  std::string log_path_;
  std::string log_authority_;
  std::string log_user_agent_;

  // The exchange in flight (one request and its response).
  std::unique_ptr<Rpc> rpc_;
  int32_t stream_id_ = -1;
  bool exchange_ = false;         // a request head arrived and its exchange is not finished
  bool request_done_ = false;     // the whole request was read
  bool response_head_ = false;    // the response head was written
  bool response_done_ = false;    // the whole response was written
  bool keep_alive_ = true;        // the connection stays open after this exchange
  bool keep_alive_header_ = false;  // HTTP/1.0 keep-alive: say so in the response
  bool http10_ = false;
  bool expect_continue_ = false;  // the client waits for 100 Continue before its body
  bool body_expected_ = false;    // the request head announced a body
  bool head_request_ = false;     // HEAD: the response is sent without its body
  http1::BodyFraming framing_ = http1::BodyFraming::None;
  size_t unconsumed_ = 0;  // request bytes given to the Rpc and not yet consumed
  uint64_t served_ = 0;
  int32_t next_stream_id_ = 1;

  bool draining_ = false;
  bool peer_eof_ = false;
  bool closing_ = false;  // close once the output is written
  bool closed_ = false;
};

}  // namespace switchyard::proxy
