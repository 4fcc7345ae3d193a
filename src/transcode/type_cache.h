// TypeCache: the google.protobuf.Type (and Enum) form of the message types
// JSON transcoding converts, made once per descriptor pool snapshot, for
// libprotobuf's JSON converters (JsonToBinaryString / BinaryToJsonString).
// Those converters resolve every type they meet through a TypeResolver on
// each call; the pool's own resolver builds each Type anew from its
// descriptor every time, this one copies a ready one. Types it was not told
// about (e.g. behind google.protobuf.Any) still resolve through the pool.
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/type.pb.h>
#include <google/protobuf/util/type_resolver.h>

#include <memory>
#include <string>
#include <unordered_map>

namespace switchyard::transcode {

class TypeCache final : public google::protobuf::util::TypeResolver {
 public:
  static constexpr const char* kUrlPrefix = "type.googleapis.com";

  explicit TypeCache(const google::protobuf::DescriptorPool& pool);

  // "type.googleapis.com/<full name>"
  static std::string urlOf(const google::protobuf::Descriptor* type);

  // Converts `type` and every message and enum type its fields reach. Not
  // thread-safe: call before the cache is shared (resolving is).
  void add(const google::protobuf::Descriptor* type);

  google::protobuf::util::Status ResolveMessageType(const std::string& type_url,
                                                    google::protobuf::Type* message_type) override;
  google::protobuf::util::Status ResolveEnumType(const std::string& type_url,
                                                 google::protobuf::Enum* enum_type) override;

 private:
  void addEnum(const google::protobuf::EnumDescriptor* type);

  std::unique_ptr<google::protobuf::util::TypeResolver> pool_;
  std::unordered_map<std::string, google::protobuf::Type> messages_;
  std::unordered_map<std::string, google::protobuf::Enum> enums_;
};

}  // namespace switchyard::transcode
