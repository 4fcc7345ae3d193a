#include "config/transcoding_reader.h"

namespace switchyard::config::detail {
namespace {

std::string quote(const std::string& s) { return "\"" + s + "\""; }

void readUnknownFields(Reader& r, const YAML::Node& n, JsonTranscodingSpec& spec) {
  auto s = r.nonEmptyStr(n, "json_transcoding.unknown_fields");
  if (!s) return;
  if (*s == "reject") {
    spec.unknown_fields = JsonTranscodingSpec::UnknownFields::Reject;
  } else if (*s == "ignore") {
    spec.unknown_fields = JsonTranscodingSpec::UnknownFields::Ignore;
  } else {
    r.error(n, "unknown json_transcoding.unknown_fields " + quote(*s) + ": expected reject or ignore");
  }
}

void readStreamFormat(Reader& r, const YAML::Node& n, JsonTranscodingSpec& spec) {
  auto s = r.nonEmptyStr(n, "json_transcoding.stream_format");
  if (!s) return;
  if (*s == "array") {
    spec.stream_format = JsonTranscodingSpec::StreamFormat::Array;
  } else if (*s == "ndjson") {
    spec.stream_format = JsonTranscodingSpec::StreamFormat::Ndjson;
  } else {
    r.error(n, "unknown json_transcoding.stream_format " + quote(*s) + ": expected array or ndjson");
  }
}

}  // namespace

std::optional<JsonTranscodingSpec> readJsonTranscoding(Reader& r, const YAML::Node& n) {
  JsonTranscodingSpec spec;
  spec.mark = markOf(n);
  if (!n.IsMap()) {
    auto on = r.boolean(n, "json_transcoding");
    if (!on || !*on) return std::nullopt;
    return spec;
  }
  Fields f(r, n, "json_transcoding",
           {"unknown_fields", "stream_format", "max_request_body_bytes", "max_response_body_bytes"});
  if (const YAML::Node* v = f.find("unknown_fields")) readUnknownFields(r, *v, spec);
  if (const YAML::Node* v = f.find("stream_format")) readStreamFormat(r, *v, spec);
  if (const YAML::Node* v = f.find("max_request_body_bytes")) {
    if (auto s = r.size(*v, "json_transcoding.max_request_body_bytes", 1, kMaxTranscodingBodyBytes)) {
      spec.max_request_body_bytes = *s;
    }
  }
  if (const YAML::Node* v = f.find("max_response_body_bytes")) {
    if (auto s = r.size(*v, "json_transcoding.max_response_body_bytes", 1, kMaxTranscodingBodyBytes)) {
      spec.max_response_body_bytes = *s;
    }
  }
  return spec;
}

}  // namespace switchyard::config::detail
