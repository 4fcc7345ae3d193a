// Fuzz target: :path parsing and route matching (src/grpc/method_path.*,
// src/routing/route_table.*). A parsed path is "/" service "/" method with
// both parts non-empty and inside the input; matching never crashes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/spec.h"
#include "grpc/method_path.h"
#include "routing/route_table.h"

namespace {

const switchyard::routing::RouteTable& table() {
  static const auto t = [] {
    std::vector<switchyard::config::RouteSpec> specs(4);
    specs[0].match.service = "helloworld.Greeter";
    specs[0].match.method = "SayHello";
    specs[0].cluster = "a";
    specs[1].match.service = "switchyard.test.Echo";
    specs[1].cluster = "b";
    specs[2].match.prefix = "/grpc.";
    specs[2].cluster = "c";
    specs[3].cluster = "d";
    return switchyard::routing::RouteTable::build(specs);
  }();
  return t;
}

bool inside(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view path(reinterpret_cast<const char*>(data), size);
  if (auto mp = switchyard::grpc::parseMethodPath(path)) {
    if (mp->service.empty() || mp->method.empty()) std::abort();
    if (!inside(mp->service, path) || !inside(mp->method, path)) std::abort();
    if (path.front() != '/') std::abort();
  }
  // The catch-all route matches whatever the earlier ones do not.
  if (table().match(path) == nullptr) std::abort();
  return 0;
}
