#include "metrics/metrics.h"

#include <prometheus/text_serializer.h>

#include "common/access_log_target.h"
#include "metrics/process_collector.h"

#include <chrono>
#include <sstream>
#include <tuple>
#include <utility>

#include "metrics/tls_metrics.h"

#ifndef SY_VERSION
#define SY_VERSION "unknown"
#endif

namespace switchyard::metrics {

namespace {

prometheus::Labels endpointLabels(std::string_view cluster, std::string_view address) {
  return {{"cluster", std::string(cluster)}, {"endpoint", std::string(address)}};
}

template <class T>
void removeIfPresent(prometheus::Family<T>& family, const prometheus::Labels& labels) {
  if (family.Has(labels)) family.Remove(&family.Add(labels));
}

}  // namespace

Metrics::Metrics(size_t max_rpc_series_per_worker, size_t max_endpoint_series_per_worker)
    : registry_(std::make_shared<prometheus::Registry>()),
      shards_(std::make_shared<ShardCollector>(max_rpc_series_per_worker,
                                               max_endpoint_series_per_worker)),
      endpoint_health_by_state_(prometheus::BuildGauge()
                                    .Name("switchyard_endpoint_health")
                                    .Help("1 for the endpoint's current health state (healthy, "
                                          "unhealthy or ejected), 0 for the other two.")
                                    .Register(*registry_)),
      endpoint_health_(prometheus::BuildGauge()
                           .Name("switchyard_endpoint_health_state")
                           .Help("Endpoint health as the load balancer sees it: 0 unhealthy, "
                                 "1 healthy, 2 ejected by outlier detection.")
                           .Register(*registry_)),
      health_checks_(prometheus::BuildCounter()
                         .Name("switchyard_health_checks_total")
                         .Help("Active gRPC health checks, by result.")
                         .Register(*registry_)),
      ejections_(prometheus::BuildCounter()
                     .Name("switchyard_endpoint_ejections_total")
                     .Help("Times outlier detection ejected the endpoint.")
                     .Register(*registry_)),
      reloads_(prometheus::BuildCounter()
                   .Name("switchyard_config_reloads_total")
                   .Help("Configuration loads, by result (the initial load counts).")
                   .Register(*registry_)),
      reloads_ok_(reloads_.Add({{"result", "success"}})),
      reloads_failed_(reloads_.Add({{"result", "failure"}})),
      last_reload_success_time_(
          prometheus::BuildGauge()
              .Name("switchyard_config_last_reload_success_timestamp_seconds")
              .Help("Unix time of the last successful configuration load.")
              .Register(*registry_)
              .Add({})),
      last_reload_successful_(prometheus::BuildGauge()
                                  .Name("switchyard_config_last_reload_successful")
                                  .Help("1 if the last configuration load succeeded, else 0.")
                                  .Register(*registry_)
                                  .Add({})) {
  prometheus::BuildGauge()
      .Name("switchyard_build_info")
      .Help("Always 1; the version label says which build is running.")
      .Register(*registry_)
      .Add({{"version", SY_VERSION}})
      .Set(1);
}

Metrics::~Metrics() = default;

WorkerStats& Metrics::addWorker() { return shards_->addShard(); }

namespace {
constexpr const char* kHealthStateNames[] = {"unhealthy", "healthy", "ejected"};
}  // namespace

void Metrics::setEndpointHealth(std::string_view cluster, std::string_view address, int state) {
  auto labels = endpointLabels(cluster, address);
  endpoint_health_.Add(labels).Set(state);
  for (int i = 0; i < 3; ++i) {
    auto with_state = labels;
    with_state.emplace("state", kHealthStateNames[i]);
    endpoint_health_by_state_.Add(with_state).Set(i == state ? 1 : 0);
  }
}

void Metrics::removeEndpoint(std::string_view cluster, std::string_view address) {
  auto labels = endpointLabels(cluster, address);
  removeIfPresent(endpoint_health_, labels);
  for (const char* state : kHealthStateNames) {
    auto with_state = labels;
    with_state.emplace("state", state);
    removeIfPresent(endpoint_health_by_state_, with_state);
  }
  removeIfPresent(ejections_, labels);
  for (const char* result : {"success", "failure"}) {
    auto with_result = labels;
    with_result.emplace("result", result);
    removeIfPresent(health_checks_, with_result);
  }
}

void Metrics::healthCheckResult(std::string_view cluster, std::string_view address, bool ok) {
  auto labels = endpointLabels(cluster, address);
  labels.emplace("result", ok ? "success" : "failure");
  health_checks_.Add(labels).Increment();
}

void Metrics::ejection(std::string_view cluster, std::string_view address) {
  ejections_.Add(endpointLabels(cluster, address)).Increment();
}

void Metrics::configReload(bool ok) {
  if (ok) {
    reloads_ok_.Increment();
    auto now = std::chrono::system_clock::now().time_since_epoch();
    last_reload_success_time_.Set(std::chrono::duration<double>(now).count());
    last_reload_successful_.Set(1);
  } else {
    reloads_failed_.Increment();
    last_reload_successful_.Set(0);
  }
}

std::vector<prometheus::MetricFamily> Metrics::collect() const {
  auto out = registry_->Collect();
  auto workers = shards_->Collect();
  out.insert(out.end(), std::make_move_iterator(workers.begin()),
             std::make_move_iterator(workers.end()));
  auto tls = TlsMetrics::instance().collect();
  out.insert(out.end(), std::make_move_iterator(tls.begin()), std::make_move_iterator(tls.end()));
  auto& access_log = log::AccessLogTarget::instance();
  for (auto [name, help, value] :
       {std::tuple{"switchyard_access_log_written_bytes_total",
                   "Access-log bytes written to the access-log target.", access_log.writtenBytes()},
        std::tuple{"switchyard_access_log_dropped_bytes_total",
                   "Access-log bytes that could not be written (disk full, closed pipe, ...).",
                   access_log.droppedBytes()}}) {
    prometheus::MetricFamily f;
    f.name = name;
    f.help = help;
    f.type = prometheus::MetricType::Counter;
    prometheus::ClientMetric m;
    m.counter.value = static_cast<double>(value);
    f.metric.push_back(std::move(m));
    out.push_back(std::move(f));
  }
  auto process = collectProcessMetrics();
  out.insert(out.end(), std::make_move_iterator(process.begin()),
             std::make_move_iterator(process.end()));
  return out;
}

std::string Metrics::serialize() const {
  std::ostringstream os;
  prometheus::TextSerializer().Serialize(os, collect());
  return os.str();
}

}  // namespace switchyard::metrics
