#include "raw_h2.h"

#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "harness.h"

namespace sytest {

std::string H2Result::Field(size_t block, const std::string& name) const {
  if (block >= blocks.size()) return "";
  for (const auto& [k, v] : blocks[block].fields) {
    if (k == name) return v;
  }
  return "";
}

namespace {

struct ClientState {
  int fd = -1;
  int32_t stream_id = -1;
  H2Result* result = nullptr;
  const std::string* body = nullptr;
  size_t body_offset = 0;
  bool io_error = false;
};

ssize_t OnSend(nghttp2_session*, const uint8_t* data, size_t length, int, void* user) {
  auto* st = static_cast<ClientState*>(user);
  ssize_t n = ::send(st->fd, data, length, MSG_NOSIGNAL);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return NGHTTP2_ERR_WOULDBLOCK;
    st->io_error = true;
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
  return n;
}

int OnBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  auto* st = static_cast<ClientState*>(user);
  if (frame->hd.type == NGHTTP2_HEADERS && frame->hd.stream_id == st->stream_id) st->result->blocks.emplace_back();
  return 0;
}

int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen, const uint8_t* value,
             size_t valuelen, uint8_t, void* user) {
  auto* st = static_cast<ClientState*>(user);
  if (frame->hd.type == NGHTTP2_HEADERS && frame->hd.stream_id == st->stream_id && !st->result->blocks.empty()) {
    st->result->blocks.back().fields.emplace_back(std::string(reinterpret_cast<const char*>(name), namelen),
                                                  std::string(reinterpret_cast<const char*>(value), valuelen));
  }
  return 0;
}

int OnFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  auto* st = static_cast<ClientState*>(user);
  if (frame->hd.type == NGHTTP2_HEADERS && frame->hd.stream_id == st->stream_id && !st->result->blocks.empty() &&
      (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
    st->result->blocks.back().end_stream = true;
  }
  if (frame->hd.type == NGHTTP2_DATA && frame->hd.stream_id == st->stream_id) st->result->data_frames++;
  if (frame->hd.type == NGHTTP2_GOAWAY) {
    st->result->goaway = true;
    st->result->goaway_error_code = frame->goaway.error_code;
  }
  return 0;
}

int OnDataChunk(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data, size_t len, void* user) {
  auto* st = static_cast<ClientState*>(user);
  if (stream_id == st->stream_id) st->result->body.append(reinterpret_cast<const char*>(data), len);
  return 0;
}

int OnStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* user) {
  auto* st = static_cast<ClientState*>(user);
  if (stream_id == st->stream_id) {
    st->result->stream_closed = true;
    st->result->stream_error_code = error_code;
  }
  return 0;
}

ssize_t ReadBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* data_flags, nghttp2_data_source*,
                 void* user) {
  auto* st = static_cast<ClientState*>(user);
  size_t n = std::min(length, st->body->size() - st->body_offset);
  std::memcpy(buf, st->body->data() + st->body_offset, n);
  st->body_offset += n;
  if (st->body_offset == st->body->size()) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(n);
}

// Views, so a literal name does not become a temporary std::string that dies
// before nghttp2 copies it.
nghttp2_nv Nv(std::string_view name, std::string_view value) {
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
                    NGHTTP2_NV_FLAG_NONE};
}

}  // namespace

