// DescriptorCatalog: the protobuf schemas the proxy knows, built from the
// descriptor sets in the configuration (protoc --include_imports
// --descriptor_set_out). One immutable DescriptorPool holding every file of
// every set; merged reflection and JSON transcoding read it. Built on the main
// thread (startup, --check-config, SIGHUP reload) and shared by the workers
// through the Runtime snapshot; never changed after it is built.
//
// src/schema/ is the daemon's only user of libprotobuf: it sits above grpc/
// and below proxy/.
#pragma once

#include <google/protobuf/descriptor.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "config/spec.h"

namespace switchyard::schema {

// One descriptor set's bytes and where it was named, for error messages.
struct DescriptorSetInput {
  std::string path;    // the file it came from
  std::string origin;  // "config.yaml:12:5" (where the configuration names it); may be empty
  std::string bytes;   // a serialized google.protobuf.FileDescriptorSet
};

class DescriptorCatalog {
 public:
  // Parses and links the sets. A file named in several sets must have the
  // same contents in each; every import must be in some set. Errors name the
  // descriptor set file (and where the configuration names it).
  static Result<std::shared_ptr<const DescriptorCatalog>> build(
      const std::vector<DescriptorSetInput>& sets);

  const google::protobuf::DescriptorPool& pool() const { return *pool_; }
  // Every service in the sets, sorted by full name.
  const std::vector<const google::protobuf::ServiceDescriptor*>& services() const {
    return services_;
  }
  // A file as its descriptor set holds it (a serialized FileDescriptorProto),
  // or null when no set has a file of that name.
  const std::string* fileBytes(std::string_view name) const;
  size_t fileCount() const { return files_.size(); }

 private:
  DescriptorCatalog() = default;

  std::unique_ptr<google::protobuf::DescriptorPool> pool_;
  std::map<std::string, std::string, std::less<>> files_;  // name -> FileDescriptorProto bytes
  std::vector<const google::protobuf::ServiceDescriptor*> services_;
};

using CatalogPtr = std::shared_ptr<const DescriptorCatalog>;

// Reads every descriptor set the configuration names (top level and per
// cluster) and builds one catalog; null when none are configured. Errors read
// "file:line:col: descriptor set PATH: what is wrong".
Result<CatalogPtr> loadCatalog(const config::Config& cfg);

}  // namespace switchyard::schema
