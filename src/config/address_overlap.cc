#include "config/address_overlap.h"

namespace switchyard::config {
namespace {

struct Parts {
  std::string host;  // with brackets for IPv6
  std::string port;
};

Parts split(const std::string& canonical) {
  auto colon = canonical.rfind(':');
  if (colon == std::string::npos) return {canonical, ""};
  return {canonical.substr(0, colon), canonical.substr(colon + 1)};
}

bool isWildcard(const std::string& host) { return host == "0.0.0.0" || host == "[::]"; }
bool isV6(const std::string& host) { return !host.empty() && host.front() == '['; }

}  // namespace

bool bindAddressesOverlap(const std::string& a, const std::string& b) {
  Parts pa = split(a);
  Parts pb = split(b);
  if (pa.port.empty() || pa.port == "0" || pa.port != pb.port) return false;
  if (isV6(pa.host) != isV6(pb.host)) return false;
  return pa.host == pb.host || isWildcard(pa.host) || isWildcard(pb.host);
}

}  // namespace switchyard::config
