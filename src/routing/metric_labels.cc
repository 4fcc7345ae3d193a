#include "routing/metric_labels.h"

#include <algorithm>

#include "grpc/method_path.h"

namespace switchyard::routing {

MetricLabels metricLabels(const Route& route, std::string_view path) {
  if (!route.method.empty()) return {route.service, route.method};
  if (!route.stats_methods.empty() && path.size() > 1) {
    std::string_view full = path.substr(1);  // "pkg.Service/Method"
    bool listed = std::binary_search(route.stats_methods.begin(), route.stats_methods.end(), full,
                                     [](std::string_view a, std::string_view b) { return a < b; });
    if (listed) {
      if (auto parsed = grpc::parseMethodPath(path)) return {parsed->service, parsed->method};
    }
  }
  std::string_view service = route.service.empty() ? std::string_view(route.name)
                                                    : std::string_view(route.service);
  return {service, kOtherMethod};
}

}  // namespace switchyard::routing
