// Connection admission for listeners: the open-connection count each listener
// shares across workers (for listeners[].max_connections), and the accept
// back-off that pauses a listener whose accept() fails (out of file
// descriptors, for instance) instead of letting libevent retry in a busy loop.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/duration.h"

namespace switchyard::server {

// The shared open-connection counter of the listener called `name` (one per
// name for the life of the process, so reloads keep the count).
std::shared_ptr<std::atomic<uint32_t>> listenerConnectionCounter(const std::string& name);

// Counts one more open connection unless `max` (0: no limit) are open already.
bool admitConnection(std::atomic<uint32_t>& open, uint32_t max);

// How long to pause accepting after consecutive accept failures, and whether
// to log this one (at most once per log interval).
class AcceptBackoff {
 public:
  // An accept() failed now: returns how long to pause.
  Duration onFailure();
  // An accept succeeded: the next failure starts from the shortest pause.
  void onSuccess() { consecutive_ = 0; }
  // True at most once per interval; `suppressed` is how many failures were not logged.
  bool shouldLog(uint64_t* suppressed);

 private:
  uint32_t consecutive_ = 0;
  uint64_t unlogged_ = 0;
  std::chrono::steady_clock::time_point last_log_{};
  bool logged_once_ = false;
};

}  // namespace switchyard::server
