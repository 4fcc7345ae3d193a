#include "proxy/upstream_attempt.h"

#include "metrics/worker_stats.h"

namespace switchyard::proxy {

const char* toString(UpstreamAttempt::State s) {
  switch (s) {
    case UpstreamAttempt::State::Idle: return "idle";
    case UpstreamAttempt::State::Sent: return "sent";
    case UpstreamAttempt::State::HeadersReceived: return "headers received";
    case UpstreamAttempt::State::Done: return "done";
  }
  return "unknown";
}

void UpstreamAttempt::picked(const ClusterTable::Pick& pick) {
  endpoint_ = pick.endpoint->address;
  endpoint_index_ = pick.endpoint_index;
  pool_ = pick.pool;
  stats_ = pick.pool->stats();
}

int UpstreamAttempt::start(upstream::UpstreamConnection* conn, upstream::StreamHandler* handler,
                           const UpstreamRequestInputs& request) {
  started_ = clock_.now();
  const http2::NvList& headers = headers_.emplace(request).list();
  int32_t id = conn->submit(handler, headers.data(), headers.size());
  if (id < 0) return id;
  conn_ = conn;
  stream_id_ = id;
  state_ = State::Sent;
  return 0;
}

void UpstreamAttempt::resume() const {
  if (conn_ != nullptr) conn_->resume(stream_id_);
}

void UpstreamAttempt::consume(size_t n) const {
  if (conn_ != nullptr) conn_->consume(stream_id_, n);
}

void UpstreamAttempt::recordResult(bool failed, int grpc_code) {
  if (conn_ == nullptr) return;
  pool_->recordResult(failed);
  last_ms_ = std::chrono::duration<double, std::milli>(clock_.now() - started_)
                 .count();
  if (stats_ != nullptr) stats_->attemptFinished(grpc_code, last_ms_ / 1000.0);
}

void UpstreamAttempt::cancel(uint32_t h2_error, size_t unconsumed) {
  if (conn_ == nullptr) return;
  if (unconsumed > 0) conn_->consume(stream_id_, unconsumed);
  conn_->cancel(stream_id_, h2_error);
  detach();
}

void UpstreamAttempt::closed(size_t unconsumed) {
  if (conn_ == nullptr) return;
  conn_->consumeConnection(unconsumed);
  detach();
}

void UpstreamAttempt::detach() {
  conn_ = nullptr;
  stream_id_ = 0;
  pool_ = nullptr;
}

}  // namespace switchyard::proxy
