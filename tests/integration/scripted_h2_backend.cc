#include "scripted_h2_backend.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <string_view>
#include <vector>

namespace sytest {
namespace {

using Clock = std::chrono::steady_clock;

struct Stream {
  std::string method;
  bool request_done = false;
  bool answered = false;
  bool body_sent = false;
  uint64_t endless_sent = 0;  // Endless: body bytes produced so far
  Clock::time_point answer_at;
};

struct Conn {
  int fd = -1;
  nghttp2_session* session = nullptr;
  std::map<int32_t, Stream> streams;
  int open_streams = 0;
  bool dead = false;
  bool dead_after_send = false;  // close once pending frames are written
  std::chrono::milliseconds hold{0};
  std::atomic<int>* requests = nullptr;
  std::atomic<int>* max_concurrent = nullptr;
  std::atomic<int>* open_streams_total = nullptr;
  std::atomic<int>* resets = nullptr;
  std::atomic<uint64_t>* endless_bytes = nullptr;

  ~Conn() {
    if (session != nullptr) nghttp2_session_del(session);
    if (fd >= 0) close(fd);
  }
};

Conn* Of(void* user_data) { return static_cast<Conn*>(user_data); }

nghttp2_nv Nv(std::string_view name, std::string_view value) {
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
                    NGHTTP2_NV_FLAG_NONE};
}

int OnBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* ud) {
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  Conn* c = Of(ud);
  c->streams[frame->hd.stream_id] = Stream{};
  ++c->open_streams;
  ++*c->open_streams_total;
  int seen = c->max_concurrent->load();
  while (c->open_streams > seen && !c->max_concurrent->compare_exchange_weak(seen, c->open_streams)) {
  }
  return 0;
}

int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
             const uint8_t* value, size_t valuelen, uint8_t, void* ud) {
  auto it = Of(ud)->streams.find(frame->hd.stream_id);
  if (it == Of(ud)->streams.end()) return 0;
  std::string_view n(reinterpret_cast<const char*>(name), namelen);
  std::string_view v(reinterpret_cast<const char*>(value), valuelen);
  if (n == ":path") it->second.method = std::string(v.substr(v.rfind('/') + 1));
  return 0;
}

int OnFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* ud) {
  if (frame->hd.type == NGHTTP2_RST_STREAM) ++*Of(ud)->resets;
  if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) return 0;
  if (!(frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) return 0;
  Conn* c = Of(ud);
  auto it = c->streams.find(frame->hd.stream_id);
  if (it == c->streams.end()) return 0;
  it->second.request_done = true;
  it->second.answer_at = Clock::now() + (it->second.method == "HoldOk" ? c->hold : std::chrono::milliseconds(0));
  ++*c->requests;
  return 0;
}

int OnStreamClose(nghttp2_session*, int32_t stream_id, uint32_t, void* ud) {
  Conn* c = Of(ud);
  if (c->streams.erase(stream_id) > 0) {
    --c->open_streams;
    --*c->open_streams_total;
  }
  return 0;
}

// A header list that decodes to ~120 MB: the deflater indexes the 2 KB value
// once and then sends a one-byte reference for each repeat. Names and values
// are not copied (they are static).
std::vector<nghttp2_nv> BombFields(std::vector<nghttp2_nv> head) {
  static const std::string value(2000, 'b');
  constexpr uint8_t kNoCopy = NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE;
  nghttp2_nv bomb = Nv("x-bomb", value);
  bomb.flags = kNoCopy;
  for (int i = 0; i < 60000; ++i) head.push_back(bomb);
  return head;
}

// Byte `at` of an endless series of 1 KiB gRPC messages (5-byte prefix
// declaring 1019 bytes, then 'x's).
uint8_t EndlessByte(uint64_t at) {
  static constexpr uint8_t kPrefix[5] = {0, 0, 0, 0x03, 0xfb};
  size_t in_message = static_cast<size_t>(at % 1024);
  return in_message < 5 ? kPrefix[in_message] : uint8_t{'x'};
}