H2Result H2Request(const std::string& address, const std::string& path, const HeaderList& headers,
                   const std::string& body, std::chrono::milliseconds timeout) {
  H2Result result;
  int fd = ConnectTcp(address, timeout);
  if (fd < 0) {
    result.error = "cannot connect to " + address;
    return result;
  }
  ClientState st;
  st.fd = fd;
  st.result = &result;
  st.body = &body;

  nghttp2_session_callbacks* cbs = nullptr;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_send_callback(cbs, OnSend);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, OnBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(cbs, OnHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, OnFrameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, OnDataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, OnStreamClose);
  nghttp2_session* session = nullptr;
  nghttp2_session_client_new(&session, cbs, &st);
  nghttp2_session_callbacks_del(cbs);

  nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, nullptr, 0);
  const std::string method = "POST", scheme = "http", authority = address;
  std::vector<nghttp2_nv> nva = {Nv(":method", method), Nv(":scheme", scheme), Nv(":authority", authority),
                                 Nv(":path", path)};
  for (const auto& [k, v] : headers) nva.push_back(Nv(k, v));
  nghttp2_data_provider provider{};
  provider.read_callback = ReadBody;
  st.stream_id = nghttp2_submit_request(session, nullptr, nva.data(), nva.size(), &provider, nullptr);
  if (st.stream_id < 0) result.error = "nghttp2_submit_request failed";

  auto until = Clock::now() + timeout;
  uint8_t buf[16384];
  for (int i = 0; i < 100000 && result.error.empty() && !result.stream_closed; ++i) {
    if (Clock::now() >= until) {
      result.error = "timed out waiting for the response";
      break;
    }
    if (nghttp2_session_send(session) != 0 || st.io_error) {
      result.error = "send failed";
      break;
    }
    pollfd p{fd, POLLIN, 0};
    int ready = ::poll(&p, 1, 50);
    if (ready <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      result.error = "connection closed before the stream ended";
      break;
    }
    ssize_t used = nghttp2_session_mem_recv(session, buf, static_cast<size_t>(n));
    if (used < 0) {
      result.error = std::string("nghttp2: ") + nghttp2_strerror(static_cast<int>(used));
      break;
    }
  }
  nghttp2_session_del(session);
  ::close(fd);
  return result;
}

std::string GrpcFrame(const std::string& message) {
  std::string f(5, '\0');
  uint32_t n = static_cast<uint32_t>(message.size());
  f[1] = static_cast<char>(n >> 24);
  f[2] = static_cast<char>(n >> 16);
  f[3] = static_cast<char>(n >> 8);
  f[4] = static_cast<char>(n);
  return f + message;
}

std::string EncodeFrame(uint8_t type, uint8_t flags, uint32_t stream_id, const std::string& payload) {
  std::string f(9, '\0');
  uint32_t n = static_cast<uint32_t>(payload.size());
  f[0] = static_cast<char>(n >> 16);
  f[1] = static_cast<char>(n >> 8);
  f[2] = static_cast<char>(n);
  f[3] = static_cast<char>(type);
  f[4] = static_cast<char>(flags);
  f[5] = static_cast<char>((stream_id >> 24) & 0x7f);
  f[6] = static_cast<char>(stream_id >> 16);
  f[7] = static_cast<char>(stream_id >> 8);
  f[8] = static_cast<char>(stream_id);
  return f + payload;
}

bool WriteAll(int fd, const std::string& data) {
  size_t off = 0;
  for (int i = 0; i < 100000 && off < data.size(); ++i) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return off == data.size();
}

RawReadResult ReadUntilClosed(int fd, std::chrono::milliseconds timeout) {
  RawReadResult r;
  auto until = Clock::now() + timeout;
  char buf[16384];
  for (int i = 0; i < 100000; ++i) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{fd, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(std::min<long>(left, 100)));
    if (ready <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      r.closed = true;  // EOF or reset
      break;
    }
    r.bytes.append(buf, static_cast<size_t>(n));
  }
  size_t off = 0;
  while (r.bytes.size() - off >= 9) {
    const auto* b = reinterpret_cast<const unsigned char*>(r.bytes.data() + off);
    RawFrame f;
    f.length = (uint32_t{b[0]} << 16) | (uint32_t{b[1]} << 8) | b[2];
    f.type = b[3];
    f.flags = b[4];
    f.stream_id = ((uint32_t{b[5]} & 0x7f) << 24) | (uint32_t{b[6]} << 16) | (uint32_t{b[7]} << 8) | b[8];
    if (r.bytes.size() - off - 9 < f.length) break;
    f.payload = r.bytes.substr(off + 9, f.length);
    r.frames.push_back(std::move(f));
    off += 9 + r.frames.back().length;
  }
  return r;
}

bool FindGoaway(const RawReadResult& r, uint32_t* error_code) {
  for (const auto& f : r.frames) {
    if (f.type == 0x7 && f.payload.size() >= 8) {
      const auto* p = reinterpret_cast<const unsigned char*>(f.payload.data());
      *error_code = (uint32_t{p[4]} << 24) | (uint32_t{p[5]} << 16) | (uint32_t{p[6]} << 8) | p[7];
      return true;
    }
  }
  return false;
}

}  // namespace sytest
