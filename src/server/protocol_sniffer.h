// ProtocolSniffer: a new cleartext client connection whose protocol is not
// known yet. It looks at the first bytes the client sends without reading
// them (MSG_PEEK): the HTTP/2 connection preface ("PRI * HTTP/2.0...", h2c
// with prior knowledge) goes to the HTTP/2 path, anything else to HTTP/1.x.
// The connection that takes over reads the socket from its first byte. A
// client that sends nothing is closed after the listener's idle_timeout.
#pragma once

#include <event2/bufferevent.h>
#include <event2/event.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string_view>

#include "common/c_handle.h"
#include "common/duration.h"
#include "event/loop.h"
#include "proxy/client_connection.h"
#include "proxy/downstream_side.h"

namespace switchyard::server {

enum class SniffedProtocol { Http2, Http1 };

// Which protocol `bytes` (the first ones a client sent) start; nullopt while
// they are too few to tell.
std::optional<SniffedProtocol> sniffProtocol(std::string_view bytes);

class ProtocolSniffer final : public proxy::ClientConnection {
 public:
  // `decided` hands the connection on (the sniffer gives up its bufferevent
  // first, see releaseBufferevent); `closed` drops a client that went away.
  using Decided = std::function<void(ProtocolSniffer&, SniffedProtocol)>;
  using Closed = std::function<void(ProtocolSniffer&)>;

  ProtocolSniffer(event_base* base, bufferevent* bev, const proxy::ListenerInfo& listener,
                  Decided decided, Closed closed);
  ~ProtocolSniffer() override;
  ProtocolSniffer(const ProtocolSniffer&) = delete;
  ProtocolSniffer& operator=(const ProtocolSniffer&) = delete;

  void begin();
  bufferevent* releaseBufferevent();
  const proxy::ListenerInfo& listener() const { return listener_; }

  // Drained before it spoke: closed on the next loop pass.
  void startDrain() override { close_.schedule(); }
  void forceClose() override { close_.schedule(); }

 private:
  static void onReadable(evutil_socket_t fd, short what, void* arg);
  void check();
  void giveUp();

  CHandle<bufferevent, bufferevent_free> bev_;
  proxy::ListenerInfo listener_;
  Decided decided_;
  Closed closed_;
  CHandle<struct event, event_free> read_event_;
  event::Timer retry_timer_;  // a few bytes that are not enough yet: look again soon
  event::Timer idle_timer_;
  event::Deferred close_;
  bool handed_off_ = false;
  // Since when the first bytes have been too few to tell, and the next wait.
  std::optional<std::chrono::steady_clock::time_point> partial_since_;
  Duration retry_delay_ = Duration::zero();
};

}  // namespace switchyard::server
