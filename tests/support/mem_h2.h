// In-memory HTTP/2 test support: a pair of connected bufferevents on one
// event_base (no sockets, no threads), and H2Peer, a raw nghttp2 client or
// server session on one end of such a pair that records everything it
// receives. Switchyard's http2::Connection subclasses go on the other end, so
// unit tests and fuzzers drive the real data path deterministically: Pump()
// runs the loop and the peers until no byte moves.
//
//   auto pipe = sytest::mem::MakePipe(base);
//   DownstreamConnection proxy_side(..., pipe.proxy_end, ...);
//   sytest::mem::H2Peer client(sytest::mem::H2Peer::Role::Client, pipe.peer_end);
//   int32_t id = client.Request({{":method", "POST"}, ...}, body, /*end_stream=*/true);
//   sytest::mem::Pump(base, {&client});
//   client.stream(id)->trailers ...
#pragma once

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sytest::mem {

using Fields = std::vector<std::pair<std::string, std::string>>;

// Both ends defer their callbacks to the loop, so writing on one end never
// runs the other end's code on the same stack.
struct Pipe {
  bufferevent* proxy_end = nullptr;  // hand to an http2::Connection (it takes ownership)
  bufferevent* peer_end = nullptr;   // hand to an H2Peer (it takes ownership)
};
Pipe MakePipe(event_base* base);

// Value of the first field called `name`, or nullopt.
std::optional<std::string> Find(const Fields& fields, std::string_view name);

class H2Peer {
 public:
  enum class Role { Client, Server };

  struct Stream {
    Fields headers;   // the first HEADERS block (request or response)
    Fields trailers;  // a later HEADERS block
    std::string data;
    bool remote_ended = false;  // END_STREAM received
    bool closed = false;
    uint32_t close_code = 0;    // error code at close (RST_STREAM or 0)
    bool reset_received = false;
  };

  struct Options {
    // false: the session never sends (raw-byte tests write everything with
    // WriteRaw, the preface included); it only parses what comes back.
    bool send_preface = true;
    // true: received DATA is acknowledged (WINDOW_UPDATE) only through Consume().
    bool manual_window = false;
    uint32_t initial_window = 65535;
  };
  // `end` is one end of a Pipe; the peer owns it.
  H2Peer(Role role, bufferevent* end, Options options);
  H2Peer(Role role, bufferevent* end) : H2Peer(role, end, Options{}) {}
  ~H2Peer();
  H2Peer(const H2Peer&) = delete;
  H2Peer& operator=(const H2Peer&) = delete;

  // Client: opens a stream; the body follows, and END_STREAM if end_stream.
  int32_t Request(const Fields& headers, std::string body = {}, bool end_stream = true);
  // Server: answers a stream; trailers (if any) end it, else the body does.
  void Respond(int32_t id, const Fields& headers, std::string body = {},
               std::optional<Fields> trailers = Fields{{"grpc-status", "0"}});
  // Server: a Trailers-Only response (one HEADERS frame with END_STREAM).
  void RespondTrailersOnly(int32_t id, const Fields& headers);
  // Either side: a HEADERS frame of its own (a 1xx interim response, trailers
  // without a body...), with END_STREAM if `end_stream`.
  void Headers(int32_t id, const Fields& fields, bool end_stream);
  // Either side: more body on an open stream (ends it if `end`).
  void SendData(int32_t id, std::string data, bool end);
  void Reset(int32_t id, uint32_t code);
  // Bytes written as they are, bypassing the session (hostile input).
  void WriteRaw(std::string_view bytes);
  // manual_window: the application took `n` bytes of stream `id` (window update).
  void Consume(int32_t id, size_t n);

  // Sends what the session wants to send and reads what arrived; true if a byte moved.
  bool Exchange();

  const Stream* stream(int32_t id) const;
  nghttp2_session* session() const { return session_; }
  bool goaway_received() const { return goaway_received_; }
  uint32_t goaway_code() const { return goaway_code_; }
  // The session broke off (a protocol error we made the peer see, or it sent GOAWAY and is done).
  bool session_failed() const { return session_failed_; }
  Role role() const { return role_; }
  // Server role: called when a stream's request headers are complete.
  std::function<void(int32_t id, const Stream&)> on_request;
  // Either role: called when END_STREAM arrives on a stream.
  std::function<void(int32_t id, const Stream&)> on_remote_end;

 private:
  struct Outgoing {
    std::string body;
    size_t offset = 0;
    bool end = false;                // END_STREAM after body (or trailers)
    std::optional<Fields> trailers;  // sent after body, with END_STREAM
    bool deferred = false;
  };
  struct Callbacks;
  nghttp2_data_provider Provider();

  Role role_;
  bufferevent* end_;
  nghttp2_session* session_ = nullptr;
  std::map<int32_t, Stream> streams_;
  std::map<int32_t, Outgoing> out_;
  Options options_;
  bool goaway_received_ = false;
  uint32_t goaway_code_ = 0;
  bool session_failed_ = false;
};

// Runs `base` without blocking and exchanges every peer's bytes until nothing
// is active and no byte moved, at most max_rounds rounds; false if it never settled.
bool Pump(event_base* base, const std::vector<H2Peer*>& peers, int max_rounds = 10000);

// Fields for a gRPC request to `path` on cleartext h2.
Fields GrpcRequest(const std::string& path, const Fields& extra = {});
// A gRPC message frame: flag 0, 4-byte big-endian length, payload.
std::string GrpcFrame(std::string_view payload);

}  // namespace sytest::mem
