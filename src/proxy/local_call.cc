#include "proxy/local_call.h"

#include "proxy/downstream_side.h"
#include "proxy/reflection_call.h"

namespace switchyard::proxy {

std::unique_ptr<LocalCall> openLocalCall(std::string_view path, const ListenerInfo& listener,
                                         const Runtime& runtime,
                                         const routing::RequestView& request) {
  if (!listener.merged_reflection || !schema::isReflectionPath(path)) return nullptr;
  std::string_view service = path.substr(1, path.rfind('/') - 1);
  return std::make_unique<ReflectionCall>(service, runtime.schema,
                                          ReflectionCall::listedServices(runtime, request));
}

}  // namespace switchyard::proxy
