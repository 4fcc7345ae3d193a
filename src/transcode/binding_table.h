// BindingTable: the HTTP bindings of JSON transcoding, read from the
// google.api.http annotations in the descriptor sets: one entry per rule and
// additional binding (GET/POST/PUT/PATCH/DELETE and custom verbs, a path
// template, the body field, the response body field), checked against the
// method's message types when built. Matching an HTTP method and path yields
// the gRPC method and the fields the path sets. Immutable once built.
#pragma once

#include <google/protobuf/descriptor.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "schema/descriptor_catalog.h"
#include "transcode/path_template.h"

namespace switchyard::transcode {

struct HttpBinding {
  std::string http_method;    // "GET", "POST", ... (custom kinds as written)
  PathTemplate path;
  std::string body;           // "": no body; "*": the whole request message; else a field
  std::string response_body;  // "": the whole response message; else a field
  const google::protobuf::MethodDescriptor* method = nullptr;
  std::string grpc_path;      // "/pkg.Service/Method"
};

class BindingTable {
 public:
  // Bindings of every method of `services` (full names) that has a
  // google.api.http rule. Errors name the method and what is wrong.
  static Result<BindingTable> build(const schema::DescriptorCatalog& catalog,
                                    const std::vector<std::string>& services);

  struct Match {
    const HttpBinding* binding = nullptr;
    PathBindings fields;  // set from the path
  };
  // The first binding (in service, method, rule order) for this method and path.
  std::optional<Match> match(std::string_view http_method, std::string_view path) const;
  // Whether some binding's path matches with another HTTP method (for 405).
  bool pathMatchesOtherMethod(std::string_view http_method, std::string_view path) const;

  const std::vector<HttpBinding>& bindings() const { return bindings_; }

 private:
  std::vector<HttpBinding> bindings_;
};

}  // namespace switchyard::transcode
