#include "proxy/reflection_call.h"

#include <algorithm>

#include "proxy/downstream_side.h"

namespace switchyard::proxy {

ReflectionCall::ReflectionCall(std::string_view service, schema::CatalogPtr catalog,
                               std::vector<std::string> listed)
    : service_(service), reflection_(std::move(catalog), std::move(listed)) {}

std::optional<LocalAnswer> ReflectionCall::onMessage(std::string_view message,
                                                     std::vector<std::string>& responses) {
  auto answer = reflection_.answer(message);
  if (!answer) {
    return LocalAnswer{grpc::StatusCode::InvalidArgument,
                       "malformed ServerReflectionRequest message", {}};
  }
  responses.push_back(std::move(*answer));
  return std::nullopt;
}

std::vector<std::string> ReflectionCall::listedServices(const Runtime& runtime,
                                                        const routing::RequestView& request) {
  std::vector<std::string> out{std::string(schema::kReflectionV1),
                               std::string(schema::kReflectionV1Alpha)};
  if (runtime.schema != nullptr && runtime.routes != nullptr) {
    std::string path;
    for (const auto* svc : runtime.schema->services()) {
      if (svc->full_name() == schema::kReflectionV1 ||
          svc->full_name() == schema::kReflectionV1Alpha) {
        continue;
      }
      for (int m = 0; m < svc->method_count(); ++m) {
        path = "/" + svc->full_name() + "/" + svc->method(m)->name();
        if (runtime.routes->match(path, request) != nullptr) {
          out.push_back(svc->full_name());
          break;
        }
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace switchyard::proxy
