#include "admin/views.h"

#include "common/duration.h"
#include "common/json.h"

namespace switchyard::admin {
namespace {

void writeStrings(JsonWriter& w, const std::vector<std::string>& items) {
  w.beginArray();
  for (const auto& item : items) w.value(item);
  w.endArray();
}

void writeGrpcWeb(JsonWriter& w, const config::GrpcWebSpec& web) {
  w.key("grpc_web").beginObject();
  if (web.cors) {
    w.key("cors").beginObject();
    w.key("allow_origins");
    writeStrings(w, web.cors->allow_origins);
    w.key("max_age").value(formatDuration(web.cors->max_age));
    w.key("allow_headers");
    writeStrings(w, web.cors->allow_headers);
    w.key("expose_headers");
    writeStrings(w, web.cors->expose_headers);
    w.key("allow_credentials").value(web.cors->allow_credentials);
    w.endObject();
  }
  w.endObject();
}

}  // namespace

std::string clustersJson(const proxy::Runtime* rt) {
  JsonWriter w(2);
  w.beginObject().key("generation").value(static_cast<unsigned long long>(rt ? rt->generation : 0));
  w.key("clusters").beginArray();
  if (rt) {
    for (const auto& c : rt->clusters) {
      w.beginObject().key("name").value(c->name()).key("lb").value(c->spec->lb);
      w.key("healthy").value(static_cast<unsigned long>(c->healthyCount()));
      w.key("active_rpcs").value(static_cast<unsigned long>(c->active_rpcs->load(std::memory_order_relaxed)));
      w.key("max_active_rpcs").value(static_cast<unsigned long>(c->spec->max_active_rpcs));
      w.key("endpoints").beginArray();
      for (const auto& e : c->endpoints) {
        w.beginObject()
            .key("address").value(e.address)
            .key("origin").value(e.origin)
            .key("health").value(upstream::toString(e.health))
            .key("weight").value(static_cast<unsigned long>(e.weight))
            .endObject();
      }
      w.endArray().endObject();
    }
  }
  w.endArray().endObject();
  return w.take() + "\n";
}

std::string configJson(const config::Config& config, size_t workers) {
  JsonWriter w(2);
  w.beginObject();
  w.key("path").value(config.path);
  w.key("workers").value(static_cast<unsigned long>(workers));
  w.key("admin").beginObject().key("address").value(config.admin.address).endObject();
  w.key("drain_timeout").value(formatDuration(config.drain_timeout));
  w.key("logging").beginObject().key("level").value(config.logging.level)
      .key("access_log").value(config.logging.access_log).endObject();
  w.key("listeners").beginArray();
  for (const auto& l : config.listeners) {
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
    w.key("connection_balance")
        .value(l.connection_balance == config::ConnectionBalance::Exact ? "exact" : "kernel");
    if (l.grpc_web) writeGrpcWeb(w, *l.grpc_web);
    w.key("http1").beginObject().key("max_request_body_bytes").value(l.http1.max_request_body_bytes).endObject();
    w.endObject();
  }
  w.endArray();
  w.key("routes").beginArray();
  for (const auto& r : config.routes) {
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
  for (const auto& c : config.clusters) {
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

}  // namespace switchyard::admin
