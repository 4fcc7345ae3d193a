#include "mem_proxy.h"

#include <stdexcept>

#include "config/loader.h"
#include "proxy/http1_connection.h"
#include "proxy/route_policies.h"
#include "routing/route_table.h"
#include "server/runtime_builder.h"

namespace sytest::mem {

namespace sy = switchyard;

EchoBackend::EchoBackend(bufferevent* end, int status) : peer_(H2Peer::Role::Server, end) {
  peer_.on_remote_end = [this, status](int32_t id, const H2Peer::Stream& st) {
    ++requests_;
    Fields headers = {{":status", "200"}, {"content-type", "application/grpc"}};
    if (status != 0) {
      headers.emplace_back("grpc-status", std::to_string(status));
      peer_.RespondTrailersOnly(id, headers);
      return;
    }
    peer_.Respond(id, headers, st.data, Fields{{"grpc-status", "0"}});
  };
}

InMemoryProxy::InMemoryProxy(const std::string& yaml) : base_(event_base_new()) {
  auto loaded = sy::config::loadString(yaml, "in-memory.yaml");
  if (!loaded.config) {
    std::string all;
    for (const auto& e : loaded.errors) all += e + "\n";
    event_base_free(base_);
    throw std::runtime_error("invalid test config:\n" + all);
  }
  auto cfg = std::make_shared<const sy::config::Config>(std::move(*loaded.config));
  auto routes = std::make_shared<const sy::routing::RouteTable>(
      sy::routing::RouteTable::build(cfg->routes));
  auto policies = sy::proxy::buildRoutePolicies(*cfg, *routes);
  if (!policies.ok()) throw std::runtime_error("invalid test policies: " + policies.error());
  runtime_ = sy::server::buildRuntime(
      cfg, routes, *policies, {}, [](const std::string&, const std::string&) { return sy::upstream::Health::Healthy; },
      1);
  clusters_ = std::make_unique<sy::proxy::ClusterTable>(base_, 0);
  clusters_->setConnector([this](event_base*, const sy::event::SocketAddress& addr,
                                 const sy::upstream::ConnectionSettings& settings,
                                 sy::upstream::UpstreamConnection::ClosedFn on_closed,
                                 sy::metrics::EndpointSeries* stats) {
    return OpenUpstream(addr, settings, std::move(on_closed), stats);
  });
  clusters_->apply(*runtime_);
  if (!cfg->listeners.empty()) {
    const auto& l = cfg->listeners.front();
    listener_.name = l.name;
    listener_.h2.max_concurrent_streams = l.http2.max_concurrent_streams;
    listener_.h2.initial_stream_window = l.http2.initial_stream_window;
    listener_.h2.initial_connection_window = l.http2.initial_connection_window;
    listener_.h2.max_frame_size = l.http2.max_frame_size;
    listener_.h2.max_header_list_size = l.http2.max_header_list_size;
    listener_.h2.max_header_fields = l.http2.max_header_fields;
    listener_.http1_max_request_body_bytes = l.http1.max_request_body_bytes;
    listener_.idle_timeout = l.idle_timeout;
    listener_.grpc_web = l.grpc_web.has_value();
    if (l.grpc_web && l.grpc_web->cors) {
      listener_.cors = std::make_shared<const sy::routing::CorsPolicy>(*l.grpc_web->cors);
    }
  }
}

InMemoryProxy::~InMemoryProxy() {
  // Client connections first (their RPCs detach from upstream streams), then
  // the pools, then the backends' ends, then the loop.
  for (auto* c : conns_) delete c;
  conns_.clear();
  for (auto* c : http1_) delete c;
  http1_.clear();
  clusters_.reset();
  echo_.clear();
  runtime_.reset();
  event_base_free(base_);
}

bufferevent* InMemoryProxy::Connect() {
  Pipe pipe = MakePipe(base_);
  auto peer = sy::event::parseIpPort("127.0.0.1:40000");
  auto* conn = new sy::proxy::DownstreamConnection(*this, pipe.proxy_end, *peer, listener_);
  conns_.insert(conn);
  conn->begin();
  return pipe.peer_end;
}

bufferevent* InMemoryProxy::ConnectHttp1() {
  Pipe pipe = MakePipe(base_);
  auto peer = sy::event::parseIpPort("127.0.0.1:40001");
  auto* conn = new sy::proxy::Http1Connection(*this, pipe.proxy_end, *peer, listener_);
  http1_.insert(conn);
  conn->begin();
  bufferevent_enable(pipe.peer_end, EV_READ | EV_WRITE);
  return pipe.peer_end;
}

void InMemoryProxy::clientConnectionClosed(sy::proxy::ClientConnection* conn) {
  if (http1_.erase(conn) == 0) return;
  ++closed_;
  delete conn;
}

bool InMemoryProxy::Pump(std::vector<H2Peer*> peers, int max_rounds) {
  // A backend that appears during a pass is pumped from the next pass on.
  for (int pass = 0; pass < 100; ++pass) {
    size_t known = backends_.size();
    std::vector<H2Peer*> all = peers;
    all.insert(all.end(), backends_.begin(), backends_.end());
    bool settled = mem::Pump(base_, all, max_rounds);
    if (backends_.size() == known) return settled;
  }
  return false;
}

void InMemoryProxy::connectionClosed(sy::proxy::DownstreamConnection* conn) {
  conns_.erase(conn);
  ++closed_;
  delete conn;
}

std::unique_ptr<sy::upstream::UpstreamConnection> InMemoryProxy::OpenUpstream(
    const sy::event::SocketAddress& addr, const sy::upstream::ConnectionSettings& settings,
    sy::upstream::UpstreamConnection::ClosedFn on_closed, sy::metrics::EndpointSeries* stats) {
  Pipe pipe = MakePipe(base_);
  auto conn = sy::upstream::UpstreamConnection::adopt(base_, pipe.proxy_end, settings,
                                                      std::move(on_closed), stats);
  H2Peer* peer = nullptr;
  if (on_upstream) {
    peer = on_upstream(addr.toString(), pipe.peer_end);
  } else {
    echo_.push_back(std::make_unique<EchoBackend>(pipe.peer_end));
    peer = &echo_.back()->peer();
  }
  if (peer != nullptr) backends_.push_back(peer);
  return conn;
}

}  // namespace sytest::mem
