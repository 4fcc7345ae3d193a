// ReflectionCall: grpc.reflection.v1(alpha) ServerReflectionInfo served by the
// proxy on a listener with `reflection: merged`. list_services names every
// service in the descriptor sets that this request's routes reach (any of its
// methods matches a route for the request's authority and headers), plus the
// reflection services themselves; lookups go to the whole catalog.
#pragma once

#include <string>
#include <vector>

#include "proxy/local_call.h"
#include "schema/reflection_service.h"

namespace switchyard::proxy {

class ReflectionCall final : public LocalCall {
 public:
  ReflectionCall(std::string_view service, schema::CatalogPtr catalog,
                 std::vector<std::string> listed);

  std::optional<LocalAnswer> onMessage(std::string_view message,
                                       std::vector<std::string>& responses) override;
  std::string_view service() const override { return service_; }
  std::string_view method() const override { return "ServerReflectionInfo"; }

  // The services a merged listener lists for `request`, sorted.
  static std::vector<std::string> listedServices(const Runtime& runtime,
                                                 const routing::RequestView& request);

 private:
  std::string service_;
  schema::ReflectionService reflection_;
};

}  // namespace switchyard::proxy
