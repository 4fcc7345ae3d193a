#include "server/worker.h"

#include <event2/bufferevent_ssl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <algorithm>

#include "common/access_log_target.h"
#include "common/log.h"
#include "metrics/worker_stats.h"
#include "proxy/http1_connection.h"

namespace switchyard::server {

Worker::Worker(size_t index, metrics::WorkerStats* stats)
    : index_(index),
      stats_(stats),
      access_log_(loop_.base(), log::AccessLogTarget::instance()),
      clusters_(loop_.base(), index) {
  clusters_.setStats(stats);
}

Worker::~Worker() {
  join();
  conns_.clear();
  others_.clear();
  listeners_.clear();
}

void Worker::start() {
  thread_ = std::thread([this] { loop_.run(); });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::stop() { loop_.stop(); }

void Worker::setRuntime(proxy::RuntimePtr runtime) {
  loop_.post([this, rt = std::move(runtime)]() mutable {
    clusters_.apply(*rt);
    access_log_.configure(proxy::accessLogSettings(rt->config->logging));
    runtime_ = std::move(rt);
  });
}

void Worker::addListener(int fd, proxy::ListenerInfo info, tls::SharedSslCtx tls) {
  loop_.post([this, fd, info = std::move(info), tls = std::move(tls)]() mutable {
    if (draining_) {
      ::close(fd);
      return;
    }
    auto l = std::make_unique<Listener>();
    l->info = std::move(info);
    if (stats_ != nullptr) l->info.stats = stats_->listener(l->info.name);
    l->info.open_connections = listenerConnectionCounter(l->info.name);
    l->tls = std::move(tls);
    l->worker = this;
    // backlog 0: the socket is already listening.
    l->lev.reset(evconnlistener_new(loop_.base(), &Worker::onAccept, l.get(),
                                    LEV_OPT_CLOSE_ON_FREE, 0, fd));
    if (!l->lev) {
      log::main().error("worker {}: cannot watch listener {}", index_, l->info.name);
      ::close(fd);
      return;
    }
    auto* stats = l->info.stats;
    l->guard = std::make_unique<event::AcceptGuard>(
        loop_.base(), l->lev.get(), "listener " + l->info.name + " (worker " + std::to_string(index_) + ")",
        [stats] {
          if (stats != nullptr) stats->limitHit(metrics::ListenerLimit::AcceptPaused);
        });
    listeners_.push_back(std::move(l));
  });
}

void Worker::updateListener(proxy::ListenerInfo info, tls::SharedSslCtx tls) {
  loop_.post([this, info = std::move(info), tls = std::move(tls)]() mutable {
    for (auto& l : listeners_) {
      if (l->info.name == info.name) {
        auto* stats = l->info.stats;
        auto open = l->info.open_connections;
        l->info = info;
        l->info.stats = stats;
        l->info.open_connections = open;
        l->tls = tls;
      }
    }
  });
}

void Worker::removeListener(const std::string& name) {
  loop_.post([this, name] {
    std::erase_if(listeners_, [&](const auto& l) { return l->info.name == name; });
  });
}

void Worker::drain() {
  loop_.post([this] {
    draining_ = true;
    listeners_.clear();  // closes the listening sockets: no new connections here
    for (auto& [ptr, conn] : conns_) conn->startDrain();
    for (auto& [ptr, conn] : others_) conn->startDrain();
    clusters_.drainAll();
  });
}

void Worker::forceClose() {
  loop_.post([this] {
    for (auto& [ptr, conn] : conns_) conn->forceClose();
    for (auto& [ptr, conn] : others_) conn->forceClose();
  });
}

void Worker::onAccept(evconnlistener*, evutil_socket_t fd, sockaddr* sa, int socklen, void* arg) {
  auto* l = static_cast<Listener*>(arg);
  l->worker->accept(*l, fd, sa, socklen);
}

bufferevent* Worker::newBufferevent(Listener& l, evutil_socket_t fd) {
  if (!l.tls) return bufferevent_socket_new(loop_.base(), fd, BEV_OPT_CLOSE_ON_FREE);
  SSL* ssl = SSL_new(l.tls.get());
  if (ssl == nullptr) return nullptr;
  // The bufferevent owns the SSL object and the socket from here on.
  return bufferevent_openssl_socket_new(loop_.base(), fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                        BEV_OPT_CLOSE_ON_FREE);
}

void Worker::accept(Listener& l, evutil_socket_t fd, sockaddr* sa, int socklen) {
  l.guard->onAccepted();
  if (!runtime_) {
    ::close(fd);
    return;
  }
  auto& open = *l.info.open_connections;
  if (!admitConnection(open, l.info.max_connections)) {
    // listeners[].max_connections: refused before any allocation.
    ::close(fd);
    if (l.info.stats != nullptr) l.info.stats->limitHit(metrics::ListenerLimit::MaxConnections);
    return;
  }
  auto peer = event::SocketAddress::fromSockaddr(sa, static_cast<socklen_t>(socklen));
  Worker* target = l.info.exact_balance ? leastLoaded() : this;
  target->conn_count_.fetch_add(1, std::memory_order_relaxed);
  if (target == this) {
    serve(l, fd, peer);
    return;
  }
  // The socket moves to the target's thread before anything is attached to it.
  target->loop_.post([target, name = l.info.name, fd, peer, open = l.info.open_connections]() mutable {
    target->adopt(name, fd, peer, std::move(open));
  });
}

Worker* Worker::leastLoaded() {
  // Ties stay here: no handoff unless another worker has strictly fewer.
  Worker* best = this;
  size_t fewest = connectionCount();
  for (Worker* w : peers_) {
    size_t n = w->connectionCount();
    if (n < fewest) {
      best = w;
      fewest = n;
    }
  }
  return best;
}

void Worker::adopt(const std::string& name, evutil_socket_t fd, event::SocketAddress peer,
                   std::shared_ptr<std::atomic<uint32_t>> open) {
  for (auto& l : listeners_) {
    if (l->info.name == name && !draining_ && runtime_) {
      serve(*l, fd, peer);
      return;
    }
  }
  // The listener went away here (removed, or this worker is draining).
  ::close(fd);
  open->fetch_sub(1, std::memory_order_relaxed);
  conn_count_.fetch_sub(1, std::memory_order_relaxed);
}

void Worker::serve(Listener& l, evutil_socket_t fd, const event::SocketAddress& peer) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  bufferevent* bev = newBufferevent(l, fd);
  if (bev == nullptr) {
    ::close(fd);
    l.info.open_connections->fetch_sub(1, std::memory_order_relaxed);
    conn_count_.fetch_sub(1, std::memory_order_relaxed);
    return;
  }
  if (!l.tls) {
    // Cleartext: HTTP/2 (prior knowledge) or HTTP/1.x, told by the first bytes.
    auto sniffer = std::make_unique<ProtocolSniffer>(
        loop_.base(), bev, l.info,
        [this, peer](ProtocolSniffer& s, SniffedProtocol p) { startSniffed(s, p, peer); },
        [this](ProtocolSniffer& s) { clientConnectionClosed(&s); });
    auto* raw = sniffer.get();
    others_.emplace(raw, std::move(sniffer));
    raw->begin();
    return;
  }
  auto conn = std::make_unique<proxy::DownstreamConnection>(*this, bev, peer, l.info);
  auto* raw = conn.get();
  conns_.emplace(raw, std::move(conn));
  raw->begin();
}

void Worker::startSniffed(ProtocolSniffer& sniffer, SniffedProtocol protocol,
                          const event::SocketAddress& peer) {
  bufferevent* bev = sniffer.releaseBufferevent();
  proxy::DownstreamConnection* h2 = nullptr;
  proxy::Http1Connection* h1 = nullptr;
  if (protocol == SniffedProtocol::Http2) {
    auto conn = std::make_unique<proxy::DownstreamConnection>(*this, bev, peer, sniffer.listener());
    h2 = conn.get();
    conns_.emplace(h2, std::move(conn));
  } else {
    auto conn = std::make_unique<proxy::Http1Connection>(*this, bev, peer, sniffer.listener());
    h1 = conn.get();
    others_.emplace(h1, std::move(conn));
  }
  // The sniffer goes, from its own event's callback (the event is not persistent).
  others_.erase(&sniffer);
  if (h2 != nullptr) {
    h2->begin();
    if (draining_) h2->startDrain();
  } else {
    h1->begin();
    if (draining_) h1->startDrain();
  }
}

void Worker::adoptHttp1(bufferevent* bev, const event::SocketAddress& peer,
                        const proxy::ListenerInfo& listener,
                        std::shared_ptr<const tls::PeerIdentity> identity) {
  auto conn = std::make_unique<proxy::Http1Connection>(*this, bev, peer, listener, std::move(identity),
                                                       /*counted=*/true);
  auto* raw = conn.get();
  others_.emplace(raw, std::move(conn));
  conn_count_.fetch_add(1, std::memory_order_relaxed);  // the HTTP/2 one is counted down when it goes
  raw->begin();
  if (draining_) raw->startDrain();
}

void Worker::clientConnectionClosed(proxy::ClientConnection* conn) {
  auto it = others_.find(conn);
  if (it == others_.end()) return;
  auto doomed = std::move(it->second);
  others_.erase(it);
  conn_count_.fetch_sub(1, std::memory_order_relaxed);
  doomed.reset();
}

void Worker::connectionClosed(proxy::DownstreamConnection* conn) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  auto doomed = std::move(it->second);
  conns_.erase(it);
  conn_count_.fetch_sub(1, std::memory_order_relaxed);
  doomed.reset();
}

}  // namespace switchyard::server
