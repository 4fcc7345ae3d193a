// The operational ("main") logger, written to stderr through spdlog, and the
// entry points that set up and reopen the access log (whose lines do not go
// through spdlog: see common/access_log_target.h and proxy/access_log_buffer.h).
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace switchyard::log {

// Sets up the process loggers (stderr for "main"; stdout, stderr, a file or
// nothing for the access log). Safe to call again on reload: the level is
// applied, and the access log is pointed at the target (a file is opened anew,
// so a renamed file is replaced). If the target cannot be opened the error is
// logged and the previous access log stays; returns false then.
bool init(const std::string& level, const std::string& access_log_target);

// Reopens a file access log (SIGUSR1, after logrotate renamed it). Returns
// false, after logging why, if the file cannot be opened.
bool reopen();

// Sets the level of the operational logger from a name (trace, debug, info,
// warn, error, critical, off). Returns false for an unknown name.
bool setLevel(const std::string& level);

spdlog::logger& main();

}  // namespace switchyard::log
