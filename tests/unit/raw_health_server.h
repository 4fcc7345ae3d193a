// A raw HTTP/2 grpc.health.v1 server (an nghttp2 server session on a loopback
// socket, one thread) for the answers a gRPC server library will not give:
// non-200 statuses, malformed, oversized or compressed messages, responses cut
// into tiny DATA frames, missing trailers, RST_STREAM. Each request gets the
// Answer scripted for its method ("Check" or "Watch"), and the server records
// what the request carried.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace switchyard::test {

struct Answer {
  std::string status = "200";  // :status
  bool trailers_only = false;  // grpc-status/grpc-message in the response headers, no body
  std::string body;            // raw DATA bytes (already length-prefixed)
  size_t chunk = 16384;        // DATA frame size for the body
  bool trailers = true;        // false: the body ends the stream, no trailers
  std::string grpc_status = "0";
  std::string grpc_message;
  int reset = -1;  // >= 0: answer with RST_STREAM(reset) instead
  bool silent = false;  // never answer
};

struct SeenRequest {
  std::map<std::string, std::string> headers;
  std::string body;
};

class RawHealthServer {
 public:
  explicit RawHealthServer(std::map<std::string, Answer> answers) : answers_(std::move(answers)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
        ::listen(listen_fd_, 16) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
      return;
    }
    address_ = "127.0.0.1:" + std::to_string(ntohs(sa.sin_port));
    thread_ = std::thread([this] { run(); });
  }
  ~RawHealthServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (listen_fd_ >= 0) ::close(listen_fd_);
  }
  RawHealthServer(const RawHealthServer&) = delete;
  RawHealthServer& operator=(const RawHealthServer&) = delete;

  bool ok() const { return !address_.empty(); }
  const std::string& address() const { return address_; }
  // Connections accepted so far.
  int connections() const { return connections_.load(); }
  std::vector<SeenRequest> requests() const {
    std::lock_guard<std::mutex> g(mu_);
    return seen_;
  }

 private:
  struct Stream {
    SeenRequest req;
    const Answer* answer = nullptr;
    size_t sent = 0;
  };
  struct Conn {
    RawHealthServer* owner = nullptr;
    int fd = -1;
    nghttp2_session* session = nullptr;
    std::map<int32_t, Stream> streams;
    ~Conn() {
      if (session != nullptr) nghttp2_session_del(session);
      if (fd >= 0) ::close(fd);
    }
  };

  // Points at n and v: both must outlive the submit call (literals, or strings
  // of the persistent Answer).
  static nghttp2_nv nv(std::string_view n, std::string_view v) {
    return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(n.data())),
                      reinterpret_cast<uint8_t*>(const_cast<char*>(v.data())), n.size(), v.size(),
                      NGHTTP2_NV_FLAG_NONE};
  }

  static int onHeader(nghttp2_session*, const nghttp2_frame* f, const uint8_t* n, size_t nl,
                      const uint8_t* v, size_t vl, uint8_t, void* ud) {
    auto* c = static_cast<Conn*>(ud);
    c->streams[f->hd.stream_id].req.headers[std::string(reinterpret_cast<const char*>(n), nl)] =
        std::string(reinterpret_cast<const char*>(v), vl);
    return 0;
  }
  static int onData(nghttp2_session*, uint8_t, int32_t id, const uint8_t* d, size_t len, void* ud) {
    static_cast<Conn*>(ud)->streams[id].req.body.append(reinterpret_cast<const char*>(d), len);
    return 0;
  }
  static int onFrame(nghttp2_session*, const nghttp2_frame* f, void* ud) {
    if (!(f->hd.flags & NGHTTP2_FLAG_END_STREAM)) return 0;
    if (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA) return 0;
    auto* c = static_cast<Conn*>(ud);
    auto it = c->streams.find(f->hd.stream_id);
    if (it != c->streams.end()) c->owner->respond(*c, f->hd.stream_id, it->second);
    return 0;
  }
  static int onClose(nghttp2_session*, int32_t id, uint32_t, void* ud) {
    static_cast<Conn*>(ud)->streams.erase(id);
    return 0;
  }
  static ssize_t readBody(nghttp2_session* session, int32_t id, uint8_t* buf, size_t len,
                          uint32_t* flags, nghttp2_data_source*, void* ud) {
    auto* c = static_cast<Conn*>(ud);
    auto it = c->streams.find(id);
    if (it == c->streams.end()) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    Stream& s = it->second;
    const Answer& a = *s.answer;
    size_t n = std::min({len, a.chunk, a.body.size() - s.sent});
    std::copy_n(a.body.data() + s.sent, n, buf);
    s.sent += n;
    if (s.sent == a.body.size()) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      if (a.trailers) {
        *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
        std::vector<nghttp2_nv> t = {nv("grpc-status", a.grpc_status)};
        if (!a.grpc_message.empty()) t.push_back(nv("grpc-message", a.grpc_message));
        nghttp2_submit_trailer(session, id, t.data(), t.size());
      }
    }
    return static_cast<ssize_t>(n);
  }

  void respond(Conn& c, int32_t id, Stream& s) {
    const std::string& path = s.req.headers[":path"];
    const std::string method = path.substr(path.rfind('/') + 1);
    {
      std::lock_guard<std::mutex> g(mu_);
      seen_.push_back(s.req);
    }
    auto it = answers_.find(method);
    static const Answer kUnimplemented{"200", true, "", 16384, true, "12", ""};
    s.answer = it == answers_.end() ? &kUnimplemented : &it->second;
    const Answer& a = *s.answer;
    if (a.silent) return;
    if (a.reset >= 0) {
      nghttp2_submit_rst_stream(c.session, NGHTTP2_FLAG_NONE, id, static_cast<uint32_t>(a.reset));
      return;
    }
    const std::string content_type = "application/grpc";
    std::vector<nghttp2_nv> h = {nv(":status", a.status), nv("content-type", content_type)};
    if (a.trailers_only || a.status != "200") {
      if (a.trailers_only) h.push_back(nv("grpc-status", a.grpc_status));
      if (a.trailers_only && !a.grpc_message.empty()) h.push_back(nv("grpc-message", a.grpc_message));
      nghttp2_submit_response(c.session, id, h.data(), h.size(), nullptr);
      return;
    }
    nghttp2_data_provider body{};
    body.read_callback = readBody;
    nghttp2_submit_response(c.session, id, h.data(), h.size(), &body);
  }

  static bool flush(Conn& c) {
    for (int i = 0; i < 100000; ++i) {
      const uint8_t* data = nullptr;
      ssize_t n = nghttp2_session_mem_send(c.session, &data);
      if (n < 0) return false;
      if (n == 0) return true;
      for (ssize_t off = 0; off < n;) {
        ssize_t w = ::send(c.fd, data + off, static_cast<size_t>(n - off), MSG_NOSIGNAL);
        if (w <= 0) return false;
        off += w;
      }
    }
    return true;
  }

  void accept() {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto c = std::make_unique<Conn>();
    c->owner = this;
    c->fd = fd;
    nghttp2_session_callbacks* cbs = nullptr;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_header_callback(cbs, onHeader);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, onData);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, onFrame);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, onClose);
    nghttp2_session_server_new(&c->session, cbs, c.get());
    nghttp2_session_callbacks_del(cbs);
    nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, nullptr, 0);
    ++connections_;
    if (flush(*c)) conns_.push_back(std::move(c));
  }

  void run() {
    while (!stop_) {
      std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
      for (const auto& c : conns_) fds.push_back({c->fd, POLLIN, 0});
      ::poll(fds.data(), fds.size(), 10);
      if (fds[0].revents & POLLIN) accept();
      for (size_t i = 1; i < fds.size(); ++i) {
        Conn& c = *conns_[i - 1];
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        uint8_t buf[16384];
        ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
        bool dead = n <= 0 || nghttp2_session_mem_recv(c.session, buf, static_cast<size_t>(n)) < 0 ||
                    !flush(c);
        if (dead) {
          ::close(c.fd);
          c.fd = -1;
        }
      }
      std::erase_if(conns_, [](const auto& c) { return c->fd < 0; });
    }
  }

  std::map<std::string, Answer> answers_;
  int listen_fd_ = -1;
  std::string address_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
  std::vector<std::unique_ptr<Conn>> conns_;
  mutable std::mutex mu_;
  std::vector<SeenRequest> seen_;
};

}  // namespace switchyard::test
