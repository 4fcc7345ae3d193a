// TranscodingTable: what JSON transcoding needs on the request path, built
// once per configuration from the routes with `json_transcoding` and the
// descriptor sets: the HTTP bindings of the routes' services (BindingTable),
// each service's options (the route's json_transcoding block), and the JSON
// codec over the catalog. Built on the main thread (startup, --check-config,
// SIGHUP reload) and shared read-only by the workers through the Runtime.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "config/spec.h"
#include "schema/descriptor_catalog.h"
#include "transcode/binding_table.h"
#include "transcode/json_codec.h"

namespace switchyard::transcode {

class TranscodingTable {
 public:
  // Null when no route has json_transcoding. Errors read
  // "file:line:col: route N: json_transcoding: what is wrong" (a service
  // missing from the descriptor sets, one without google.api.http rules, a
  // rule that does not parse or names a field the message lacks).
  static Result<std::shared_ptr<const TranscodingTable>> build(const config::Config& cfg,
                                                               schema::CatalogPtr catalog);

  struct Match {
    const HttpBinding* binding = nullptr;
    PathBindings fields;
    const config::JsonTranscodingSpec* options = nullptr;
  };
  std::optional<Match> match(std::string_view http_method, std::string_view path) const;
  bool pathMatchesOtherMethod(std::string_view http_method, std::string_view path) const {
    return bindings_.pathMatchesOtherMethod(http_method, path);
  }
  const JsonCodec& codec() const { return codec_; }
  const BindingTable& bindings() const { return bindings_; }

 private:
  TranscodingTable(BindingTable bindings, schema::CatalogPtr catalog)
      : bindings_(std::move(bindings)), codec_(std::move(catalog)) {
    for (const auto& b : bindings_.bindings()) codec_.prepare(b);
  }

  BindingTable bindings_;
  JsonCodec codec_;
  // service full name -> the first transcoding route's options (copied)
  std::map<std::string, config::JsonTranscodingSpec, std::less<>> options_;
};

using TranscodingTablePtr = std::shared_ptr<const TranscodingTable>;

}  // namespace switchyard::transcode
