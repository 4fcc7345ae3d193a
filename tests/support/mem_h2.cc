#include "mem_h2.h"

#include <event2/buffer.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace sytest::mem {
namespace {

std::string ToString(nghttp2_rcbuf* buf) {
  nghttp2_vec v = nghttp2_rcbuf_get_buf(buf);
  return std::string(reinterpret_cast<const char*>(v.base), v.len);
}

std::vector<nghttp2_nv> ToNv(const Fields& fields) {
  std::vector<nghttp2_nv> nva;
  nva.reserve(fields.size());
  for (const auto& [name, value] : fields) {
    nva.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                   reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                   value.size(), NGHTTP2_NV_FLAG_NONE});
  }
  return nva;
}

}  // namespace

Pipe MakePipe(event_base* base) {
  bufferevent* pair[2] = {nullptr, nullptr};
  if (bufferevent_pair_new(base, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS, pair) != 0) {
    throw std::runtime_error("bufferevent_pair_new failed");
  }
  return Pipe{pair[0], pair[1]};
}

std::optional<std::string> Find(const Fields& fields, std::string_view name) {
  for (const auto& [n, v] : fields) {
    if (n == name) return v;
  }
  return std::nullopt;
}

// nghttp2 callbacks; user_data is the H2Peer.
struct H2Peer::Callbacks {
  static H2Peer* self(void* ud) { return static_cast<H2Peer*>(ud); }

  static int beginHeaders(nghttp2_session*, const nghttp2_frame* f, void* ud) {
    self(ud)->streams_[f->hd.stream_id];
    return 0;
  }
  static int header(nghttp2_session*, const nghttp2_frame* f, nghttp2_rcbuf* name,
                    nghttp2_rcbuf* value, uint8_t, void* ud) {
    if (f->hd.type != NGHTTP2_HEADERS) return 0;
    auto& st = self(ud)->streams_[f->hd.stream_id];
    auto& dest = f->headers.cat == NGHTTP2_HCAT_HEADERS ? st.trailers : st.headers;
    dest.emplace_back(ToString(name), ToString(value));
    return 0;
  }
  static int frameRecv(nghttp2_session*, const nghttp2_frame* f, void* ud) {
    H2Peer* p = self(ud);
    int32_t id = f->hd.stream_id;
    switch (f->hd.type) {
      case NGHTTP2_HEADERS:
        if (f->headers.cat == NGHTTP2_HCAT_REQUEST && p->on_request) p->on_request(id, p->streams_[id]);
        break;
      case NGHTTP2_RST_STREAM:
        p->streams_[id].reset_received = true;
        break;
      case NGHTTP2_GOAWAY:
        p->goaway_received_ = true;
        p->goaway_code_ = f->goaway.error_code;
        break;
      default:
        break;
    }
    if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
        (f->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
      auto& st = p->streams_[id];
      st.remote_ended = true;
      if (p->on_remote_end) p->on_remote_end(id, st);
    }
    return 0;
  }
  static int dataChunk(nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t len,
                       void* ud) {
    self(ud)->streams_[id].data.append(reinterpret_cast<const char*>(data), len);
    return 0;
  }
  static int streamClose(nghttp2_session*, int32_t id, uint32_t code, void* ud) {
    auto& st = self(ud)->streams_[id];
    st.closed = true;
    st.close_code = code;
    self(ud)->out_.erase(id);
    return 0;
  }
  static ssize_t readData(nghttp2_session* s, int32_t id, uint8_t* buf, size_t len,
                          uint32_t* flags, nghttp2_data_source*, void* ud) {
    H2Peer* p = self(ud);
    auto it = p->out_.find(id);
    if (it == p->out_.end()) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      return 0;
    }
    Outgoing& o = it->second;
    size_t n = std::min(len, o.body.size() - o.offset);
    std::memcpy(buf, o.body.data() + o.offset, n);
    o.offset += n;
    if (o.offset < o.body.size()) return static_cast<ssize_t>(n);
    if (!o.end) {
      if (n > 0) return static_cast<ssize_t>(n);
      o.deferred = true;
      return NGHTTP2_ERR_DEFERRED;
    }
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (o.trailers) {
      *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      auto nva = ToNv(*o.trailers);
      nghttp2_submit_trailer(s, id, nva.data(), nva.size());
    }
    return static_cast<ssize_t>(n);
  }
};

H2Peer::H2Peer(Role role, bufferevent* end, Options options)
    : role_(role), end_(end), options_(options) {
  nghttp2_session_callbacks* cbs = nullptr;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, Callbacks::beginHeaders);
  nghttp2_session_callbacks_set_on_header_callback2(cbs, Callbacks::header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, Callbacks::frameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, Callbacks::dataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, Callbacks::streamClose);
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  if (options_.manual_window) nghttp2_option_set_no_auto_window_update(opt, 1);
  if (!options_.send_preface && role == Role::Server) nghttp2_option_set_no_recv_client_magic(opt, 1);
  if (role == Role::Client) {
    nghttp2_session_client_new2(&session_, cbs, this, opt);
  } else {
    nghttp2_session_server_new2(&session_, cbs, this, opt);
  }
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cbs);
  bufferevent_enable(end_, EV_READ | EV_WRITE);
  if (options_.send_preface) {
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, options_.initial_window}};
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, iv, 1);
  }
}

