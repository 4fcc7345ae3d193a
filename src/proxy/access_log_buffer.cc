#include "proxy/access_log_buffer.h"

#include "common/access_log_target.h"

namespace switchyard::proxy {

AccessLogSettings accessLogSettings(const config::LoggingSpec& logging) {
  AccessLogSettings s;
  parseAccessLogFormat(logging.access_log_format, &s.format);
  s.flush_interval = logging.access_log_flush_interval;
  s.buffer_bytes = static_cast<size_t>(logging.access_log_buffer);
  return s;
}

AccessLogBuffer::AccessLogBuffer(event_base* base, log::AccessLogTarget& target, event::Clock& clock)
    : target_(target), timer_(base, [this] { flush(); }, clock) {}

AccessLogBuffer::~AccessLogBuffer() { flush(); }

bool AccessLogBuffer::enabled() const { return target_.enabled(); }

void AccessLogBuffer::append(const AccessRecord& record) {
  if (!target_.enabled()) return;
  bool was_empty = buf_.empty();
  if (was_empty && buf_.capacity() < settings_.buffer_bytes) buf_.reserve(settings_.buffer_bytes);
  formatAccessLine(record, settings_.format, buf_);
  if (buf_.size() >= settings_.buffer_bytes) {
    flush();
    return;
  }
  if (was_empty) timer_.arm(settings_.flush_interval);
}

void AccessLogBuffer::flush() {
  timer_.cancel();
  if (buf_.empty()) return;
  target_.write(buf_.data(), buf_.size());
  buf_.clear();  // keeps the capacity for the next batch
}

}  // namespace switchyard::proxy
