#include "transcode/json_codec.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/wire_format_lite.h>

#include "common/json.h"
#include "transcode/path_template.h"

namespace switchyard::transcode {
namespace {

namespace pb = google::protobuf;

// {"a":{"b":<value>}} for the field path "a.b": the one-field JSON object
// that libprotobuf's parser turns into the typed field (numbers, booleans
// and enums are accepted as strings by the proto3 JSON mapping).
std::string nestedJson(std::string_view field_path, const std::string& value_json) {
  std::string open;
  std::string close;
  size_t start = 0;
  while (true) {
    size_t dot = field_path.find('.', start);
    std::string_view name = field_path.substr(start, dot == std::string_view::npos ? dot : dot - start);
    open += '{';  // appended piecewise: `"{" + ...` trips GCC 12's false -Wrestrict at -O3
    open += jsonQuote(name);
    open += ':';
    close += "}";
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  open += value_json;
  open += close;
  return open;
}

// Whether the last field of `path` is repeated (a query value is then a one-element list).
bool repeatedLeaf(const pb::Descriptor* type, std::string_view path) {
  const pb::FieldDescriptor* f = nullptr;
  size_t start = 0;
  while (type != nullptr) {
    size_t dot = path.find('.', start);
    std::string name(path.substr(start, dot == std::string_view::npos ? dot : dot - start));
    f = type->FindFieldByName(name);
    for (int i = 0; f == nullptr && i < type->field_count(); ++i) {
      if (type->field(i)->json_name() == name) f = type->field(i);
    }
    if (f == nullptr) return false;
    if (dot == std::string_view::npos) return f->is_repeated();
    type = f->message_type();
    start = dot + 1;
  }
  return false;
}

std::string queryDecode(std::string_view s) {
  std::string plus;
  for (char c : s) plus.push_back(c == '+' ? ' ' : c);
  auto d = percentDecode(plus, false);
  return d ? *d : plus;
}

// Whether `bytes` parse as a sequence of protobuf fields (the JSON printer
// does not check: it skips what it cannot read).
bool wellFormed(const std::string& bytes) {
  pb::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                              static_cast<int>(bytes.size()));
  return pb::internal::WireFormatLite::SkipMessage(&in) && in.ConsumedEntireMessage();
}

}  // namespace

JsonCodec::JsonCodec(schema::CatalogPtr catalog)
    : catalog_(std::move(catalog)), types_(catalog_->pool()) {
  factory_.SetDelegateToGeneratedFactory(false);
}

void JsonCodec::prepare(const HttpBinding& binding) {
  for (const pb::Descriptor* type : {binding.method->input_type(), binding.method->output_type()}) {
    types_.add(type);
    prepared_.emplace(type, Prepared{factory_.GetPrototype(type), TypeCache::urlOf(type)});
  }
}

std::unique_ptr<pb::Message> JsonCodec::newMessage(const pb::Descriptor* type) const {
  // A prepared prototype needs no lock; nested message types were linked to
  // it when it was made.
  auto it = prepared_.find(type);
  const pb::Message* prototype = it != prepared_.end() ? it->second.prototype : factory_.GetPrototype(type);
  return std::unique_ptr<pb::Message>(prototype->New());
}

std::string JsonCodec::urlOf(const pb::Descriptor* type) const {
  auto it = prepared_.find(type);
  return it != prepared_.end() ? it->second.url : TypeCache::urlOf(type);
}

Status JsonCodec::appendJson(const std::string& json, const std::string& url, std::string* binary,
                             UnknownFields unknown, const std::string& what) const {
  pb::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = unknown == UnknownFields::Ignore;
  std::string part;
  auto st = pb::util::JsonToBinaryString(&types_, url, json, &part, opts);
  if (!st.ok()) return Error{what + ": " + std::string(st.message())};
  // Concatenated wire forms parse as the merge of the messages: later
  // singular fields win, repeated ones append.
  binary->append(part);
  return {};
}

Result<std::string> JsonCodec::printJson(const std::string& binary, const std::string& url,
                                         const pb::util::JsonPrintOptions& opts) const {
  std::string out;
  auto st = pb::util::BinaryToJsonString(&types_, url, binary, &out, opts);
  if (!st.ok()) return Error{std::string(st.message())};
  return out;
}

Result<std::string> JsonCodec::requestMessage(const HttpBinding& binding,
                                              const PathBindings& path_fields,
                                              std::string_view query, std::string_view body,
                                              UnknownFields unknown) const {
  const pb::Descriptor* type = binding.method->input_type();
  std::string url = urlOf(type);
  std::string binary;
  if (!binding.body.empty()) {
    std::string text(body);
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) text = binding.body == "*" ? "{}" : "null";
    std::string json = binding.body == "*" ? text : nestedJson(binding.body, text);
    if (Status st = appendJson(json, url, &binary, unknown, "request body"); !st.ok()) {
      return Error{st.error()};
    }
  } else if (body.find_first_not_of(" \t\r\n") != std::string_view::npos) {
    return Error{"request body: this method takes no body (" + binding.http_method + " " +
                 binding.path.text() + ")"};
  }
  for (const auto& [field, value] : path_fields) {
    if (Status st = appendJson(nestedJson(field, jsonQuote(value)), url, &binary, UnknownFields::Reject,
                               "path field " + field);
        !st.ok()) {
      return Error{st.error()};
    }
  }
  size_t start = 0;
  while (start < query.size()) {
    size_t amp = query.find('&', start);
    std::string_view pair = query.substr(start, amp == std::string_view::npos ? amp : amp - start);
    start = amp == std::string_view::npos ? query.size() : amp + 1;
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string key = queryDecode(pair.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : queryDecode(pair.substr(eq + 1));
    std::string value_json = jsonQuote(value);
    if (repeatedLeaf(type, key)) value_json = "[" + value_json + "]";
    if (Status st = appendJson(nestedJson(key, value_json), url, &binary, unknown, "query parameter " + key);
        !st.ok()) {
      return Error{st.error()};
    }
  }
  return binary;
}

Result<std::string> JsonCodec::responseJson(const HttpBinding& binding, const std::string& message) const {
  const pb::Descriptor* type = binding.method->output_type();
  if (!wellFormed(message)) return Error{"the backend's response is not a valid " + type->full_name()};
  pb::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = false;
  std::string url = urlOf(type);
  if (binding.response_body.empty()) return printJson(message, url, opts);
  auto msg = newMessage(type);
  if (!msg->ParseFromString(message)) {
    return Error{"the backend's response is not a valid " + type->full_name()};
  }
  // Only the response_body field, printed as a one-field object, then the
  // value taken out of it: {"<jsonName>":VALUE} -> VALUE.
  const pb::FieldDescriptor* field = type->FindFieldByName(binding.response_body);
  if (field == nullptr) return Error{type->full_name() + " has no field " + binding.response_body};
  auto only = newMessage(type);
  only->CopyFrom(*msg);
  std::vector<const pb::FieldDescriptor*> set;
  only->GetReflection()->ListFields(*only, &set);
  for (const auto* f : set) {
    if (f != field) only->GetReflection()->ClearField(only.get(), f);
  }
  std::string only_binary = only->SerializeAsString();
  auto printed = printJson(only_binary, url, opts);
  if (!printed.ok()) return Error{printed.error()};
  std::string out = std::move(*printed);
  if (out == "{}") {
    // The field is unset: its default value.
    if (field->is_repeated()) return std::string(field->is_map() ? "{}" : "[]");
    if (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) return std::string("{}");
    opts.always_print_primitive_fields = true;  // a scalar: nothing nested gets printed too
    printed = printJson(only_binary, url, opts);
    if (!printed.ok()) return Error{printed.error()};
    out = std::move(*printed);
  }
  std::string prefix(1, '{');  // appended piecewise, as in nestedJson
  prefix += jsonQuote(field->json_name());
  prefix += ':';
  size_t at = out.find(prefix);
  if (at != 0 || out.back() != '}') return Error{"cannot extract " + binding.response_body};
  return out.substr(prefix.size(), out.size() - prefix.size() - 1);
}

int httpStatusFor(grpc::StatusCode code) {
  using C = grpc::StatusCode;
  switch (code) {
    case C::Ok: return 200;
    case C::Cancelled: return 499;
    case C::Unknown: return 500;
    case C::InvalidArgument: return 400;
    case C::DeadlineExceeded: return 504;
    case C::NotFound: return 404;
    case C::AlreadyExists: return 409;
    case C::PermissionDenied: return 403;
    case C::ResourceExhausted: return 429;
    case C::FailedPrecondition: return 400;
    case C::Aborted: return 409;
    case C::OutOfRange: return 400;
    case C::Unimplemented: return 501;
    case C::Internal: return 500;
    case C::Unavailable: return 503;
    case C::DataLoss: return 500;
    case C::Unauthenticated: return 401;
  }
  return 500;
}

std::string errorJson(grpc::StatusCode code, std::string_view message) {
  // Written in google.rpc.Status order (code, message, details): a Struct's
  // map would print its keys in an arbitrary order.
  std::string out = "{\"code\":";
  out += std::to_string(static_cast<int>(code));
  out += ",\"message\":";
  out += jsonQuote(message);
  out += ",\"details\":[]}";
  return out;
}

std::string JsonStreamWriter::message(std::string_view json) {
  std::string out;
  out.reserve(json.size() + 1);
  if (format_ == Format::Array) {
    out += first_ ? '[' : ',';
    out += json;
  } else {
    out += json;
    out += '\n';
  }
  first_ = false;
  return out;
}

std::string JsonStreamWriter::end() const {
  if (format_ == Format::Ndjson) return std::string();
  return first_ ? "[]" : "]";
}

std::string JsonStreamWriter::error(std::string_view error_json) const {
  std::string element = "{\"error\":";
  element += error_json;
  element += '}';
  if (format_ == Format::Ndjson) return element + '\n';
  std::string out(1, first_ ? '[' : ',');
  out += element;
  out += ']';
  return out;
}

}  // namespace switchyard::transcode
