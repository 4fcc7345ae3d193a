#include "proxy/http1_connection.h"

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "common/log.h"
#include "grpc/content_type.h"
#include "metrics/worker_stats.h"
#include "proxy/access_log_buffer.h"
#include "proxy/access_log_format.h"
#include "tls/context.h"

namespace switchyard::proxy {
namespace {

// Response bytes are pulled from the Rpc only while less than this is queued
// toward the client; the write callback runs again once it drains to kLowWater.
constexpr size_t kHighWater = 256 * 1024;
constexpr size_t kLowWater = 64 * 1024;
// The bufferevent stops reading once this much input waits unparsed (a
// pipelined request waits behind the one in flight; a body waits for the Rpc).
constexpr size_t kInputHighWater = 64 * 1024;
constexpr size_t kPullChunk = 16 * 1024;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

constexpr std::string_view kGrpcNeedsHttp2 =
    "gRPC (application/grpc) needs HTTP/2. Over HTTP/1.1 this listener serves gRPC-Web "
    "(application/grpc-web*) and REST/JSON requests.\n";

http1::RequestLimits limitsFor(const ListenerInfo& l) {
  http1::RequestLimits r;
  r.max_header_bytes = l.h2.max_header_list_size;
  r.max_header_fields = l.h2.max_header_fields;
  r.max_body_bytes = l.http1_max_request_body_bytes;
  return r;
}

// Fields that describe the HTTP/1.1 connection or framing, never forwarded.
bool isConnectionField(std::string_view name) {
  return http2::isHopByHop(name) || name == "te" || name == "expect" ||
         name == "http2-settings" || name == "content-length" || name == "trailer";
}

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view trimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Whether the comma-separated token list `list` holds `token` (any case).
bool listHas(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    if (equalsIgnoreCase(trimSpaces(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

// max_connection_age is spread over +-10 % so that connections opened
// together do not all close together (as on HTTP/2).
Duration jitteredAge(Duration age, uint64_t random) {
  int64_t permille = 900 + static_cast<int64_t>(random % 201);
  return std::max<Duration>(std::chrono::milliseconds(1), age / 1000 * permille);
}

}  // namespace

Http1Connection::Http1Connection(WorkerContext& worker, bufferevent* bev,
                                 const event::SocketAddress& peer, const ListenerInfo& listener,
                                 std::shared_ptr<const tls::PeerIdentity> identity, bool counted)
    : worker_(worker),
      bev_(bev),
      peer_(peer),
      peer_ip_(peer.ip()),
      listener_(listener),
      identity_(std::move(identity)),
      parser_(limitsFor(listener), *this),
      work_(worker.base(), [this] { run(); }),
      headers_timer_(worker.base(), [this] { onHeadersTimeout(); }),
      idle_timer_(worker.base(), [this] { onIdleTimeout(); }),
      stream_idle_timer_(worker.base(), [this] { onStreamIdleTimeout(); }),
      age_timer_(worker.base(), [this] { onMaxAge(); }),
      age_grace_timer_(worker.base(), [this] { onAgeGraceExpired(); }),
      request_start_(worker.clock().now()) {
  if (listener_.stats != nullptr && !counted) listener_.stats->connectionOpened();
}

Http1Connection::~Http1Connection() {
  if (rpc_) endRpc(NGHTTP2_CANCEL);
  if (listener_.stats != nullptr) listener_.stats->connectionClosed();
  if (listener_.open_connections) listener_.open_connections->fetch_sub(1, std::memory_order_relaxed);
}

void Http1Connection::begin() {
  bufferevent_setcb(bev_.get(), &Http1Connection::readCb, &Http1Connection::writeCb,
                    &Http1Connection::eventCb, this);
  bufferevent_setwatermark(bev_.get(), EV_WRITE, kLowWater, 0);
  bufferevent_setwatermark(bev_.get(), EV_READ, 0, kInputHighWater);
  bufferevent_enable(bev_.get(), EV_READ | EV_WRITE);
  armIdleTimer();
  if (listener_.max_connection_age > Duration::zero()) {
    age_timer_.arm(jitteredAge(listener_.max_connection_age, worker_.random()));
  }
  work_.schedule();  // bytes may have arrived already (the protocol was sniffed from them)
}

void Http1Connection::readCb(bufferevent*, void* arg) { static_cast<Http1Connection*>(arg)->run(); }
void Http1Connection::writeCb(bufferevent*, void* arg) { static_cast<Http1Connection*>(arg)->run(); }

void Http1Connection::eventCb(bufferevent*, short what, void* arg) {
  auto* self = static_cast<Http1Connection*>(arg);
  if (what & BEV_EVENT_EOF) {
    self->peer_eof_ = true;
  } else if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
    self->closeNow();
  }
  self->run();
}

// ---------------------------------------------------------------- the pass

void Http1Connection::run() {
  if (!closed_) {
    parseInput();
    pullResponse();
    finishExchangeIfDone();
    if (!closed_ && peer_eof_) {
      // The client closed its side. Browsers and HTTP tools do so only when
      // they are gone (as nginx assumes): an Rpc still answering is
      // cancelled, as for an HTTP/2 client's RST_STREAM, and requests not yet
      // read are dropped. A finished answer is still written out.
      if (exchange_ && !response_done_) {
        closeNow();
      } else {
        closeAfterWrite();
      }
    }
    if (!closed_ && closing_ && outputPending() == 0) closeNow();
  }
  if (closed_) worker_.clientConnectionClosed(this);  // destroys this; nothing may follow
}

void Http1Connection::parseInput() {
  evbuffer* in = bufferevent_get_input(bev_.get());
  const size_t window = std::max<size_t>(listener_.h2.initial_stream_window, 1);
  while (!closed_ && !closing_) {
    if (parser_.paused()) {
      if (exchange_) break;  // the next request waits for this one's response
      parser_.resume();
    }
    if (unconsumed_ >= window) break;  // the Rpc has not taken what it was given
    if (evbuffer_get_length(in) == 0) break;
    if (!parser_.inRequest()) {
      // These bytes start a request: what the access log knows of it so far.
      request_start_ = worker_.clock().now();
      log_path_.clear();
      log_authority_.clear();
      log_user_agent_.clear();
    }
    evbuffer_iovec vec;
    if (evbuffer_peek(in, -1, nullptr, &vec, 1) < 1) break;
    size_t len = std::min(vec.iov_len, window - unconsumed_);
    size_t used = parser_.feed(static_cast<const uint8_t*>(vec.iov_base), len);
    evbuffer_drain(in, used);
    if (parser_.error() != http1::ParseError::None) {
      onParseError();
      return;
    }
    if (used == 0) break;
  }
  if (closed_ || closing_) return;
  if (parser_.inRequest() && !parser_.headDone()) {
    idle_timer_.cancel();
    if (!headers_timer_.armed() && listener_.request_headers_timeout > Duration::zero()) {
      headers_timer_.arm(listener_.request_headers_timeout);
    }
  }
}

void Http1Connection::pullResponse() {
  static thread_local std::array<uint8_t, kPullChunk> buf;
  while (rpc_ && response_head_ && !response_done_ && !closing_ && !closed_ &&
         outputPending() < kHighWater) {
    uint32_t flags = 0;
    ssize_t n = rpc_->readResponseBody(buf.data(), buf.size(), &flags);
    if (n == NGHTTP2_ERR_DEFERRED) break;
    if (n < 0) {
      // The Rpc cannot go on; the client sees the connection end early.
      closing_ = true;
      keep_alive_ = false;
      break;
    }
    if (n > 0) {
      touchStream();
      auto* out = bufferevent_get_output(bev_.get());
      if (framing_ == http1::BodyFraming::Chunked) {
        std::string head;
        http1::appendChunkHeader(head, static_cast<size_t>(n));
        evbuffer_add(out, head.data(), head.size());
        evbuffer_add(out, buf.data(), static_cast<size_t>(n));
        evbuffer_add(out, http1::kChunkEnd.data(), http1::kChunkEnd.size());
      } else {
        evbuffer_add(out, buf.data(), static_cast<size_t>(n));
      }
    }
    if (flags & NGHTTP2_DATA_FLAG_EOF) {
      // With NO_END_STREAM the Rpc has sent trailers (sendTrailers ended the body).
      if (!(flags & NGHTTP2_DATA_FLAG_NO_END_STREAM) && !response_done_) {
        if (framing_ == http1::BodyFraming::Chunked) {
          std::string last;
          http1::appendLastChunk(last, {});
          write(last);
        }
        response_done_ = true;
      }
      break;
    }
  }
}

void Http1Connection::finishExchangeIfDone() {
  if (closed_ || !exchange_ || !response_done_) return;
  stream_idle_timer_.cancel();
  if (rpc_) endRpc(NGHTTP2_NO_ERROR);
  if (framing_ == http1::BodyFraming::UntilClose) keep_alive_ = false;
  if (!keep_alive_ || draining_) {
    closeAfterWrite();
    return;
  }
  // The rest of the request body (answered early) is read and dropped first.
  if (!request_done_) return;
  exchange_ = false;
  ++served_;
  armIdleTimer();
  // A pipelined request may be waiting in the input.
  if (evbuffer_get_length(bufferevent_get_input(bev_.get())) > 0) work_.schedule();
}

// ---------------------------------------------------------------- requests

void Http1Connection::onRequestHead(http1::RequestHead&& head) {
  headers_timer_.cancel();
  idle_timer_.cancel();
  exchange_ = true;
  request_done_ = false;
  response_head_ = false;
  response_done_ = false;
  framing_ = http1::BodyFraming::None;
  unconsumed_ = 0;
  http10_ = head.version_major == 1 && head.version_minor == 0;
  keep_alive_ = head.keep_alive && !draining_;
  keep_alive_header_ = http10_ && keep_alive_;
  expect_continue_ = head.expect_continue && head.has_body && !http10_;
  body_expected_ = head.has_body;
  head_request_ = head.method == "HEAD";
  idle_aborted_ = false;
  log_path_ = head.target.substr(0, std::min<size_t>(head.target.size(), 512));
  log_authority_ = head.get("host");
  log_user_agent_ = head.get("user-agent");
  stream_id_ = next_stream_id_;
  next_stream_id_ = next_stream_id_ >= (1 << 30) ? 1 : next_stream_id_ + 2;

  auto* stats = worker_.stats();
  if (head.method == "CONNECT") {
    if (stats != nullptr) stats->localError(metrics::LocalError::MethodNotAllowed);
    keep_alive_ = false;
    answer(405, "CONNECT is not supported.\n", true);
    logLocalAnswer(405, "CONNECT is not supported");
    return;
  }
  if (grpc::isGrpcContentType(head.get("content-type"))) {
    if (stats != nullptr) stats->localError(metrics::LocalError::BadRequest);
    // Its body may be a stream that never ends: the connection closes after the answer.
    answer(415, kGrpcNeedsHttp2, true);
    logLocalAnswer(415, "gRPC (application/grpc) needs HTTP/2");
    return;
  }
  std::string_view target = head.target;
  std::string_view authority = head.get("host");
  for (std::string_view scheme : {std::string_view("http://"), std::string_view("https://")}) {
    if (startsWith(target, scheme)) {
      // absolute-form (RFC 9112 3.2.2): the target names the authority.
      std::string_view rest = target.substr(scheme.size());
      size_t slash = rest.find('/');
      authority = rest.substr(0, slash);
      target = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
    }
  }
  if (target.empty() || target[0] != '/') {
    if (stats != nullptr) stats->localError(metrics::LocalError::BadRequest);
    if (listener_.stats != nullptr) listener_.stats->protocolError();
    keep_alive_ = false;
    answer(400, "The request target must be a path.\n", true);
    logLocalAnswer(400, "the request target must be a path");
    return;
  }
  rpc_ = std::make_unique<Rpc>(*this, stream_id_);
  http2::HeaderList& h = rpc_->requestHeaders();
  h.addOwned(":method", head.method);
  h.addOwned(":scheme", listener_.tls ? "https" : "http");
  if (!authority.empty()) h.addOwned(":authority", authority);
  h.addOwned(":path", target);
  for (const auto& [name, value] : head.fields) {
    if (!isHopByHopField(name, head)) h.addOwned(name, value);
  }
  touchStream();
  rpc_->onRequestHeaders(!head.has_body);
  if (expect_continue_ && !response_head_ && !closing_) write(kContinue);
}

void Http1Connection::onRequestBody(const uint8_t* data, size_t len) {
  if (!rpc_ || response_done_) return;  // answered already: the rest is dropped
  unconsumed_ += len;
  touchStream();
  rpc_->onRequestData(data, len);
}

void Http1Connection::onRequestComplete() {
  request_done_ = true;
  if (rpc_ && body_expected_ && !response_done_) rpc_->onRequestEnd();
  work_.schedule();
}

void Http1Connection::onParseError() {
  http1::ParseError error = parser_.error();
  int status = 400;
  std::string text = parser_.errorText();
  switch (error) {
    case http1::ParseError::HeadersTooLarge:
      status = 431;
      limitHit(metrics::ListenerLimit::HeaderListSize);
      text += " (limit " + std::to_string(listener_.h2.max_header_list_size) + " bytes)";
      break;
    case http1::ParseError::TooManyFields:
      status = 431;
      limitHit(metrics::ListenerLimit::HeaderFields);
      text += " (limit " + std::to_string(listener_.h2.max_header_fields) + " fields)";
      break;
    case http1::ParseError::BodyTooLarge:
      status = 413;
      limitHit(metrics::ListenerLimit::RequestBodySize);
      text += " (limit " + std::to_string(listener_.http1_max_request_body_bytes) + " bytes)";
      break;
    default:
      if (listener_.stats != nullptr) listener_.stats->protocolError();
      break;
  }
  log::main().info("listener {}: HTTP/1.1 client {}: {}; answered {} and closed", listener_.name,
                   peer_.toString(), text, status);
  keep_alive_ = false;
  if (response_head_ && !response_done_) {
    // A response is on its way: it cannot be replaced; the client sees it cut.
    closeNow();
    return;
  }
  if (!parser_.headDone()) rememberPartialHead();  // the head was refused
  // An Rpc already under way logs its own line.
  bool logged = rpc_ != nullptr;
  if (rpc_) endRpc(NGHTTP2_CANCEL);
  if (!response_head_) {
    answer(status, text + "\n", true);
    if (!logged) logLocalAnswer(status, text);
  }
  closeAfterWrite();
}

// ----------------------------------------------------------- DownstreamSide

Status Http1Connection::respond(int32_t stream_id, const http2::NvList& headers, bool end_stream) {
  if (stream_id != stream_id_ || response_head_ || closed_) return Error{"no response is expected"};
  int status = 200;
  http1::Fields fields;
  fields.reserve(headers.size());
  bool has_length = false;
  for (size_t i = 0; i < headers.size(); ++i) {
    const nghttp2_nv& nv = headers.data()[i];
    std::string_view name(reinterpret_cast<const char*>(nv.name), nv.namelen);
    std::string_view value(reinterpret_cast<const char*>(nv.value), nv.valuelen);
    if (name == ":status") {
      status = std::atoi(std::string(value).c_str());
      continue;
    }
    if (name == "content-length") has_length = true;
    fields.emplace_back(name, value);
  }
  // A client that waits for 100 Continue may never send its body now.
  if (!request_done_ && expect_continue_) keep_alive_ = false;
  if (end_stream) {
    framing_ = http1::BodyFraming::None;
  } else if (has_length) {
    framing_ = http1::BodyFraming::ContentLength;
  } else if (http10_) {
    framing_ = http1::BodyFraming::UntilClose;
    keep_alive_ = false;
  } else {
    framing_ = http1::BodyFraming::Chunked;
  }
  std::string out;
  out.reserve(256);
  http1::appendHead(out, status, fields, framing_, !keep_alive_ || draining_, keep_alive_header_);
  write(out);
  touchStream();
  response_head_ = true;
  // A response to HEAD ends with its head (RFC 9110 9.3.2): the body the Rpc
  // would send is never pulled, and the Rpc ends with the exchange.
  if (end_stream || head_request_) response_done_ = true;
  work_.schedule();
  return Status();
}

Status Http1Connection::sendTrailers(int32_t stream_id, const http2::NvList& trailers) {
  if (head_request_ && stream_id == stream_id_ && response_head_) return Status();  // no body, no trailers
  if (stream_id != stream_id_ || !response_head_ || response_done_) {
    return Error{"no response in progress"};
  }
  if (framing_ == http1::BodyFraming::Chunked) {
    http1::Fields fields;
    for (size_t i = 0; i < trailers.size(); ++i) {
      const nghttp2_nv& nv = trailers.data()[i];
      fields.emplace_back(std::string_view(reinterpret_cast<const char*>(nv.name), nv.namelen),
                          std::string_view(reinterpret_cast<const char*>(nv.value), nv.valuelen));
    }
    std::string last;
    http1::appendLastChunk(last, fields);
    write(last);
  }
  response_done_ = true;
  work_.schedule();
  return Status();
}

void Http1Connection::resumeResponse(int32_t stream_id) {
  if (stream_id == stream_id_) work_.schedule();
}

Status Http1Connection::reset(int32_t stream_id, uint32_t) {
  if (stream_id != stream_id_) return Status();
  // HTTP/1.1 has no stream to reset: the connection ends, cutting the response.
  keep_alive_ = false;
  if (!response_done_) closing_ = true;
  work_.schedule();
  return Status();
}

void Http1Connection::consume(int32_t stream_id, size_t n) {
  if (stream_id != stream_id_ || n == 0) return;
  unconsumed_ -= std::min(n, unconsumed_);
  work_.schedule();
}

// ------------------------------------------------------------------ helpers

void Http1Connection::answer(int status, std::string_view text, bool close) {
  if (close) keep_alive_ = false;
  std::string out = http1::textResponse(status, text, !keep_alive_ || draining_);
  if (head_request_) out.resize(out.find("\r\n\r\n") + 4);  // the head only
  write(out);
  response_head_ = true;
  response_done_ = true;
  framing_ = http1::BodyFraming::ContentLength;
  work_.schedule();
}

void Http1Connection::limitHit(metrics::ListenerLimit limit) {
  if (listener_.stats != nullptr) listener_.stats->limitHit(limit);
}

void Http1Connection::onHeadersTimeout() {
  if (closed_ || closing_ || !parser_.inRequest() || parser_.headDone()) return;
  limitHit(metrics::ListenerLimit::RequestHeadersTimeout);
  log::main().info("listener {}: HTTP/1.1 client {} did not finish its request headers within "
                   "request_headers_timeout; answered 408 and closed",
                   listener_.name, peer_.toString());
  keep_alive_ = false;
  write(http1::textResponse(408, "Request headers not received in time.\n", true));
  rememberPartialHead();
  logLocalAnswer(408, "request headers not received within request_headers_timeout");
  closeAfterWrite();
  work_.schedule();
}

void Http1Connection::onIdleTimeout() {
  if (closed_ || exchange_ || parser_.inRequest()) return;
  closeNow();
  work_.schedule();
}

void Http1Connection::touchStream() {
  if (listener_.stream_idle_timeout <= Duration::zero()) return;
  last_activity_ = std::chrono::steady_clock::now();
  if (!stream_idle_timer_.armed()) stream_idle_timer_.arm(listener_.stream_idle_timeout);
}

void Http1Connection::onStreamIdleTimeout() {
  if (closed_ || !exchange_ || response_done_) return;
  const Duration timeout = listener_.stream_idle_timeout;
  auto idle = std::chrono::steady_clock::now() - last_activity_;
  if (idle < timeout) {
    stream_idle_timer_.arm(std::chrono::duration_cast<Duration>(timeout - idle));
    return;
  }
  if (rpc_ && !idle_aborted_) {
    // The RPC ends with a status, as on HTTP/2; if even that cannot get out
    // (the client reads nothing), the next timeout closes the connection.
    idle_aborted_ = true;
    limitHit(metrics::ListenerLimit::StreamIdleTimeout);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
    keep_alive_ = false;
    rpc_->abort(grpc::StatusCode::Unavailable,
                "stream idle for " + std::to_string(ms) + "ms (stream_idle_timeout)");
    last_activity_ = std::chrono::steady_clock::now();
    stream_idle_timer_.arm(timeout);
  } else {
    closeNow();
  }
  work_.schedule();
}

void Http1Connection::onMaxAge() {
  if (closed_ || draining_) return;
  if (listener_.stats != nullptr) listener_.stats->connectionAged();
  log::main().debug("listener {}: HTTP/1.1 connection from {} reached max_connection_age; "
                    "closing after the response in flight",
                    listener_.name, peer_.toString());
  startDrain();
  if (exchange_ && listener_.max_connection_age_grace > Duration::zero()) {
    age_grace_timer_.arm(listener_.max_connection_age_grace);
  }
}

void Http1Connection::onAgeGraceExpired() {
  if (closed_ || !rpc_ || response_done_) return;
  rpc_->abort(grpc::StatusCode::Unavailable,
              "connection reached max_connection_age and its max_connection_age_grace passed");
  work_.schedule();
}

void Http1Connection::logLocalAnswer(int status, std::string_view message) {
  AccessLogBuffer* log = worker_.accessLog();
  if (log == nullptr || !log->enabled()) return;
  AccessRecord r;
  r.time = std::chrono::system_clock::now();
  r.client = peer_ip_;
  r.authority = log_authority_;
  r.path = log_path_;
  r.listener = listener_.name;
  r.http_status = status;
  r.grpc_message = message;
  r.duration_ms =
      std::chrono::duration<double, std::milli>(worker_.clock().now() - request_start_).count();
  r.user_agent = log_user_agent_;
  if (identity_) r.client_identity = identity_->display();
  log->append(r);
}

void Http1Connection::rememberPartialHead() {
  const http1::RequestHead& partial = parser_.partialHead();
  log_path_ = partial.target.substr(0, std::min<size_t>(partial.target.size(), 512));
  log_authority_ = partial.get("host");
  log_user_agent_ = partial.get("user-agent");
}

bool Http1Connection::isHopByHopField(std::string_view name, const http1::RequestHead& head) const {
  if (isConnectionField(name)) return true;
  // Fields the request's Connection header names are this hop's (RFC 9110 7.6.1).
  for (const auto& [field, value] : head.fields) {
    if (field == "connection" && listHas(value, name)) return true;
  }
  return false;
}

void Http1Connection::armIdleTimer() {
  if (listener_.idle_timeout > Duration::zero()) idle_timer_.arm(listener_.idle_timeout);
}

void Http1Connection::startDrain() {
  if (draining_ || closed_) return;
  draining_ = true;
  keep_alive_ = false;
  if (!exchange_ && !parser_.inRequest()) closeAfterWrite();
  work_.schedule();
}

void Http1Connection::forceClose() {
  if (closed_) return;
  draining_ = true;
  keep_alive_ = false;
  if (rpc_ && !response_done_) {
    if (auto* stats = worker_.stats()) stats->localError(metrics::LocalError::Draining);
    rpc_->abort(grpc::StatusCode::Unavailable, "proxy is shutting down (drain_timeout passed)");
  }
  closeAfterWrite();
  work_.schedule();
}

void Http1Connection::write(std::string_view bytes) {
  evbuffer_add(bufferevent_get_output(bev_.get()), bytes.data(), bytes.size());
}

size_t Http1Connection::outputPending() const {
  return evbuffer_get_length(bufferevent_get_output(bev_.get()));
}

void Http1Connection::endRpc(uint32_t h2_error) {
  std::unique_ptr<Rpc> rpc = std::move(rpc_);
  unconsumed_ = 0;
  if (rpc) rpc->onDownstreamClosed(h2_error);
}

void Http1Connection::closeAfterWrite() {
  closing_ = true;
  bufferevent_disable(bev_.get(), EV_READ);
}

void Http1Connection::closeNow() {
  if (closed_) return;
  closed_ = true;
  headers_timer_.cancel();
  idle_timer_.cancel();
  stream_idle_timer_.cancel();
  age_timer_.cancel();
  age_grace_timer_.cancel();
  if (rpc_) endRpc(NGHTTP2_CANCEL);
  bufferevent_disable(bev_.get(), EV_READ | EV_WRITE);
  // As nginx does: a connection that ends without close_notify keeps its session.
  if (listener_.tls) tls::keepSessionResumable(bufferevent_openssl_get_ssl(bev_.get()));
}

}  // namespace switchyard::proxy