// The body a method answers with before its OK trailers; most send one empty
// message, the framing abuses something a gRPC client must refuse.
std::string BodyOf(const std::string& method) {
  using namespace std::string_literals;
  if (method == "BadLength") return "\x00\x00\x00\x00\x64"s + "only ten b";  // declares 100 bytes
  if (method == "CutPrefix") return "\x00\x00\x00"s;                           // 3 of 5 prefix bytes
  if (method == "CompressedNoEncoding") return "\x01\x00\x00\x00\x02\x0a\x00"s;  // no grpc-encoding
  return std::string(5, '\0');
}

// The body of an OK answer: one message (see BodyOf), then the trailers.
ssize_t ReadOkBody(nghttp2_session* session, int32_t stream_id, uint8_t* buf, size_t len, uint32_t* flags,
                   nghttp2_data_source*, void* ud) {
  auto it = Of(ud)->streams.find(stream_id);
  if (it == Of(ud)->streams.end() || len < 5) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  if (it->second.method == "GoawayMid") {
    // One message, then the connection goes away with the stream open.
    if (it->second.body_sent) return NGHTTP2_ERR_DEFERRED;
    std::fill(buf, buf + 5, 0);
    it->second.body_sent = true;
    nghttp2_submit_goaway(session, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_NO_ERROR, nullptr, 0);
    Of(ud)->dead_after_send = true;
    return 5;
  }
  if (it->second.method == "Endless") {
    // DATA for as long as the proxy's flow-control windows let it through.
    for (size_t i = 0; i < len; ++i) buf[i] = EndlessByte(it->second.endless_sent + i);
    it->second.endless_sent += len;
    *Of(ud)->endless_bytes += len;
    return static_cast<ssize_t>(len);
  }
  const std::string body = BodyOf(it->second.method);
  if (len < body.size()) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  std::copy(body.begin(), body.end(), buf);
  it->second.body_sent = true;
  *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
  if (it->second.method == "TrailerBomb") {
    auto trailers = BombFields({Nv("grpc-status", "0")});
    nghttp2_submit_trailer(session, stream_id, trailers.data(), trailers.size());
    return static_cast<ssize_t>(body.size());
  }
  nghttp2_nv trailers[] = {Nv("grpc-status", "0")};
  nghttp2_submit_trailer(session, stream_id, trailers, 1);
  return static_cast<ssize_t>(body.size());
}

bool SendAll(Conn* c);

// A HEADERS frame whose block is not valid HPACK (an index far past both
// tables), written after everything nghttp2 has queued.
void SendBadHpack(Conn* c, int32_t id) {
  if (!SendAll(c)) return;
  const uint8_t frame[] = {0, 0, 4, NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS,
                           static_cast<uint8_t>(id >> 24), static_cast<uint8_t>(id >> 16),
                           static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id),
                           0xff, 0xff, 0xff, 0x7f};
  if (send(c->fd, frame, sizeof frame, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof frame)) c->dead = true;
}

void Answer(Conn* c, int32_t id, Stream& s) {
  s.answered = true;
  const std::string& m = s.method;
  if (m == "BadHpack") {
    SendBadHpack(c, id);
  } else if (m.rfind("Status", 0) == 0) {
    std::string status = m.substr(6);
    nghttp2_nv nva[] = {Nv(":status", status), Nv("content-type", "text/plain")};
    nghttp2_submit_response(c->session, id, nva, 2, nullptr);
  } else if (m.rfind("Reset", 0) == 0) {
    uint32_t code = static_cast<uint32_t>(std::stoul(m.substr(5)));
    nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, id, code);
  } else if (m == "HeaderBomb") {
    auto nva = BombFields({Nv(":status", "200"), Nv("content-type", "application/grpc")});
    nghttp2_data_provider body{};
    body.read_callback = ReadOkBody;
    nghttp2_submit_response(c->session, id, nva.data(), nva.size(), &body);
  } else {
    nghttp2_nv nva[] = {Nv(":status", "200"), Nv("content-type", "application/grpc")};
    nghttp2_data_provider body{};
    body.read_callback = ReadOkBody;
    nghttp2_submit_response(c->session, id, nva, 2, &body);
  }
}

