// StreamTimeouts: the three timeouts at a client connection's edge, each set
// on the listener (zero: never).
// - idle_timeout: the connection has had no RPC for this long; it closes.
// - request_headers_timeout: a request header block has begun and not
//   finished. Nothing else on the connection can be read until it does
//   (RFC 9113 6.10), so the connection closes.
// - stream_idle_timeout: no frame sent or received on an open stream. Its RPC
//   ends with UNAVAILABLE; if even that cannot get out (the client reads
//   nothing) and the stream stays idle, a later sweep resets it.
// It decides when; its owner acts through Actions. Every timer keeps time by
// the worker's clock, so tests drive it with a ManualClock.
#pragma once

#include <event2/event.h>

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>

#include "common/stream_table.h"
#include "event/clock.h"
#include "event/loop.h"
#include "proxy/downstream_side.h"

namespace switchyard::proxy {

class StreamTimeouts {
 public:
  enum class Expired { Idle, RequestHeaders };
  struct Actions {
    // Whether the connection is still open; once it is not, timers do nothing.
    std::function<bool()> open;
    // Close the connection: it was idle, or a header block did not finish.
    std::function<void(Expired)> close;
    // End the RPC of `stream_id` with UNAVAILABLE and `why`; false if it has none.
    std::function<bool(int32_t stream_id, const std::string& why)> end_rpc;
    // Reset `stream_id` (RST_STREAM(CANCEL), sent on a later flush).
    std::function<void(int32_t stream_id)> reset;
  };

  // `listener` outlives this object; stream_idle_timeout ends are counted in its stats.
  StreamTimeouts(event_base* base, event::Clock& clock, const ListenerInfo& listener,
                 Actions actions);

  // The connection has no RPC open (HTTP/2 began, or the last RPC ended).
  void connectionIdle();
  // A stream opened: the connection is busy, and the stream's idle time runs.
  void streamOpened(int32_t stream_id);
  // A frame was sent or received on `stream_id`.
  void touch(int32_t stream_id);
  void streamClosed(int32_t stream_id) {
    if (!activity_.empty()) activity_.erase(stream_id);
  }
  // A frame of `type` begins: HEADERS starts request_headers_timeout unless a
  // header block is already pending; any other frame but CONTINUATION means
  // that block ended.
  void frameBegins(uint8_t type);
  // A header block was received in full.
  void headersReceived() { headers_timer_.cancel(); }

 private:
  struct StreamActivity {
    event::Clock::TimePoint last;
    bool aborted = false;  // its RPC was ended for idleness; reset if still idle
  };
  void sweep();

  event::Clock& clock_;
  const ListenerInfo& listener_;
  Actions actions_;
  // Lazy: armed whenever the last RPC ends and cancelled by the next one.
  event::LazyTimer idle_timer_;
  // Lazy: armed and cancelled for every request.
  event::LazyTimer headers_timer_;
  // Last frame sent or received per open stream, swept for stream_idle_timeout.
  common::StreamTable<StreamActivity> activity_;
  event::Timer sweep_timer_;
};

}  // namespace switchyard::proxy
