// RpcRecord: how one RPC is reported. Once the RPC is classified (no route,
// refused by a policy step, served by the proxy itself, or routed to a
// cluster) it counts in one metric series, started then. When the RPC ends
// the record gives that series the traffic both ways, the status (CANCELLED
// when none was reached) and the duration, and completes the RPC's
// access-log line with what it measures itself (end time, duration, status
// and message, bytes and messages) before appending it to the worker's
// AccessLogBuffer. Times are read from the worker's clock, like the deadline.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "event/clock.h"
#include "grpc/status_code.h"
#include "proxy/access_log_buffer.h"
#include "proxy/message_counter.h"
#include "proxy/worker_context.h"

namespace switchyard::metrics {
class RpcSeries;
}

namespace switchyard::proxy {

class RpcRecord {
 public:
  explicit RpcRecord(WorkerContext& worker) : worker_(worker), start_(worker.clock().now()) {}

  // When the RPC began (its request headers), by the worker's clock.
  event::Clock::TimePoint start() const { return start_; }
  // From now on the RPC counts in this series, started once here (no-op without metrics).
  void countAs(std::string_view service, std::string_view method, std::string_view cluster,
               std::string_view protocol);
  // The grpc-message of a status the proxy made; logged instead of the backend's.
  void setLocalMessage(std::string message) { local_message_ = std::move(message); }

  // The RPC ended: its series gets the traffic, the status and the duration.
  void recordMetrics(std::optional<grpc::StatusCode> status, const Traffic& in,
                     const Traffic& out) const;
  // Completes `r` (what the RPC knows of its caller, route and backend) and
  // appends it to `log`. `backend_message`: the backend's grpc-message.
  void logAccess(AccessRecord& r, AccessLogBuffer& log, std::optional<grpc::StatusCode> status,
                 std::string_view backend_message, const Traffic& in, const Traffic& out) const;

 private:
  WorkerContext& worker_;
  const event::Clock::TimePoint start_;
  metrics::RpcSeries* series_ = nullptr;
  std::string local_message_;
};

}  // namespace switchyard::proxy
