// Loading and validating the YAML file. Every problem is reported as
// "file:line:col: what is wrong"; all problems are collected, not just the first.
// The same function serves --check-config, startup and SIGHUP reload.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/spec.h"

namespace switchyard::config {

struct LoadResult {
  std::optional<Config> config;     // set when there were no errors
  std::vector<std::string> errors;  // "file:line:col: message"
};

// Reads, parses and validates the file at `path` (including that TLS cert and
// key files are readable). Never throws.
// Relative file paths in the config (tls.cert, tls.key, a file access_log) are
// resolved against the directory of `path`; the spec holds the absolute paths.
// A file that cannot be read gives the single error "path: cannot read: <why>".
LoadResult loadFile(const std::string& path);

// Same, for YAML text already in memory; `name` is used in messages and as
// Config::path. Relative file paths resolve against the directory of `name`
// (the current directory when `name` has none).
LoadResult loadString(const std::string& yaml, const std::string& name);

// True for the level names logging.level and --log-level accept.
bool isLogLevel(const std::string& name);

}  // namespace switchyard::config
