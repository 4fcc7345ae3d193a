#include "proxy/rpc_record.h"

#include <chrono>

#include "metrics/worker_stats.h"

namespace switchyard::proxy {

void RpcRecord::countAs(std::string_view service, std::string_view method,
                        std::string_view cluster, std::string_view protocol) {
  if (auto* stats = worker_.stats()) {
    series_ = stats->rpc(service, method, cluster, protocol);
    series_->started();
  }
}

void RpcRecord::recordMetrics(std::optional<grpc::StatusCode> status, const Traffic& in,
                              const Traffic& out) const {
  if (series_ == nullptr) return;
  double secs = std::chrono::duration<double>(worker_.clock().now() - start_).count();
  series_->messagesReceived(in.messages.messages());
  series_->messagesSent(out.messages.messages());
  series_->bytesReceived(in.bytes);
  series_->bytesSent(out.bytes);
  series_->handled(static_cast<int>(status.value_or(grpc::StatusCode::Cancelled)), secs);
}

void RpcRecord::logAccess(AccessRecord& r, AccessLogBuffer& log,
                          std::optional<grpc::StatusCode> status, std::string_view backend_message,
                          const Traffic& in, const Traffic& out) const {
  r.time = std::chrono::system_clock::now();
  r.grpc_status = status ? static_cast<int>(*status) : -1;
  r.grpc_message = local_message_.empty() ? backend_message : std::string_view(local_message_);
  r.duration_ms =
      std::chrono::duration<double, std::milli>(worker_.clock().now() - start_).count();
  r.bytes_in = in.bytes;
  r.bytes_out = out.bytes;
  r.msgs_in = in.messages.messages();
  r.msgs_out = out.messages.messages();
  log.append(r);
}

}  // namespace switchyard::proxy
