#include "server/server.h"

#include <algorithm>
#include <csignal>
#include <thread>

#include "common/json.h"
#include "common/log.h"
#include "config/loader.h"
#include "server/certificate_report.h"
#include "server/listener_socket.h"
#include "server/notify.h"
#include "server/signals.h"

namespace switchyard::server {
namespace {

constexpr auto kDrainPoll = std::chrono::milliseconds(50);

size_t workerCount(const config::Config& cfg) {
  if (cfg.workers > 0) return cfg.workers;
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

http2::SessionSettings toSettings(const config::Http2Spec& h) {
  http2::SessionSettings s;
  s.max_concurrent_streams = h.max_concurrent_streams;
  s.initial_stream_window = h.initial_stream_window;
  s.initial_connection_window = h.initial_connection_window;
  s.max_frame_size = h.max_frame_size;
  s.max_header_list_size = h.max_header_list_size;
  s.max_header_fields = h.max_header_fields;
  s.max_glitches = h.max_glitches;
  s.glitch_window = h.glitch_window;
  return s;
}

}  // namespace

Server::Server(std::string config_path, std::string log_level_override)
    : config_path_(std::move(config_path)), log_level_override_(std::move(log_level_override)) {}

Server::~Server() {
  for (auto& w : workers_) w->stop();
  for (auto& w : workers_) w->join();
  if (admin_) admin_->stop();
}

int Server::run() {
  auto loaded = config::loadFile(config_path_);
  if (!loaded.config) {
    for (const auto& e : loaded.errors) log::main().error("{}", e);
    return 1;
  }
  auto cfg = std::make_shared<const config::Config>(std::move(*loaded.config));
  log::init(log_level_override_.empty() ? cfg->logging.level : log_level_override_,
            cfg->logging.access_log);

  size_t n = workerCount(*cfg);
  for (size_t i = 0; i < n; ++i) {
    workers_.push_back(std::make_unique<Worker>(i, &metrics_.addWorker()));
    // Passive failure runs seen by a worker come to the main thread, which decides.
    workers_.back()->clusters().setOutlierSink(
        [this](const std::string& cluster, const std::string& address) {
          loop_.post([this, cluster, address] { onOutlier(cluster, address); });
        });
  }
  checker_ = std::make_unique<upstream::health::HealthChecker>(
      loop_, [this](const upstream::health::CheckResult& r) { onCheckResult(r); });
  dns_ = std::make_unique<DnsRefresher>(
      loop_, [this](const std::string& key, std::vector<event::SocketAddress> addrs) {
        onDnsResult(key, std::move(addrs));
      });
  ejection_timer_ = std::make_unique<event::Timer>(loop_.base(), [this] { onEjectionTimer(); });
  if (Status st = apply(cfg); !st.ok()) {
    log::main().error("{}", st.error());
    return 1;
  }
  metrics_.configReload(true);
  started_ = true;
  for (auto& w : workers_) w->start();
  setupAdmin();
  if (admin_) {
    if (Status st = admin_->start(); !st.ok()) {
      log::main().error("admin: {}", st.error());
      return 1;
    }
  }

  ignoreStraySignals();
  for (int sig : handledSignals()) {
    event::EventPtr ev(evsignal_new(loop_.base(), sig, &Server::onSignal, this));
    evsignal_add(ev.get(), nullptr);
    signal_events_.push_back(std::move(ev));
  }
  for (const auto& [name, l] : listeners_) {
    log::main().info("listener {} on {} ({})", name, l.bound.toString(), l.tls ? "TLS, ALPN h2" : "h2c");
  }
  log::main().info("switchyard {} ready: {} workers, {} routes, {} clusters{}", SY_VERSION, n,
                   cfg->routes.size(), cfg->clusters.size(),
                   admin_ ? ", admin on " + admin_->address() : "");
  notify::ready();
  loop_.run();
  finish();
  return exit_code_;
}

void Server::onSignal(evutil_socket_t sig, short, void* arg) {
  auto* self = static_cast<Server*>(arg);
  if (sig == SIGHUP) {
    self->reload();
    return;
  }
  if (sig == SIGUSR1) {
    log::main().info("SIGUSR1: reopening log files");
    log::reopen();
    return;
  }
  if (self->draining_) {
    log::main().warn("second signal: exiting now");
    self->exit_code_ = 0;
    event_base_loopbreak(self->loop_.base());
    return;
  }
  log::main().info("signal {}: draining", sig);
  self->beginDrain();
}

void Server::reload() {
  notify::reloading();
  log::main().info("SIGHUP: reloading {}", config_path_);
  auto loaded = config::loadFile(config_path_);
  if (!loaded.config) {
    for (const auto& e : loaded.errors) log::main().error("reload rejected: {}", e);
    log::main().error("reload failed; the running configuration is unchanged");
    metrics_.configReload(false);
    notify::ready();
    return;
  }
  auto cfg = std::make_shared<const config::Config>(std::move(*loaded.config));
  if (Status st = apply(cfg); !st.ok()) {
    log::main().error("reload rejected: {}; the running configuration is unchanged", st.error());
    metrics_.configReload(false);
  } else {
    if (cfg->workers != 0 && cfg->workers != workers_.size()) {
      log::main().warn("workers changed to {}: takes effect on restart", cfg->workers);
    }
    // Applies the level, and opens the access log anew (a changed target, or
    // the same path after rotation).
    log::init(log_level_override_.empty() ? cfg->logging.level : log_level_override_,
              cfg->logging.access_log);
    metrics_.configReload(true);
    log::main().info("reload complete (generation {})", generation_);
  }
  notify::ready();
}

Status Server::apply(std::shared_ptr<const config::Config> cfg) {
  // 1. Everything that can fail, before anything changes.
  auto material = tls::loadMaterial(*cfg);
  if (!material.ok()) return Error{material.error()};
  std::map<std::string, ListenerSockets> opened;
  for (const auto& l : cfg->listeners) {
    auto it = listeners_.find(l.name);
    if (it != listeners_.end() && it->second.address == l.address) continue;
    auto socks = openListenerSockets(l.address, workers_.size());
    if (!socks.ok()) {
      for (auto& [name, s] : opened) {
        for (int fd : s.fds) ::close(fd);
      }
      return Error{cfg->path + ":" + std::to_string(l.mark.line) + ":" +
                   std::to_string(l.mark.col) + ": listener " + l.name + ": " + socks.error()};
    }
    opened[l.name] = std::move(*socks);
  }

  // 2. Commit: routes and clusters first, so new listeners route with the new config.
  {
    std::lock_guard<std::mutex> g(mu_);
    config_ = cfg;
    tls_ = *material;
  }
  publishCertificates(*cfg, **material);
  routes_ = std::make_shared<const routing::RouteTable>(routing::RouteTable::build(cfg->routes));
  // Resolved names of clusters that no longer exist are dropped; the rest are re-resolved
  // by buildRuntime when missing.
  std::erase_if(resolved_, [&](const auto& kv) {
    for (const auto& c : cfg->clusters) {
      for (const auto& ep : c.endpoints) {
        if (endpointKey(c.name, ep) == kv.first) return false;
      }
    }
    return true;
  });
  std::map<std::string, upstream::health::OutlierTracker> outliers;
  for (const auto& c : cfg->clusters) outliers.emplace(c.name, upstream::health::OutlierTracker(c.outlier_detection));
  outliers_ = std::move(outliers);
  publish();
  if (dns_) dns_->setTargets(*cfg);

  std::map<std::string, ListenerState> next;
  for (const auto& l : cfg->listeners) {
    proxy::ListenerInfo info;
    info.name = l.name;
    info.tls = l.tls.has_value();
    info.h2 = toSettings(l.http2);
    info.idle_timeout = l.idle_timeout;
    info.request_headers_timeout = l.request_headers_timeout;
    info.stream_idle_timeout = l.stream_idle_timeout;
    info.max_connections = l.max_connections;
    if (l.tls) {
      info.handshake_timeout = l.tls->handshake_timeout;
      info.forward_client_cert = l.tls->forward_client_cert;
    }
    auto found = (*material)->listeners.find(l.name);
    auto ctx = found != (*material)->listeners.end() ? found->second.ctx : nullptr;
    if (auto o = opened.find(l.name); o != opened.end()) {
      if (listeners_.count(l.name)) {
        for (auto& w : workers_) w->removeListener(l.name);
      }
      for (size_t i = 0; i < workers_.size(); ++i) {
        workers_[i]->addListener(o->second.fds[i], info, ctx);
      }
      next[l.name] = ListenerState{l.address, o->second.bound, info.tls};
    } else {
      for (auto& w : workers_) w->updateListener(info, ctx);
      next[l.name] = listeners_[l.name];
      next[l.name].tls = info.tls;
    }
  }
  for (const auto& [name, state] : listeners_) {
    if (!next.count(name)) {
      for (auto& w : workers_) w->removeListener(name);
      log::main().info("listener {} removed", name);
    }
  }
  listeners_ = std::move(next);
  return {};
}

upstream::Health Server::healthOf(const std::string& cluster, const std::string& address) const {
  if (auto o = outliers_.find(cluster); o != outliers_.end() && o->second.ejected(address)) {
    return upstream::Health::Ejected;
  }
  auto it = endpoints_.find(cluster + "|" + address);
  if (it == endpoints_.end()) {
    // Not seen before: trusted at startup, must pass a check when added later.
    const config::ClusterSpec* spec = nullptr;
    for (const auto& c : config_->clusters) {
      if (c.name == cluster) spec = &c;
    }
    if (spec != nullptr && spec->health_check.enabled && started_) return upstream::Health::Unhealthy;
    return upstream::Health::Healthy;
  }
  if (it->second.checked && !it->second.tracker.eligible()) return upstream::Health::Unhealthy;
  return upstream::Health::Healthy;
}

void Server::publish() {
  std::shared_ptr<const config::Config> cfg;
  {
    std::lock_guard<std::mutex> g(mu_);
    cfg = config_;
  }
  // Names resolved once here; after that the DNS refresher keeps them current.
  for (const auto& c : cfg->clusters) {
    for (const auto& ep : c.endpoints) {
      if (event::makeAddress(ep.host, ep.port)) continue;
      std::string key = endpointKey(c.name, ep);
      if (resolved_.count(key)) continue;
      if (auto r = resolveEndpoint(ep); r.ok()) {
        resolved_[key] = std::move(*r);
      } else {
        // No addresses until the DNS refresher gets an answer.
        log::main().warn("cluster {}: {}", c.name, r.error());
        resolved_[key] = {};
      }
    }
  }
  auto rt = buildRuntime(cfg, routes_, resolved_,
                         [this](const std::string& c, const std::string& a) { return healthOf(c, a); },
                         generation_ + 1, tls_);
  syncEndpoints(*rt);
  {
    std::lock_guard<std::mutex> g(mu_);
    runtime_ = rt;
    ++generation_;
  }
  for (auto& w : workers_) w->setRuntime(rt);
}

void Server::syncEndpoints(const proxy::Runtime& rt) {
  std::map<std::string, EndpointState> next;
  std::vector<upstream::health::Target> targets;
  for (const auto& c : rt.clusters) {
    const auto& hc = c->spec->health_check;
    for (const auto& e : c->endpoints) {
      std::string key = c->name() + "|" + e.address;
      auto it = endpoints_.find(key);
      if (it != endpoints_.end() && it->second.checked == hc.enabled) {
        next.emplace(key, std::move(it->second));
      } else {
        EndpointState st{upstream::health::HealthTracker(hc.healthy_threshold, hc.unhealthy_threshold,
                                                         /*start_optimistic=*/!started_),
                         hc.enabled};
        next.emplace(key, std::move(st));
      }
      metrics_.setEndpointHealth(c->name(), e.address, e.health == upstream::Health::Healthy ? 1
                                                       : e.health == upstream::Health::Ejected ? 2
                                                                                               : 0);
      if (hc.enabled) targets.push_back(upstream::health::Target{c->name(), e.address, hc});
    }
  }
  for (const auto& [key, st] : endpoints_) {
    if (next.count(key)) continue;
    auto bar = key.find('|');
    std::string cluster = key.substr(0, bar);
    std::string address = key.substr(bar + 1);
    metrics_.removeEndpoint(cluster, address);
    if (auto o = outliers_.find(cluster); o != outliers_.end()) o->second.forget(address);
    log::main().info("cluster {}: endpoint {} removed", cluster, address);
  }
  endpoints_ = std::move(next);
  if (checker_) checker_->setTargets(std::move(targets));
}

void Server::onCheckResult(const upstream::health::CheckResult& r) {
  auto it = endpoints_.find(r.cluster + "|" + r.address);
  if (it == endpoints_.end()) return;
  metrics_.healthCheckResult(r.cluster, r.address, r.passed);
  auto& tracker = it->second.tracker;
  bool was = tracker.eligible();
  if (r.force_unhealthy) {
    tracker.forceUnhealthy();
  } else if (r.force_healthy) {
    tracker.forceHealthy();
  } else {
    tracker.record(r.passed);
  }
  if (tracker.eligible() == was) return;
  if (tracker.eligible()) {
    log::main().info("cluster {}: endpoint {} is healthy ({})", r.cluster, r.address, r.reason);
  } else {
    log::main().warn("cluster {}: endpoint {} is unhealthy ({})", r.cluster, r.address, r.reason);
  }
  publish();
}

void Server::onOutlier(const std::string& cluster, const std::string& address) {
  auto o = outliers_.find(cluster);
  if (o == outliers_.end() || !runtime_) return;
  size_t size = 0;
  for (const auto& c : runtime_->clusters) {
    if (c->name() == cluster) size = c->endpoints.size();
  }
  auto ejected_for = o->second.onFailureBurst(address, size, std::chrono::steady_clock::now());
  if (!ejected_for) return;
  log::main().warn("cluster {}: endpoint {} ejected for {} after consecutive failures", cluster,
                   address, formatDuration(*ejected_for));
  metrics_.ejection(cluster, address);
  publish();
  if (!ejection_timer_->armed()) ejection_timer_->arm(std::chrono::seconds(1));
}

void Server::onEjectionTimer() {
  bool any = false;
  bool pending = false;
  for (auto& [cluster, tracker] : outliers_) {
    for (const auto& address : tracker.expire(std::chrono::steady_clock::now())) {
      log::main().info("cluster {}: endpoint {} returns from ejection", cluster, address);
      any = true;
    }
    pending = pending || tracker.ejectedCount() > 0;
  }
  if (any) publish();
  if (pending) ejection_timer_->arm(std::chrono::milliseconds(250));
}

void Server::onDnsResult(const std::string& key, std::vector<event::SocketAddress> addresses) {
  auto& current = resolved_[key];
  auto str = [](const std::vector<event::SocketAddress>& v) {
    std::vector<std::string> out;
    for (const auto& a : v) out.push_back(a.toString());
    std::sort(out.begin(), out.end());
    return out;
  };
  if (str(current) == str(addresses)) return;
  log::main().info("dns: {} now resolves to {} address(es)", key, addresses.size());
  current = std::move(addresses);
  if (!draining_) publish();
}

void Server::beginDrain() {
  notify::stopping();
  {
    std::lock_guard<std::mutex> g(mu_);
    draining_ = true;
  }
  for (auto& w : workers_) w->drain();
  drain_deadline_ = std::chrono::steady_clock::now() + config_->drain_timeout;
  drain_timer_ = std::make_unique<event::Timer>(loop_.base(), [this] { checkDrained(); });
  drain_timer_->arm(kDrainPoll);
}

void Server::checkDrained() {
  size_t open = 0;
  for (auto& w : workers_) open += w->connectionCount();
  if (open == 0) {
    log::main().info("drained; exiting");
    event_base_loopbreak(loop_.base());
    return;
  }
  if (std::chrono::steady_clock::now() >= drain_deadline_) {
    log::main().warn("drain_timeout passed with {} connections open; closing them", open);
    for (auto& w : workers_) w->forceClose();
    // Give the GOAWAYs a moment to go out, then stop.
    drain_deadline_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    drain_timer_ = std::make_unique<event::Timer>(loop_.base(),
                                                  [this] { event_base_loopbreak(loop_.base()); });
    drain_timer_->arm(std::chrono::seconds(1));
    return;
  }
  drain_timer_->arm(kDrainPoll);
}

void Server::finish() {
  dns_.reset();
  if (checker_) checker_->stop();
  for (auto& w : workers_) w->stop();
  for (auto& w : workers_) w->join();
  if (admin_) admin_->stop();
}

bool Server::ready(std::string* why) const {
  std::lock_guard<std::mutex> g(mu_);
  if (draining_) {
    *why = "draining";
    return false;
  }
  if (!runtime_) {
    *why = "starting";
    return false;
  }
  for (const auto& c : runtime_->clusters) {
    if (c->healthyCount() == 0) {
      *why = "cluster " + c->name() + " has no healthy endpoint";
      return false;
    }
  }
  return true;
}

void Server::setupAdmin() {
  if (config_->admin.address.empty()) return;
  admin_ = std::make_unique<admin::AdminServer>(config_->admin.address);
  admin_->handle("/healthz", [] { return admin::Response{200, "text/plain", "ok\n"}; });
  admin_->handle("/ready", [this] {
    std::string why;
    if (ready(&why)) return admin::Response{200, "text/plain", "ready\n"};
    return admin::Response{503, "text/plain", "not ready: " + why + "\n"};
  });
  admin_->handle("/metrics", [this] {
    return admin::Response{200, metrics::Metrics::kContentType, metrics_.serialize()};
  });
  admin_->handle("/clusters", [this] {
    return admin::Response{200, "application/json", clustersJson()};
  });
  admin_->handle("/config", [this] {
    return admin::Response{200, "application/json", configJson()};
  });
}

std::string Server::clustersJson() const {
  proxy::RuntimePtr rt;
  {
    std::lock_guard<std::mutex> g(mu_);
    rt = runtime_;
  }
  JsonWriter w(2);
  w.beginObject().key("generation").value(static_cast<unsigned long long>(rt ? rt->generation : 0));
  w.key("clusters").beginArray();
  if (rt) {
    for (const auto& c : rt->clusters) {
      w.beginObject().key("name").value(c->name()).key("lb").value(c->spec->lb);
      w.key("healthy").value(static_cast<unsigned long>(c->healthyCount()));
      w.key("endpoints").beginArray();
      for (const auto& e : c->endpoints) {
        w.beginObject()
            .key("address").value(e.address)
            .key("origin").value(e.origin)
            .key("health").value(upstream::toString(e.health))
            .endObject();
      }
      w.endArray().endObject();
    }
  }
  w.endArray().endObject();
  return w.take() + "\n";
}

std::string Server::configJson() const {
  std::shared_ptr<const config::Config> cfg;
  {
    std::lock_guard<std::mutex> g(mu_);
    cfg = config_;
  }
  JsonWriter w(2);
  w.beginObject();
  w.key("path").value(cfg->path);
  w.key("workers").value(static_cast<unsigned long>(workers_.size()));
  w.key("admin").beginObject().key("address").value(cfg->admin.address).endObject();
  w.key("drain_timeout").value(formatDuration(cfg->drain_timeout));
  w.key("logging").beginObject().key("level").value(cfg->logging.level)
      .key("access_log").value(cfg->logging.access_log).endObject();
  w.key("listeners").beginArray();
  for (const auto& l : cfg->listeners) {
    w.beginObject().key("name").value(l.name).key("address").value(l.address);
    if (l.tls) {
      // Paths only: key material never leaves the process.
      w.key("tls").beginObject().key("cert").value(l.tls->cert).key("key").value(l.tls->key)
          .key("min_version").value(l.tls->min_version).endObject();
    }
    w.key("http2").beginObject()
        .key("max_concurrent_streams").value(l.http2.max_concurrent_streams)
        .key("initial_stream_window").value(l.http2.initial_stream_window)
        .key("initial_connection_window").value(l.http2.initial_connection_window)
        .key("max_frame_size").value(l.http2.max_frame_size)
        .key("max_header_list_size").value(l.http2.max_header_list_size)
        .key("max_header_fields").value(l.http2.max_header_fields)
        .key("max_glitches").value(l.http2.max_glitches)
        .key("glitch_window").value(formatDuration(l.http2.glitch_window))
        .endObject();
    w.key("idle_timeout").value(formatDuration(l.idle_timeout));
    w.key("request_headers_timeout").value(formatDuration(l.request_headers_timeout));
    w.key("stream_idle_timeout").value(formatDuration(l.stream_idle_timeout));
    w.key("max_connections").value(l.max_connections);
    w.endObject();
  }
  w.endArray();
  w.key("routes").beginArray();
  for (const auto& r : cfg->routes) {
    w.beginObject().key("match").beginObject();
    if (!r.match.service.empty()) w.key("service").value(r.match.service);
    if (!r.match.method.empty()) w.key("method").value(r.match.method);
    if (!r.match.prefix.empty()) w.key("prefix").value(r.match.prefix);
    w.endObject().key("cluster").value(r.cluster);
    if (r.timeout_default || r.timeout_max) {
      w.key("timeout").beginObject();
      if (r.timeout_default) w.key("default").value(formatDuration(*r.timeout_default));
      if (r.timeout_max) w.key("max").value(formatDuration(*r.timeout_max));
      w.endObject();
    }
    w.endObject();
  }
  w.endArray();
  w.key("clusters").beginArray();
  for (const auto& c : cfg->clusters) {
    w.beginObject().key("name").value(c.name).key("lb").value(c.lb);
    w.key("endpoints").beginArray();
    for (const auto& e : c.endpoints) {
      std::string host = e.host.find(':') != std::string::npos ? "[" + e.host + "]" : e.host;
      w.value(host + ":" + std::to_string(e.port));
    }
    w.endArray();
    w.key("connect_timeout").value(formatDuration(c.connect_timeout));
    w.key("max_connections_per_endpoint").value(c.max_connections_per_endpoint);
    w.key("max_request_header_list_size").value(c.max_request_header_list_size);
    w.key("max_response_header_list_size").value(c.max_response_header_list_size);
    w.key("max_response_header_fields").value(c.max_response_header_fields);
    w.key("circuit_breaker").beginObject().key("max_pending").value(c.max_pending).endObject();
    w.key("pending_timeout").value(formatDuration(c.pending_timeout));
    if (!c.authority.empty()) w.key("authority").value(c.authority);
    w.endObject();
  }
  w.endArray();
  w.endObject();
  return w.take() + "\n";
}

}  // namespace switchyard::server
