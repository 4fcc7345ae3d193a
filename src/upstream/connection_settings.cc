#include "upstream/connection_settings.h"

namespace switchyard::upstream {

ConnectionSettings connectionSettingsFor(const config::ClusterSpec& spec) {
  ConnectionSettings cs;
  cs.connect_timeout = spec.connect_timeout;
  cs.keepalive_interval = spec.keepalive_interval;
  cs.keepalive_timeout = spec.keepalive_timeout;
  // Upstream windows are generous: the downstream side bounds memory.
  cs.h2.initial_stream_window = 256 * 1024;
  cs.h2.initial_connection_window = 16 * 1024 * 1024;
  cs.h2.max_concurrent_streams = 100;  // streams the backend may open to us (none in gRPC)
  cs.h2.max_header_list_size = spec.max_response_header_list_size;
  cs.h2.max_header_fields = spec.max_response_header_fields;
  cs.max_request_header_list_size = spec.max_request_header_list_size;
  cs.max_pending = spec.max_pending;
  cs.pending_timeout = spec.pending_timeout;
  return cs;
}

}  // namespace switchyard::upstream
