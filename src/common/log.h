// Logger names used across the daemon. The "main" logger carries operational
// messages; "access" carries one line per RPC and may be routed to a file.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace switchyard::log {

// Sets up the process loggers (stderr for "main"; stdout, a file or nothing for
// "access"). Safe to call again on reload to change the level.
void init(const std::string& level, const std::string& access_log_target);

// Sets the level of the operational logger from a name (trace, debug, info,
// warn, error, critical, off). Returns false for an unknown name.
bool setLevel(const std::string& level);

spdlog::logger& main();
// May be null when access logging is off.
spdlog::logger* access();

}  // namespace switchyard::log
