#include "proxy/protocol_adapter.h"

namespace switchyard::proxy {
namespace {

class NativeProtocol final : public ProtocolAdapter {
 public:
  std::string_view name() const override { return "grpc"; }
};

}  // namespace

ProtocolAdapter& nativeProtocol() {
  static NativeProtocol native;
  return native;
}

}  // namespace switchyard::proxy
