// InMemoryProxy: one Switchyard worker's data path with no sockets and no
// threads. It loads a YAML config from a string, builds the runtime snapshot
// (every endpoint healthy), and implements proxy::WorkerContext on its own
// event_base. Client connections are real DownstreamConnections on one end of
// an in-memory pipe; every upstream connection the pools open is a real
// UpstreamConnection on an in-memory pipe whose other end is handed to
// `on_upstream` (a test or fuzzer plays the backend there).
//
//   InMemoryProxy proxy(yaml);
//   InMemoryProxy proxy(yaml);            // backends: EchoBackends unless on_upstream is set
//   H2Peer client(H2Peer::Role::Client, proxy.Connect());
//   int32_t id = client.Request(GrpcRequest("/pkg.Svc/Method"), GrpcFrame("hi"));
//   proxy.Pump({&client});
//   client.stream(id)->trailers ...
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "mem_h2.h"
#include "proxy/cluster_table.h"
#include "proxy/downstream_connection.h"
#include "proxy/worker_context.h"

namespace sytest::mem {

// A backend on the far end of an upstream pipe: answers every request, once
// its END_STREAM arrives, with the request body echoed back and grpc-status
// `status` (a Trailers-Only response when status is not 0).
class EchoBackend {
 public:
  EchoBackend(bufferevent* end, int status = 0);
  H2Peer& peer() { return peer_; }
  size_t requests() const { return requests_; }

 private:
  H2Peer peer_;
  size_t requests_ = 0;
};

// Peers on its pipes (H2Peer, EchoBackend) must be destroyed before the
// proxy, which frees the event_base they live on: declare them after it.
class InMemoryProxy final : public switchyard::proxy::WorkerContext {
 public:
  // Throws std::runtime_error with the loader's messages if the YAML is invalid.
  explicit InMemoryProxy(const std::string& yaml);
  ~InMemoryProxy() override;

  // Opens a client connection on the first listener; returns the peer end of
  // its pipe (for an H2Peer, or raw writes). The proxy side owns the other end.
  bufferevent* Connect();
  // Runs the loop, the given peers and every backend peer until quiet (see mem::Pump).
  bool Pump(std::vector<H2Peer*> peers, int max_rounds = 10000);

  // Called for every upstream connection a pool opens, with the endpoint's
  // "ip:port" and the backend end of the pipe (ownership passes to the callee).
  // Returns the peer playing the backend there (kept alive by the callee and
  // pumped by Pump), or nullptr. Unset: an EchoBackend owned by the proxy.
  std::function<H2Peer*(const std::string& address, bufferevent* backend_end)> on_upstream;

  const std::vector<std::unique_ptr<EchoBackend>>& echo_backends() const { return echo_; }
  size_t open_connections() const { return conns_.size() + http1_.size(); }
  size_t closed_connections() const { return closed_; }

  // --- proxy::WorkerContext
  event_base* base() override { return base_; }
  const switchyard::proxy::RuntimePtr& runtime() const override { return runtime_; }
  switchyard::proxy::ClusterTable& clusters() override { return *clusters_; }
  switchyard::metrics::WorkerStats* stats() override { return nullptr; }
  void connectionClosed(switchyard::proxy::DownstreamConnection* conn) override;
  void clientConnectionClosed(switchyard::proxy::ClientConnection* conn) override;
  // Opens an HTTP/1.x client connection (Http1Connection) on the first
  // listener; returns the peer end of its pipe for raw bytes (read enabled).
  bufferevent* ConnectHttp1();

 private:
  std::unique_ptr<switchyard::upstream::UpstreamConnection> OpenUpstream(
      const switchyard::event::SocketAddress& addr,
      const switchyard::upstream::ConnectionSettings& settings,
      switchyard::upstream::UpstreamConnection::ClosedFn on_closed,
      switchyard::metrics::EndpointSeries* stats);

  event_base* base_;
  switchyard::proxy::RuntimePtr runtime_;
  switchyard::proxy::ListenerInfo listener_;
  std::vector<H2Peer*> backends_;
  std::vector<std::unique_ptr<EchoBackend>> echo_;
  // Declared last: destroyed first, while the peers above still exist.
  std::unique_ptr<switchyard::proxy::ClusterTable> clusters_;
  std::set<switchyard::proxy::DownstreamConnection*> conns_;
  std::set<switchyard::proxy::ClientConnection*> http1_;
  size_t closed_ = 0;
};

}  // namespace sytest::mem