bool SendAll(Conn* c) {
  for (;;) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(c->session, &data);
    if (n < 0) return false;
    if (n == 0) return true;
    size_t off = 0;
    while (off < static_cast<size_t>(n)) {
      ssize_t w = send(c->fd, data + off, static_cast<size_t>(n) - off, MSG_NOSIGNAL);
      if (w <= 0) return false;
      off += static_cast<size_t>(w);
    }
  }
}

nghttp2_session_callbacks* Callbacks() {
  static nghttp2_session_callbacks* cbs = [] {
    nghttp2_session_callbacks* c = nullptr;
    nghttp2_session_callbacks_new(&c);
    nghttp2_session_callbacks_set_on_begin_headers_callback(c, OnBeginHeaders);
    nghttp2_session_callbacks_set_on_header_callback(c, OnHeader);
    nghttp2_session_callbacks_set_on_frame_recv_callback(c, OnFrameRecv);
    nghttp2_session_callbacks_set_on_stream_close_callback(c, OnStreamClose);
    return c;
  }();
  return cbs;
}

}  // namespace

ScriptedH2Backend::ScriptedH2Backend(uint32_t max_concurrent_streams, std::chrono::milliseconds hold)
    : max_concurrent_streams_(max_concurrent_streams), hold_(hold) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = 0;
  socklen_t len = sizeof sa;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || listen(fd, 64) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
    if (fd >= 0) close(fd);
    return;
  }
  listen_fd_ = fd;
  address_ = "127.0.0.1:" + std::to_string(ntohs(sa.sin_port));
  thread_ = std::thread([this] { run(); });
}

ScriptedH2Backend::~ScriptedH2Backend() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) close(listen_fd_);
}

void ScriptedH2Backend::run() {
  std::vector<std::unique_ptr<Conn>> conns;
  while (!stop_) {
    std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
    for (const auto& c : conns) fds.push_back({c->fd, POLLIN, 0});
    poll(fds.data(), fds.size(), 10);
    if (fds[0].revents & POLLIN) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        auto c = std::make_unique<Conn>();
        c->fd = fd;
        c->hold = hold_;
        c->requests = &requests_;
        c->max_concurrent = &max_concurrent_;
        c->open_streams_total = &open_streams_;
        c->resets = &resets_;
        c->endless_bytes = &endless_bytes_;
        // Room for the bomb header blocks: nghttp2 checks an upper bound of
        // the encoded size (every value as a literal, 120 MB), not the size.
        nghttp2_option* opt = nullptr;
        nghttp2_option_new(&opt);
        nghttp2_option_set_max_send_header_block_length(opt, size_t{1} << 30);
        nghttp2_session_server_new2(&c->session, Callbacks(), c.get(), opt);
        nghttp2_option_del(opt);
        nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, max_concurrent_streams_}};
        nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, iv, 1);
        ++connections_;
        conns.push_back(std::move(c));
      }
    }
    for (size_t i = 0; i < conns.size(); ++i) {
      Conn* c = conns[i].get();
      // fds[i + 1] belongs to conns[i] for the connections polled this round.
      if (i + 1 < fds.size() && (fds[i + 1].revents & (POLLIN | POLLHUP | POLLERR))) {
        std::array<uint8_t, 16384> buf;
        ssize_t n = recv(c->fd, buf.data(), buf.size(), 0);
        if (n <= 0 || nghttp2_session_mem_recv(c->session, buf.data(), static_cast<size_t>(n)) < 0) {
          c->dead = true;
          continue;
        }
      }
      auto now = Clock::now();
      for (auto& [id, s] : c->streams) {
        if (s.request_done && !s.answered && s.answer_at <= now) Answer(c, id, s);
      }
      if (!SendAll(c) || c->dead_after_send ||
          (!nghttp2_session_want_read(c->session) && !nghttp2_session_want_write(c->session))) {
        c->dead = true;
      }
    }
    std::erase_if(conns, [](const std::unique_ptr<Conn>& c) { return c->dead; });
  }
}

}  // namespace sytest
