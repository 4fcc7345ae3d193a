// WorkerContext: what the data path needs from the worker that owns it.
// Implemented by server::Worker; kept abstract so proxy/ does not depend on server/.
#pragma once

#include <event2/bufferevent.h>
#include <event2/event.h>

#include <cstdint>
#include <memory>

#include "event/clock.h"
#include "event/socket_address.h"
#include "tls/peer_identity.h"
#include "proxy/cluster_table.h"
#include "proxy/policy_scratch.h"
#include "proxy/runtime.h"

namespace switchyard::metrics {
class WorkerStats;
}

namespace switchyard::proxy {

class ClientConnection;
class DownstreamConnection;
struct ListenerInfo;
class AccessLogBuffer;

class WorkerContext {
 public:
  virtual ~WorkerContext() = default;
  virtual event_base* base() = 0;
  virtual const RuntimePtr& runtime() const = 0;
  virtual ClusterTable& clusters() = 0;
  // May be null (tests, or metrics disabled).
  virtual metrics::WorkerStats* stats() = 0;
  // This worker's access-log buffer; null when there is none (tests).
  virtual AccessLogBuffer* accessLog() { return nullptr; }
  // The connection is finished: destroy it (called from the top of a libevent callback).
  virtual void connectionClosed(DownstreamConnection* conn) = 0;
  // Any other client connection (HTTP/1.x, or not yet known) is finished:
  // destroy it (called from the top of a libevent callback).
  virtual void clientConnectionClosed(ClientConnection* conn) = 0;
  // A TLS connection whose handshake chose HTTP/1.1 (or no ALPN): serve it
  // as HTTP/1.x from now on. `bev` has completed its handshake; the
  // connection it came from was already counted as opened.
  virtual void adoptHttp1(bufferevent* bev, const event::SocketAddress& peer,
                          const ListenerInfo& listener,
                          std::shared_ptr<const tls::PeerIdentity> identity) {
    (void)peer;
    (void)listener;
    (void)identity;
    bufferevent_free(bev);
  }
  // A pseudo-random value for retry jitter (not for secrets); tests inject their own.
  virtual uint64_t random();
  // The time source of this worker's loop: RPC deadlines, retry backoff and
  // timing read it and arm their timers with it. Tests inject a ManualClock.
  virtual event::Clock& clock() { return event::realClock(); }
  // This worker's state of the policy filters (see request_filter.h).
  PolicyScratch& policyScratch() { return policy_scratch_; }

 private:
  PolicyScratch policy_scratch_;
};

}  // namespace switchyard::proxy
