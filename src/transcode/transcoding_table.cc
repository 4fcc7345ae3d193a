#include "transcode/transcoding_table.h"

#include <vector>

namespace switchyard::transcode {
namespace {

std::string where(const config::Config& cfg, size_t index, const config::Mark& mark) {
  return cfg.path + ":" + std::to_string(mark.line) + ":" + std::to_string(mark.col) + ": route " +
         std::to_string(index) + ": json_transcoding: ";
}

// The services a route reaches: its service, or every catalog service under its prefix.
std::vector<std::string> servicesOf(const config::RouteSpec& route,
                                    const schema::DescriptorCatalog& catalog) {
  if (!route.match.service.empty()) return {route.match.service};
  std::vector<std::string> out;
  for (const auto* svc : catalog.services()) {
    std::string path = "/" + svc->full_name() + "/";
    if (path.rfind(route.match.prefix, 0) == 0) out.push_back(svc->full_name());
  }
  return out;
}

}  // namespace

Result<TranscodingTablePtr> TranscodingTable::build(const config::Config& cfg,
                                                    schema::CatalogPtr catalog) {
  std::vector<std::string> services;
  std::map<std::string, config::JsonTranscodingSpec, std::less<>> options;
  for (size_t i = 0; i < cfg.routes.size(); ++i) {
    const config::RouteSpec& route = cfg.routes[i];
    if (!route.json_transcoding) continue;
    std::string at = where(cfg, i, route.json_transcoding->mark);
    if (catalog == nullptr) return Error{at + "no descriptor_sets are configured"};
    std::vector<std::string> mine = servicesOf(route, *catalog);
    if (mine.empty()) return Error{at + "no service in the descriptor sets matches the route"};
    // Each service alone, so a missing one or one without rules is named.
    size_t with_rules = 0;
    for (const auto& svc : mine) {
      auto one = BindingTable::build(*catalog, {svc});
      if (!one.ok()) return Error{at + one.error()};
      if (one->bindings().empty()) continue;
      ++with_rules;
      if (options.emplace(svc, *route.json_transcoding).second) services.push_back(svc);
    }
    if (with_rules == 0) {
      return Error{at + (route.match.service.empty() ? std::string("no service the route matches")
                                                     : "service " + route.match.service) +
                   " has no google.api.http rules in the descriptor sets"};
    }
  }
  if (services.empty()) return TranscodingTablePtr{};
  auto bindings = BindingTable::build(*catalog, services);
  if (!bindings.ok()) return Error{cfg.path + ": json_transcoding: " + bindings.error()};
  std::shared_ptr<TranscodingTable> table(new TranscodingTable(std::move(*bindings), catalog));
  table->options_ = std::move(options);
  return TranscodingTablePtr(std::move(table));
}

std::optional<TranscodingTable::Match> TranscodingTable::match(std::string_view http_method,
                                                               std::string_view path) const {
  auto m = bindings_.match(http_method, path);
  if (!m) return std::nullopt;
  auto it = options_.find(m->binding->method->service()->full_name());
  if (it == options_.end()) return std::nullopt;
  return Match{m->binding, std::move(m->fields), &it->second};
}

}  // namespace switchyard::transcode
