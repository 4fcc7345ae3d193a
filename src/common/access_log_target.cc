#include "common/access_log_target.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace switchyard::log {
namespace {

// A copy of fd, close-on-exec. dup() rather than fcntl(F_DUPFD_CLOEXEC):
// ThreadSanitizer does not see a descriptor made by fcntl, so the number kept
// the history of the socket another thread closed before, and closing the
// copy was reported as a race with it. The daemon never forks or execs, so
// setting FD_CLOEXEC a moment later leaks nothing.
int dupCloexec(int fd) {
  int copy = ::dup(fd);
  if (copy >= 0) ::fcntl(copy, F_SETFD, FD_CLOEXEC);
  return copy;
}

// A fresh descriptor for the target, close-on-exec.
int openTarget(const std::string& target, std::string* error) {
  int fd = -1;
  if (target == "stdout") {
    fd = dupCloexec(STDOUT_FILENO);
  } else if (target == "stderr") {
    fd = dupCloexec(STDERR_FILENO);
  } else {
    fd = ::open(target.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  }
  if (fd < 0) *error = std::strerror(errno);
  return fd;
}

bool isPipeLike(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && !S_ISREG(st.st_mode);
}

}  // namespace

AccessLogTarget& AccessLogTarget::instance() {
  static AccessLogTarget* t = new AccessLogTarget();
  return *t;
}

Status AccessLogTarget::open(const std::string& target) {
  std::lock_guard<std::mutex> g(mu_);
  return openLocked(target.empty() ? "off" : target);
}

Status AccessLogTarget::reopen() {
  std::lock_guard<std::mutex> g(mu_);
  if (target_ == "off" || target_ == "stdout" || target_ == "stderr") return {};
  return openLocked(target_);
}

Status AccessLogTarget::openLocked(const std::string& target) {
  if (target == "off") {
    enabled_.store(false, std::memory_order_release);
    target_ = target;
    return {};
  }
  std::string error;
  int fresh = openTarget(target, &error);
  if (fresh < 0) return Error{"cannot open access log \"" + target + "\": " + error};
  bool pipe = isPipeLike(fresh);
  int current = fd_.load(std::memory_order_acquire);
  if (current < 0) {
    is_pipe_.store(pipe, std::memory_order_relaxed);
    fd_.store(fresh, std::memory_order_release);
  } else {
    // Atomically make `current` refer to the new file; writers keep the number.
    if (::dup3(fresh, current, O_CLOEXEC) < 0) {
      error = std::strerror(errno);
      ::close(fresh);
      return Error{"cannot switch the access log to \"" + target + "\": " + error};
    }
    ::close(fresh);
    is_pipe_.store(pipe, std::memory_order_relaxed);
  }
  target_ = target;
  enabled_.store(true, std::memory_order_release);
  return {};
}

void AccessLogTarget::write(const char* data, size_t len) {
  int fd = fd_.load(std::memory_order_acquire);
  if (fd < 0 || len == 0) return;
  // A pipe only keeps writes of up to PIPE_BUF bytes whole when several
  // writers share it; cut batches at line ends so workers never interleave
  // inside a line. A regular file opened O_APPEND takes each write whole.
  size_t max_chunk = is_pipe_.load(std::memory_order_relaxed) ? PIPE_BUF : len;
  while (len > 0) {
    size_t chunk = len;
    if (chunk > max_chunk) {
      chunk = max_chunk;
      const void* nl = ::memrchr(data, '\n', chunk);
      if (nl != nullptr) chunk = static_cast<size_t>(static_cast<const char*>(nl) - data) + 1;
    }
    ssize_t n = ::write(fd, data, chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      dropped_bytes_.fetch_add(len, std::memory_order_relaxed);
      return;
    }
    written_bytes_.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
    data += n;
    len -= static_cast<size_t>(n);
  }
}

std::string AccessLogTarget::target() const {
  std::lock_guard<std::mutex> g(mu_);
  return target_;
}

}  // namespace switchyard::log
