// Reading a route's `json_transcoding:` key:
//   json_transcoding: true
//   json_transcoding: { unknown_fields: reject, stream_format: array,
//                       max_request_body_bytes: 1MiB, max_response_body_bytes: 4MiB }
// Internal to the config layer; called from the loader's route reader. Whether
// the route's service and its google.api.http rules exist is checked against
// the descriptor sets later (transcode::TranscodingTable, prepareConfig).
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>

#include "config/spec.h"
#include "config/yaml_reader.h"

namespace switchyard::config::detail {

inline constexpr uint64_t kMaxTranscodingBodyBytes = 1ULL << 30;

// nullopt for `false` (or when the value is unusable; the problem is reported).
std::optional<JsonTranscodingSpec> readJsonTranscoding(Reader& r, const YAML::Node& n);

}  // namespace switchyard::config::detail
