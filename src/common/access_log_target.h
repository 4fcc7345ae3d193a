// AccessLogTarget: where access-log lines go (stdout, stderr, a file, or
// nowhere), shared by every worker. Workers hand it whole lines in batches
// (see proxy/access_log_buffer.h); it takes no lock on the write path.
//
// The target is one file descriptor whose number never changes once opened:
// switching to another target or reopening a rotated file opens the new file
// and dup3()s it over that number, which the kernel does atomically. A worker
// writing at that moment writes either to the old file or to the new one, and
// never to a closed or reused descriptor.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>

#include "common/result.h"

namespace switchyard::log {

class AccessLogTarget {
 public:
  // The process-wide instance (never destroyed).
  static AccessLogTarget& instance();

  // Points the log at "stdout", "stderr", "off" or a file path (appended to,
  // created 0644 if missing). A file is opened anew even when the path is
  // unchanged, so rename + open() (or reopen()) rotates it. On failure the
  // previous target stays and the error says why.
  Status open(const std::string& target);
  // Reopens the current file target (after logrotate renamed it). Nothing to
  // do for stdout, stderr or off.
  Status reopen();

  // Whether lines are wanted at all (false when "off").
  bool enabled() const { return enabled_.load(std::memory_order_acquire); }
  // Writes whole lines, from any thread. Short writes are continued; lines
  // that cannot be written (disk full, closed pipe) are dropped and counted.
  void write(const char* data, size_t len);

  std::string target() const;
  uint64_t droppedBytes() const { return dropped_bytes_.load(std::memory_order_relaxed); }
  uint64_t writtenBytes() const { return written_bytes_.load(std::memory_order_relaxed); }

  AccessLogTarget(const AccessLogTarget&) = delete;
  AccessLogTarget& operator=(const AccessLogTarget&) = delete;

 private:
  AccessLogTarget() = default;
  Status openLocked(const std::string& target);

  mutable std::mutex mu_;  // serialises open/reopen (main thread only in practice)
  std::string target_ = "off";
  std::atomic<int> fd_{-1};
  std::atomic<bool> enabled_{false};
  std::atomic<bool> is_pipe_{false};
  std::atomic<uint64_t> dropped_bytes_{0};
  std::atomic<uint64_t> written_bytes_{0};
};

}  // namespace switchyard::log
