// The admin endpoint's JSON views, rendered from published, immutable state:
// /clusters from a Runtime snapshot, /config from a Config. Pure functions;
// safe on the admin thread as long as the caller holds the shared_ptrs.
#pragma once

#include <cstddef>
#include <string>

#include "config/spec.h"
#include "proxy/runtime.h"

namespace switchyard::admin {

// {"generation": n, "clusters": [{"name", "lb", "healthy", "endpoints": [...]}]};
// `runtime` may be null (before the first snapshot).
std::string clustersJson(const proxy::Runtime* runtime);

// The running configuration, without key material (TLS file paths only).
std::string configJson(const config::Config& config, size_t workers);

}  // namespace switchyard::admin
