// StreamRpcs: the RPCs open on one HTTP/2 client connection, by stream id,
// from the stream's first HEADERS to its close. Owned by the
// DownstreamConnection; the Rpcs it holds are destroyed with their stream.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "common/stream_table.h"
#include "proxy/downstream_side.h"
#include "proxy/rpc.h"

namespace switchyard::metrics {
class WorkerStats;
}

namespace switchyard::proxy {

class StreamRpcs {
 public:
  // The RPC on `stream_id`; null if none.
  Rpc* find(int32_t stream_id) const {
    const std::unique_ptr<Rpc>* rpc = rpcs_.find(stream_id);
    return rpc == nullptr ? nullptr : rpc->get();
  }
  bool empty() const { return rpcs_.empty(); }

  // A request stream opened on `side`.
  void open(DownstreamSide& side, int32_t stream_id) {
    rpcs_[stream_id] = std::make_unique<Rpc>(side, stream_id);
  }
  // The stream closed (`h2_error`): its RPC learns so and is destroyed.
  // False if it had none.
  bool close(int32_t stream_id, uint32_t h2_error);
  // Ends the stream's RPC with UNAVAILABLE and `why`; false if it has none.
  bool end(int32_t stream_id, const std::string& why);
  // Ends every RPC with UNAVAILABLE and `why`, each counted as a draining
  // error in `stats` unless it is null.
  void endAll(const char* why, metrics::WorkerStats* stats);
  // Destroys every RPC (the connection is closing; their streams will not close).
  void clear() { rpcs_.clear(); }

 private:
  common::StreamTable<std::unique_ptr<Rpc>> rpcs_;
};

}  // namespace switchyard::proxy
