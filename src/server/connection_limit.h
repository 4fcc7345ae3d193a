// Connection admission for listeners: the open-connection count each listener
// shares across workers (for listeners[].max_connections). The accept
// back-off is event::AcceptGuard.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace switchyard::server {

// The shared open-connection counter of the listener called `name` (one per
// name for the life of the process, so reloads keep the count).
std::shared_ptr<std::atomic<uint32_t>> listenerConnectionCounter(const std::string& name);

// Counts one more open connection unless `max` (0: no limit) are open already.
bool admitConnection(std::atomic<uint32_t>& open, uint32_t max);

}  // namespace switchyard::server
