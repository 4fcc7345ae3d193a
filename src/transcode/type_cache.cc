#include "transcode/type_cache.h"

#include <google/protobuf/util/type_resolver_util.h>

#include <vector>

namespace switchyard::transcode {
namespace {

namespace pb = google::protobuf;

std::string urlFor(const std::string& full_name) {
  std::string url = TypeCache::kUrlPrefix;
  url += '/';
  url += full_name;
  return url;
}

}  // namespace

TypeCache::TypeCache(const pb::DescriptorPool& pool)
    : pool_(pb::util::NewTypeResolverForDescriptorPool(kUrlPrefix, &pool)) {}

std::string TypeCache::urlOf(const pb::Descriptor* type) { return urlFor(type->full_name()); }

void TypeCache::add(const pb::Descriptor* type) {
  std::vector<const pb::Descriptor*> todo{type};
  while (!todo.empty()) {
    const pb::Descriptor* t = todo.back();
    todo.pop_back();
    std::string url = urlOf(t);
    if (messages_.count(url) != 0) continue;
    pb::Type converted;
    if (!pool_->ResolveMessageType(url, &converted).ok()) continue;  // left to the pool
    messages_.emplace(std::move(url), std::move(converted));
    for (int i = 0; i < t->field_count(); ++i) {
      const pb::FieldDescriptor* f = t->field(i);
      if (f->message_type() != nullptr) todo.push_back(f->message_type());
      if (f->enum_type() != nullptr) addEnum(f->enum_type());
    }
  }
}

void TypeCache::addEnum(const pb::EnumDescriptor* type) {
  std::string url = urlFor(type->full_name());
  if (enums_.count(url) != 0) return;
  pb::Enum converted;
  if (pool_->ResolveEnumType(url, &converted).ok()) enums_.emplace(std::move(url), std::move(converted));
}

pb::util::Status TypeCache::ResolveMessageType(const std::string& type_url, pb::Type* message_type) {
  auto it = messages_.find(type_url);
  if (it == messages_.end()) return pool_->ResolveMessageType(type_url, message_type);
  *message_type = it->second;
  return pb::util::Status();
}

pb::util::Status TypeCache::ResolveEnumType(const std::string& type_url, pb::Enum* enum_type) {
  auto it = enums_.find(type_url);
  if (it == enums_.end()) return pool_->ResolveEnumType(type_url, enum_type);
  *enum_type = it->second;
  return pb::util::Status();
}

}  // namespace switchyard::transcode
