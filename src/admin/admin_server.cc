#include "admin/admin_server.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <exception>
#include <utility>

#include "common/log.h"
#include "event/socket_address.h"

namespace switchyard::admin {

namespace {

// Limits for a protocol that only ever carries small GET requests.
constexpr int kTimeoutSeconds = 10;
constexpr ev_ssize_t kMaxHeadersBytes = 16 * 1024;
constexpr ev_ssize_t kMaxBodyBytes = 16 * 1024;

const char* reasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return status < 400 ? "OK" : "Error";
  }
}

void reply(evhttp_request* req, const Response& resp, bool allow_get_header) {
  evkeyvalq* headers = evhttp_request_get_output_headers(req);
  evhttp_add_header(headers, "Content-Type", resp.content_type.c_str());
  evhttp_add_header(headers, "Cache-Control", "no-store");
  evhttp_add_header(headers, "X-Content-Type-Options", "nosniff");
  if (allow_get_header) evhttp_add_header(headers, "Allow", "GET");
  evbuffer* body = evhttp_request_get_output_buffer(req);
  evbuffer_add(body, resp.body.data(), resp.body.size());
  evhttp_send_reply(req, resp.status, reasonPhrase(resp.status), nullptr);
}

uint16_t localPort(evutil_socket_t fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return 0;
}

}  // namespace

AdminServer::AdminServer(std::string address) : address_(std::move(address)) {}

AdminServer::~AdminServer() { stop(); }

void AdminServer::handle(std::string path, std::function<Response()> fn) {
  handlers_[std::move(path)] = std::move(fn);
}

Status AdminServer::start() {
  if (loop_) return Error{"admin server already started"};
  std::string host;
  uint16_t port = 0;
  if (!event::splitHostPort(address_, &host, &port)) {
    return Error{"admin address '" + address_ + "' is not host:port or [v6]:port"};
  }
  // stop() wakes the loop from another thread.
  event::initThreading();
  try {
    loop_ = std::make_unique<event::EventLoop>();
  } catch (const std::exception& e) {
    return Error{std::string("admin: ") + e.what()};
  }
  http_.reset(evhttp_new(loop_->base()));
  if (!http_) {
    loop_.reset();
    return Error{"admin: evhttp_new failed"};
  }
  evhttp_set_timeout(http_.get(), kTimeoutSeconds);
  evhttp_set_max_headers_size(http_.get(), kMaxHeadersBytes);
  evhttp_set_max_body_size(http_.get(), kMaxBodyBytes);
  // Let every method reach serve() so it can answer 405 itself (evhttp's own
  // answer to a disallowed method is 501).
  evhttp_set_allowed_methods(http_.get(), EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                              EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                              EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                              EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
  evhttp_set_gencb(http_.get(), &AdminServer::onRequest, this);
  evhttp_bound_socket* bound = evhttp_bind_socket_with_handle(http_.get(), host.c_str(), port);
  if (bound == nullptr) {
    http_.reset();
    loop_.reset();
    return Error{"admin: cannot listen on " + address_};
  }
  port_ = localPort(evhttp_bound_socket_get_fd(bound));
  accept_guard_ = std::make_unique<event::AcceptGuard>(
      loop_->base(), evhttp_bound_socket_get_listener(bound), "admin listener");
  thread_ = std::thread([this] { loop_->run(); });
  log::main().info("admin listening on {} (port {})", address_, port_);
  return Status::okStatus();
}

void AdminServer::stop() {
  if (thread_.joinable()) {
    loop_->stop();
    thread_.join();
  }
  accept_guard_.reset();
  http_.reset();
  loop_.reset();
  port_ = 0;
}

void AdminServer::onRequest(evhttp_request* req, void* arg) {
  static_cast<AdminServer*>(arg)->serve(req);
}

void AdminServer::serve(evhttp_request* req) {
  if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
    reply(req, Response{405, "text/plain; charset=utf-8", "method not allowed\n"}, true);
    return;
  }
  const evhttp_uri* uri = evhttp_request_get_evhttp_uri(req);
  const char* raw_path = uri != nullptr ? evhttp_uri_get_path(uri) : nullptr;
  std::string_view path = raw_path != nullptr && *raw_path != '\0' ? raw_path : "/";
  auto it = handlers_.find(path);
  if (it == handlers_.end()) {
    reply(req, Response{404, "text/plain; charset=utf-8", "not found\n"}, false);
    return;
  }
  Response resp;
  try {
    resp = it->second();
  } catch (const std::exception& e) {
    log::main().error("admin handler for {} failed: {}", path, e.what());
    resp = Response{500, "text/plain; charset=utf-8", "internal error\n"};
  }
  reply(req, resp, false);
}

}  // namespace switchyard::admin
