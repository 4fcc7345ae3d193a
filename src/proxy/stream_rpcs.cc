#include "proxy/stream_rpcs.h"

#include "metrics/worker_stats.h"

namespace switchyard::proxy {

bool StreamRpcs::close(int32_t stream_id, uint32_t h2_error) {
  Rpc* rpc = find(stream_id);
  if (rpc == nullptr) return false;
  rpc->onDownstreamClosed(h2_error);
  rpcs_.erase(stream_id);
  return true;
}

bool StreamRpcs::end(int32_t stream_id, const std::string& why) {
  Rpc* r = find(stream_id);
  if (r != nullptr) r->abort(grpc::StatusCode::Unavailable, why);
  return r != nullptr;
}

void StreamRpcs::endAll(const char* why, metrics::WorkerStats* stats) {
  for (auto& [id, rpc] : rpcs_) {
    if (stats != nullptr) stats->localError(metrics::LocalError::Draining);
    rpc->abort(grpc::StatusCode::Unavailable, why);
  }
}

}  // namespace switchyard::proxy
