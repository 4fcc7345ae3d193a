// Reading a route's `rate_limit:` block:
//   rate_limit: { rps: 100, burst: 200, key: client_ip, max_keys: 10000 }
// Internal to the config layer; called from the loader's route reader.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>

#include "config/spec.h"
#include "config/yaml_reader.h"

namespace switchyard::config::detail {

inline constexpr double kMaxRateLimitRps = 10'000'000;
inline constexpr uint32_t kMaxRateLimitBurst = 10'000'000;
inline constexpr uint32_t kMaxRateLimitKeys = 1'000'000;

// nullopt (with the problem reported) when the block is unusable.
std::optional<RateLimitSpec> readRateLimit(Reader& r, const YAML::Node& n);

}  // namespace switchyard::config::detail
