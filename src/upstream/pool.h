// Pool: a worker's HTTP/2 connections to one backend endpoint. A new RPC goes
// on an existing connection with a free stream slot (the backend's
// SETTINGS_MAX_CONCURRENT_STREAMS); when all are full another connection is
// opened, up to max_connections_per_endpoint; past that nghttp2 queues the
// stream on the least loaded connection until a slot frees up.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "upstream/upstream_connection.h"

namespace switchyard::upstream {

// Opens a connection to an endpoint; the default is UpstreamConnection::connect.
// Tests and fuzzers install one that adopts an in-memory bufferevent instead.
using Connector = std::function<std::unique_ptr<UpstreamConnection>(
    event_base* base, const event::SocketAddress& addr, const ConnectionSettings& settings,
    UpstreamConnection::ClosedFn on_closed, metrics::EndpointSeries* stats)>;

class Pool {
 public:
  // Called when this worker has seen `threshold` consecutive failed RPC attempts
  // on the endpoint (the input to outlier detection).
  using OutlierFn = std::function<void(const std::string& address)>;

  Pool(event_base* base, std::string address, event::SocketAddress sockaddr,
       ConnectionSettings settings, uint32_t max_connections);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // A connection to open the next stream on; nullptr only if a socket could not be made.
  UpstreamConnection* acquire();
  // No new streams; existing connections close when their streams finish.
  void drain();
  bool idle() const { return conns_.empty(); }
  const std::string& address() const { return address_; }
  size_t connectionCount() const { return conns_.size(); }
  size_t activeStreams() const;
  // Passive health: outcome of an RPC attempt on this endpoint. A run of
  // `threshold` failures calls the outlier callback once and starts counting anew.
  void setOutlierCallback(uint32_t threshold, OutlierFn fn) {
    outlier_threshold_ = threshold;
    on_outlier_ = std::move(fn);
  }
  void recordResult(bool failed);
  void setStats(metrics::EndpointSeries* stats) { stats_ = stats; }
  // New settings (a reload) for connections opened from now on.
  void updateSettings(ConnectionSettings settings);
  void setConnector(Connector connector) { connector_ = std::move(connector); }
  metrics::EndpointSeries* stats() const { return stats_; }

  // Consecutive connect failures (reset by a successful connect); used to fail fast.
  uint32_t consecutiveConnectFailures() const { return connect_failures_; }

 private:
  void onConnectionClosed(UpstreamConnection* c, http2::CloseReason reason);

  event_base* base_;
  std::string address_;
  event::SocketAddress sockaddr_;
  ConnectionSettings settings_;
  uint32_t max_connections_;
  std::vector<std::unique_ptr<UpstreamConnection>> conns_;
  uint32_t connect_failures_ = 0;
  bool draining_ = false;
  uint32_t consecutive_failures_ = 0;
  uint32_t outlier_threshold_ = 0;
  OutlierFn on_outlier_;
  metrics::EndpointSeries* stats_ = nullptr;
  Connector connector_;  // empty: real sockets
};

}  // namespace switchyard::upstream