H2Peer::~H2Peer() {
  nghttp2_session_del(session_);
  bufferevent_free(end_);
}

nghttp2_data_provider H2Peer::Provider() {
  nghttp2_data_provider prd;
  prd.source.ptr = nullptr;
  prd.read_callback = Callbacks::readData;
  return prd;
}

int32_t H2Peer::Request(const Fields& headers, std::string body, bool end_stream) {
  auto nva = ToNv(headers);
  bool with_body = !body.empty() || !end_stream;
  nghttp2_data_provider prd = Provider();
  int32_t id = nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(),
                                      with_body ? &prd : nullptr, nullptr);
  if (id > 0 && with_body) out_[id] = Outgoing{std::move(body), 0, end_stream, std::nullopt, false};
  return id;
}

void H2Peer::Respond(int32_t id, const Fields& headers, std::string body,
                     std::optional<Fields> trailers) {
  auto nva = ToNv(headers);
  bool with_body = !body.empty() || trailers.has_value();
  nghttp2_data_provider prd = Provider();
  if (with_body) out_[id] = Outgoing{std::move(body), 0, true, std::move(trailers), false};
  nghttp2_submit_response(session_, id, nva.data(), nva.size(), with_body ? &prd : nullptr);
}

void H2Peer::RespondTrailersOnly(int32_t id, const Fields& headers) {
  auto nva = ToNv(headers);
  nghttp2_submit_response(session_, id, nva.data(), nva.size(), nullptr);
}

void H2Peer::Headers(int32_t id, const Fields& fields, bool end_stream) {
  auto nva = ToNv(fields);
  nghttp2_submit_headers(session_, end_stream ? NGHTTP2_FLAG_END_STREAM : NGHTTP2_FLAG_NONE, id,
                         nullptr, nva.data(), nva.size(), nullptr);
}

void H2Peer::SendData(int32_t id, std::string data, bool end) {
  auto it = out_.find(id);
  if (it == out_.end()) return;
  it->second.body += data;
  it->second.end = end;
  if (it->second.deferred) {
    it->second.deferred = false;
    nghttp2_session_resume_data(session_, id);
  }
}

void H2Peer::Reset(int32_t id, uint32_t code) {
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, code);
}

void H2Peer::WriteRaw(std::string_view bytes) { bufferevent_write(end_, bytes.data(), bytes.size()); }

void H2Peer::Consume(int32_t id, size_t n) { nghttp2_session_consume(session_, id, n); }

bool H2Peer::Exchange() {
  bool moved = false;
  evbuffer* in = bufferevent_get_input(end_);
  size_t avail = evbuffer_get_length(in);
  if (avail > 0) {
    moved = true;
    if (!session_failed_) {
      const uint8_t* data = evbuffer_pullup(in, -1);
      ssize_t rv = nghttp2_session_mem_recv(session_, data, avail);
      if (rv < 0) session_failed_ = true;
    }
    evbuffer_drain(in, avail);
  }
  for (int i = 0; i < 100000 && !session_failed_ && options_.send_preface; ++i) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) session_failed_ = true;
    if (n <= 0) break;
    bufferevent_write(end_, data, static_cast<size_t>(n));
    moved = true;
  }
  return moved;
}

const H2Peer::Stream* H2Peer::stream(int32_t id) const {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : &it->second;
}

bool Pump(event_base* base, const std::vector<H2Peer*>& peers, int max_rounds) {
  // Two quiet rounds in a row: a timer armed with no delay during the first
  // becomes due (and active) in the second.
  int quiet = 0;
  for (int round = 0; round < max_rounds; ++round) {
    event_base_loop(base, EVLOOP_NONBLOCK);
    bool moved = false;
    for (H2Peer* p : peers) moved = p->Exchange() || moved;
    bool active = event_base_get_num_events(base, EVENT_BASE_COUNT_ACTIVE) > 0;
    quiet = (moved || active) ? 0 : quiet + 1;
    if (quiet == 2) return true;
  }
  return false;
}

Fields GrpcRequest(const std::string& path, const Fields& extra) {
  Fields f = {{":method", "POST"},
              {":scheme", "http"},
              {":path", path},
              {":authority", "switchyard.test"},
              {"content-type", "application/grpc"},
              {"te", "trailers"}};
  f.insert(f.end(), extra.begin(), extra.end());
  return f;
}

std::string GrpcFrame(std::string_view payload) {
  std::string out(5, '\0');
  auto n = static_cast<uint32_t>(payload.size());
  out[1] = static_cast<char>(n >> 24);
  out[2] = static_cast<char>(n >> 16);
  out[3] = static_cast<char>(n >> 8);
  out[4] = static_cast<char>(n);
  out.append(payload);
  return out;
}

}  // namespace sytest::mem
