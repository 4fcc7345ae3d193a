// Worker: one thread with its own event loop, listeners, client connections
// and upstream connection pools. Nothing on the per-RPC path is shared with
// other threads; the main thread talks to a worker only by posting closures
// (new runtime snapshot, listener changes, drain).
#pragma once

#include <event2/listener.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "event/accept_guard.h"
#include "event/loop.h"
#include "proxy/access_log_buffer.h"
#include "proxy/cluster_table.h"
#include "proxy/downstream_connection.h"
#include "proxy/worker_context.h"
#include "server/connection_limit.h"
#include "server/protocol_sniffer.h"
#include "tls/context.h"

namespace switchyard::server {

class Worker final : public proxy::WorkerContext {
 public:
  Worker(size_t index, metrics::WorkerStats* stats);
  ~Worker() override;

  // Every worker of the process, this one included; set before start() and
  // read-only afterwards (connection_balance: exact hands connections over).
  void setPeers(std::vector<Worker*> peers) { peers_ = std::move(peers); }
  void start();
  void join();

  // --- called from the main thread; each posts to the worker's loop.
  void setRuntime(proxy::RuntimePtr runtime);
  // Takes ownership of `fd` (a listening socket).
  void addListener(int fd, proxy::ListenerInfo info, tls::SharedSslCtx tls);
  // New TLS context or settings for an existing listener (new connections only).
  void updateListener(proxy::ListenerInfo info, tls::SharedSslCtx tls);
  void removeListener(const std::string& name);
  // Stop accepting and send GOAWAY on every client connection.
  void drain();
  // Close whatever is left.
  void forceClose();
  void stop();

  size_t connectionCount() const { return conn_count_.load(std::memory_order_relaxed); }
  size_t index() const { return index_; }

  // --- proxy::WorkerContext
  event_base* base() override { return loop_.base(); }
  const proxy::RuntimePtr& runtime() const override { return runtime_; }
  proxy::ClusterTable& clusters() override { return clusters_; }
  metrics::WorkerStats* stats() override { return stats_; }
  proxy::AccessLogBuffer* accessLog() override { return &access_log_; }
  void connectionClosed(proxy::DownstreamConnection* conn) override;
  void clientConnectionClosed(proxy::ClientConnection* conn) override;
  void adoptHttp1(bufferevent* bev, const event::SocketAddress& peer,
                  const proxy::ListenerInfo& listener,
                  std::shared_ptr<const tls::PeerIdentity> identity) override;

 private:
  struct Listener {
    CHandle<evconnlistener, evconnlistener_free> lev;
    proxy::ListenerInfo info;
    tls::SharedSslCtx tls;
    Worker* worker = nullptr;
    std::unique_ptr<event::AcceptGuard> guard;  // pauses accepting when accept() fails
  };
  static void onAccept(evconnlistener* lev, evutil_socket_t fd, sockaddr* sa, int socklen,
                       void* arg);
  void accept(Listener& l, evutil_socket_t fd, sockaddr* sa, int socklen);
  // connection_balance: exact: the worker with the fewest client connections.
  Worker* leastLoaded();
  // On this worker's thread: a connection another worker accepted for the
  // listener `name` and handed over (already counted in conn_count_ and `open`).
  void adopt(const std::string& name, evutil_socket_t fd, event::SocketAddress peer,
             std::shared_ptr<std::atomic<uint32_t>> open);
  // Serves an accepted connection (counted already).
  void serve(Listener& l, evutil_socket_t fd, const event::SocketAddress& peer);
  bufferevent* newBufferevent(Listener& l, evutil_socket_t fd);
  // Starts the connection for the protocol its first bytes showed.
  void startSniffed(ProtocolSniffer& sniffer, SniffedProtocol protocol,
                    const event::SocketAddress& peer);

  size_t index_;
  metrics::WorkerStats* stats_;
  event::EventLoop loop_;
  // Destroyed (and so flushed) after the destructor has closed every connection.
  proxy::AccessLogBuffer access_log_;
  proxy::ClusterTable clusters_;
  proxy::RuntimePtr runtime_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::unordered_map<proxy::DownstreamConnection*, std::unique_ptr<proxy::DownstreamConnection>>
      conns_;
  // Cleartext connections whose protocol is being sniffed, and HTTP/1.x ones.
  std::unordered_map<proxy::ClientConnection*, std::unique_ptr<proxy::ClientConnection>> others_;
  // Client connections on this worker, counted from the moment a worker
  // decides to serve one here (so a concurrent balancing decision sees it).
  std::atomic<size_t> conn_count_{0};
  std::vector<Worker*> peers_;
  bool draining_ = false;
  std::thread thread_;
};

}  // namespace switchyard::server
