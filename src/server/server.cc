#include "server/server.h"

#include <csignal>
#include <thread>

#include "common/json.h"
#include "common/log.h"
#include "config/loader.h"
#include "server/listener_socket.h"
#include "server/notify.h"

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
  }
  if (Status st = apply(cfg); !st.ok()) {
    log::main().error("{}", st.error());
    return 1;
  }
  metrics_.configReload(true);
  for (auto& w : workers_) w->start();
  setupAdmin();
  if (admin_) {
    if (Status st = admin_->start(); !st.ok()) {
      log::main().error("admin: {}", st.error());
      return 1;
    }
  }

  std::signal(SIGPIPE, SIG_IGN);
  for (int sig : {SIGHUP, SIGTERM, SIGINT}) {
    event::EventPtr ev(evsignal_new(loop_.base(), sig, &Server::onSignal, this));
    evsignal_add(ev.get(), nullptr);
    signal_events_.push_back(std::move(ev));
  }
  for (const auto& [name, l] : listeners_) {
    log::main().info("listener {} on {} ({})", name, l.bound.toString(), l.tls ? "TLS, ALPN h2" : "h2c");
  }
  log::main().info("switchyard {} ready: {} workers, {} routes, {} clusters{}", SY_VERSION, n,
                   cfg->routes.size(), cfg->clusters.size(),
                   admin_ ? ", admin on 127.0.0.1:" + std::to_string(admin_->boundPort()) : "");
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
    log::setLevel(log_level_override_.empty() ? cfg->logging.level : log_level_override_);
    metrics_.configReload(true);
    log::main().info("reload complete (generation {})", generation_);
  }
  notify::ready();
}

Status Server::apply(std::shared_ptr<const config::Config> cfg) {
  // 1. Everything that can fail, before anything changes.
  std::map<std::string, tls::SharedSslCtx> tls;
  for (const auto& l : cfg->listeners) {
    if (!l.tls) continue;
    auto ctx = tls::makeServerContext(l.tls->cert, l.tls->key, l.tls->min_version);
    if (!ctx.ok()) {
      return Error{cfg->path + ":" + std::to_string(l.tls->mark.line) + ":" +
                   std::to_string(l.tls->mark.col) + ": listener " + l.name + ": " + ctx.error()};
    }
    tls[l.name] = *ctx;
  }
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
    ++generation_;
  }
  publish();

  std::map<std::string, ListenerState> next;
  for (const auto& l : cfg->listeners) {
    proxy::ListenerInfo info;
    info.name = l.name;
    info.tls = l.tls.has_value();
    info.h2 = toSettings(l.http2);
    info.idle_timeout = l.idle_timeout;
    auto ctx = tls.count(l.name) ? tls[l.name] : nullptr;
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

upstream::Health Server::healthOf(const std::string&, const std::string&) const {
  return upstream::Health::Healthy;
}

void Server::publish() {
  std::shared_ptr<const config::Config> cfg;
  uint64_t gen = 0;
  {
    std::lock_guard<std::mutex> g(mu_);
    cfg = config_;
    gen = generation_;
  }
  auto routes = std::make_shared<const routing::RouteTable>(routing::RouteTable::build(cfg->routes));
  auto rt = buildRuntime(cfg, routes, {},
                         [this](const std::string& c, const std::string& a) { return healthOf(c, a); },
                         gen);
  {
    std::lock_guard<std::mutex> g(mu_);
    runtime_ = rt;
  }
  for (auto& w : workers_) w->setRuntime(rt);
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
        .endObject();
    w.key("idle_timeout").value(formatDuration(l.idle_timeout));
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
    if (!c.authority.empty()) w.key("authority").value(c.authority);
    w.endObject();
  }
  w.endArray();
  w.endObject();
  return w.take() + "\n";
}

}  // namespace switchyard::server
