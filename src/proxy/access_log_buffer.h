// AccessLogBuffer: one worker's access-log lines on their way to the shared
// AccessLogTarget. An RPC's line is formatted into this worker's buffer (no
// lock, no syscall); the buffer is written out in one write() when it reaches
// its capacity, when its flush timer fires (a short interval after the first
// line of a batch), and when it is destroyed (worker exit, after the last
// connection's RPCs have logged). Owned and used by one worker thread.
#pragma once

#include <event2/event.h>

#include <cstddef>
#include <string>

#include "common/duration.h"
#include "config/spec.h"
#include "event/loop.h"
#include "proxy/access_log_format.h"

namespace switchyard::log {
class AccessLogTarget;
}

namespace switchyard::proxy {

struct AccessLogSettings {
  AccessLogFormat format = AccessLogFormat::Text;
  Duration flush_interval = std::chrono::milliseconds(200);
  size_t buffer_bytes = 64 * 1024;
};

// The logging section's access-log tuning as buffer settings.
AccessLogSettings accessLogSettings(const config::LoggingSpec& logging);

class AccessLogBuffer {
 public:
  // The flush timer keeps time by `clock` (the worker loop's).
  AccessLogBuffer(event_base* base, log::AccessLogTarget& target,
                  event::Clock& clock = event::realClock());
  ~AccessLogBuffer();
  AccessLogBuffer(const AccessLogBuffer&) = delete;
  AccessLogBuffer& operator=(const AccessLogBuffer&) = delete;

  void configure(const AccessLogSettings& settings) { settings_ = settings; }
  // Whether a line would be kept (the target is not "off").
  bool enabled() const;
  // Formats and queues one line.
  void append(const AccessRecord& record);
  // Writes out whatever is queued.
  void flush();
  size_t pendingBytes() const { return buf_.size(); }

 private:
  log::AccessLogTarget& target_;
  AccessLogSettings settings_;
  std::string buf_;
  event::Timer timer_;
};

}  // namespace switchyard::proxy
