// ReflectionService: grpc.reflection.v1 and v1alpha ServerReflectionInfo,
// answered from a DescriptorCatalog: one ServerReflectionResponse for each
// ServerReflectionRequest. Pure (bytes in, bytes out); the proxy's
// ReflectionCall carries it over a gRPC stream.
//
// Lookups behave as gRPC's own reflection service does: files come with all
// their imports (the requested file first), an unknown name is an
// error_response with NOT_FOUND, and the reflection service describes itself.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schema/descriptor_catalog.h"

namespace switchyard::schema {

// The two service names a merged listener answers.
inline constexpr std::string_view kReflectionV1 = "grpc.reflection.v1.ServerReflection";
inline constexpr std::string_view kReflectionV1Alpha = "grpc.reflection.v1alpha.ServerReflection";

// Whether `path` ("/pkg.Service/Method") is a reflection call.
bool isReflectionPath(std::string_view path);

class ReflectionService {
 public:
  // `catalog` may be null (nothing but the reflection service is known);
  // `listed` are the service names list_services returns, in order.
  ReflectionService(CatalogPtr catalog, std::vector<std::string> listed);

  // The serialized response to one serialized request; nullopt when the
  // request is not a ServerReflectionRequest at all.
  std::optional<std::string> answer(std::string_view request) const;

 private:
  CatalogPtr catalog_;
  std::vector<std::string> listed_;
};

}  // namespace switchyard::schema
