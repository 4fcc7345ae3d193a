#include "http2/headers.h"

namespace switchyard::http2 {

bool isHopByHop(std::string_view name) {
  return name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
         name == "transfer-encoding" || name == "upgrade" || name == "host";
}

}  // namespace switchyard::http2
