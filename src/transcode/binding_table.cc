#include "transcode/binding_table.h"

#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/io/coded_stream.h>

#include <memory>

namespace switchyard::transcode {
namespace {

namespace pb = google::protobuf;

constexpr const char* kHttpExtension = "google.api.http";

std::string str(const pb::Message& m, const char* field) {
  const pb::FieldDescriptor* f = m.GetDescriptor()->FindFieldByName(field);
  if (f == nullptr || f->cpp_type() != pb::FieldDescriptor::CPPTYPE_STRING) return {};
  return m.GetReflection()->GetString(m, f);
}

// The message a dotted field path ends in; null (and *why) when a step is
// not a field, or an inner step is not a singular message.
const pb::FieldDescriptor* resolveField(const pb::Descriptor* type, const std::string& path,
                                        std::string* why) {
  const pb::FieldDescriptor* field = nullptr;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string name = path.substr(start, dot == std::string::npos ? dot : dot - start);
    if (field != nullptr) {
      if (field->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE || field->is_repeated()) {
        *why = "\"" + field->name() + "\" is not a message field";
        return nullptr;
      }
      type = field->message_type();
    }
    field = type->FindFieldByName(name);
    if (field == nullptr) {
      *why = type->full_name() + " has no field \"" + name + "\"";
      return nullptr;
    }
    if (dot == std::string::npos) return field;
    start = dot + 1;
  }
}

class Builder {
 public:
  explicit Builder(const pb::DescriptorPool& pool) : pool_(pool) {
    factory_.SetDelegateToGeneratedFactory(false);
  }

  // The method's HttpRule, as a dynamic message of the catalog's own
  // google.api.HttpRule; null when the method has none.
  std::unique_ptr<pb::Message> ruleOf(const pb::MethodDescriptor* m) {
    const pb::Descriptor* opts_type = pool_.FindMessageTypeByName("google.protobuf.MethodOptions");
    const pb::FieldDescriptor* ext = pool_.FindExtensionByName(kHttpExtension);
    if (opts_type == nullptr || ext == nullptr) return nullptr;  // no set imports annotations.proto
    std::string bytes = m->options().SerializeAsString();
    std::unique_ptr<pb::Message> opts(factory_.GetPrototype(opts_type)->New());
    pb::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                static_cast<int>(bytes.size()));
    in.SetExtensionRegistry(&pool_, &factory_);
    if (!opts->MergePartialFromCodedStream(&in)) return nullptr;
    if (!opts->GetReflection()->HasField(*opts, ext)) return nullptr;
    std::unique_ptr<pb::Message> rule(opts->GetReflection()->GetMessage(*opts, ext).New());
    rule->CopyFrom(opts->GetReflection()->GetMessage(*opts, ext));
    return rule;
  }

  Status add(const pb::MethodDescriptor* m, const pb::Message& rule, std::vector<HttpBinding>& out,
             bool nested) {
    std::string where = m->full_name() + ": google.api.http: ";
    HttpBinding b;
    b.method = m;
    b.grpc_path = "/" + m->service()->full_name() + "/" + m->name();
    std::string path;
    for (const char* verb : {"get", "put", "post", "delete", "patch"}) {
      std::string p = str(rule, verb);
      if (p.empty()) continue;
      b.http_method = verb;
      for (char& c : b.http_method) c = static_cast<char>(c - 'a' + 'A');
      path = p;
    }
    const pb::FieldDescriptor* custom = rule.GetDescriptor()->FindFieldByName("custom");
    if (custom != nullptr && rule.GetReflection()->HasField(rule, custom)) {
      const pb::Message& c = rule.GetReflection()->GetMessage(rule, custom);
      b.http_method = str(c, "kind");
      path = str(c, "path");
    }
    if (b.http_method.empty() || path.empty()) return Error{where + "the rule names no method and path"};
    auto parsed = PathTemplate::parse(path);
    if (!parsed.ok()) return Error{where + parsed.error()};
    b.path = *parsed;
    std::string why;
    for (const auto& var : b.path.variables()) {
      const pb::FieldDescriptor* f = resolveField(m->input_type(), var, &why);
      if (f == nullptr) return Error{where + "path variable {" + var + "}: " + why};
      if (f->is_repeated() || f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
        return Error{where + "path variable {" + var + "} must name a singular scalar field"};
      }
    }
    b.body = str(rule, "body");
    if (!b.body.empty() && b.body != "*") {
      if (resolveField(m->input_type(), b.body, &why) == nullptr) {
        return Error{where + "body \"" + b.body + "\": " + why};
      }
    }
    b.response_body = str(rule, "response_body");
    if (!b.response_body.empty() && resolveField(m->output_type(), b.response_body, &why) == nullptr) {
      return Error{where + "response_body \"" + b.response_body + "\": " + why};
    }
    out.push_back(std::move(b));
    const pb::FieldDescriptor* more = rule.GetDescriptor()->FindFieldByName("additional_bindings");
    if (more != nullptr) {
      int n = rule.GetReflection()->FieldSize(rule, more);
      if (n > 0 && nested) return Error{where + "additional_bindings may not nest"};
      for (int i = 0; i < n; ++i) {
        if (Status st = add(m, rule.GetReflection()->GetRepeatedMessage(rule, more, i), out, true);
            !st.ok()) {
          return st;
        }
      }
    }
    return {};
  }

 private:
  const pb::DescriptorPool& pool_;
  pb::DynamicMessageFactory factory_;
};

}  // namespace

Result<BindingTable> BindingTable::build(const schema::DescriptorCatalog& catalog,
                                         const std::vector<std::string>& services) {
  BindingTable table;
  Builder builder(catalog.pool());
  for (const auto& name : services) {
    const pb::ServiceDescriptor* svc = catalog.pool().FindServiceByName(name);
    if (svc == nullptr) return Error{"service " + name + " is in no descriptor set"};
    for (int i = 0; i < svc->method_count(); ++i) {
      const pb::MethodDescriptor* m = svc->method(i);
      if (m->client_streaming()) continue;  // HTTP/JSON carries one request message
      auto rule = builder.ruleOf(m);
      if (rule == nullptr) continue;
      if (Status st = builder.add(m, *rule, table.bindings_, false); !st.ok()) {
        return Error{st.error()};
      }
    }
  }
  return table;
}

std::optional<BindingTable::Match> BindingTable::match(std::string_view http_method,
                                                       std::string_view path) const {
  for (const auto& b : bindings_) {
    if (b.http_method != http_method) continue;
    if (auto fields = b.path.match(path)) return Match{&b, std::move(*fields)};
  }
  return std::nullopt;
}

bool BindingTable::pathMatchesOtherMethod(std::string_view http_method, std::string_view path) const {
  for (const auto& b : bindings_) {
    if (b.http_method != http_method && b.path.match(path)) return true;
  }
  return false;
}

}  // namespace switchyard::transcode
