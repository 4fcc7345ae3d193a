// EndpointKey: one endpoint of one cluster, the key of per-endpoint state
// (pools, health trackers, DNS answers). `address` is the resolved "ip:port"
// / "[ip]:port", or for DNS answers the configured "host:port".
#pragma once

#include <compare>
#include <string>

namespace switchyard::upstream {

struct EndpointKey {
  std::string cluster;
  std::string address;

  auto operator<=>(const EndpointKey&) const = default;
  bool operator==(const EndpointKey&) const = default;
  // "cluster/address", for logs.
  std::string toString() const { return cluster + "/" + address; }
};

}  // namespace switchyard::upstream
