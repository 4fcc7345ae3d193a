#include "upstream/pool.h"

#include <algorithm>

#include "common/log.h"

namespace switchyard::upstream {

Pool::Pool(event_base* base, std::string address, event::SocketAddress sockaddr,
           ConnectionSettings settings, uint32_t max_connections)
    : base_(base),
      address_(std::move(address)),
      sockaddr_(sockaddr),
      settings_(settings),
      max_connections_(std::max<uint32_t>(1, max_connections)) {
  if (settings_.tls) settings_.session = std::make_shared<tls::SessionSlot>();
}

void Pool::updateSettings(ConnectionSettings settings) {
  // A session from an old context would skip verification against a new CA.
  bool same_tls = settings.tls == settings_.tls && settings.tls_name == settings_.tls_name;
  auto session = same_tls ? settings_.session : nullptr;
  settings_ = std::move(settings);
  settings_.session = session ? session : (settings_.tls ? std::make_shared<tls::SessionSlot>() : nullptr);
}

Pool::~Pool() {
  // Connections notify their streams as they are destroyed.
  conns_.clear();
}

UpstreamConnection* Pool::acquire() {
  UpstreamConnection* least = nullptr;
  for (auto& c : conns_) {
    if (c->closed() || c->draining()) continue;
    if (c->hasCapacity()) return c.get();
    if (least == nullptr || c->activeStreams() < least->activeStreams()) least = c.get();
  }
  if (least != nullptr && conns_.size() >= max_connections_) return least;
  auto on_closed = [this](UpstreamConnection* c, http2::CloseReason r) { onConnectionClosed(c, r); };
  auto conn = connector_ ? connector_(base_, sockaddr_, settings_, on_closed, stats_)
                         : UpstreamConnection::connect(base_, sockaddr_, settings_, on_closed, stats_);
  if (!conn) return least;
  conns_.push_back(std::move(conn));
  return conns_.back().get();
}

void Pool::recordResult(bool failed) {
  if (!failed) {
    consecutive_failures_ = 0;
    return;
  }
  if (outlier_threshold_ == 0 || !on_outlier_) return;
  if (++consecutive_failures_ >= outlier_threshold_) {
    consecutive_failures_ = 0;
    on_outlier_(address_);
  }
}

void Pool::drain() {
  draining_ = true;
  for (auto& c : conns_) c->drain();
}

size_t Pool::activeStreams() const {
  size_t n = 0;
  for (const auto& c : conns_) n += c->activeStreams();
  return n;
}

void Pool::onConnectionClosed(UpstreamConnection* c, http2::CloseReason reason) {
  if (reason == http2::CloseReason::ConnectFailed) {
    ++connect_failures_;
    log::main().warn("upstream {}: connect failed (cause={}): {}", address_, c->failureCause(),
                     c->failureDetail());
  } else if (c->connected()) {
    connect_failures_ = 0;
    log::main().debug("upstream {}: connection closed ({})", address_, http2::toString(reason));
  }
  auto it = std::find_if(conns_.begin(), conns_.end(), [c](auto& p) { return p.get() == c; });
  if (it != conns_.end()) {
    auto doomed = std::move(*it);
    conns_.erase(it);
    doomed.reset();
  }
}

}  // namespace switchyard::upstream
