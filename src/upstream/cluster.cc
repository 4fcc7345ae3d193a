#include "upstream/cluster.h"

namespace switchyard::upstream {

const char* toString(Health h) {
  switch (h) {
    case Health::Healthy: return "healthy";
    case Health::Unhealthy: return "unhealthy";
    case Health::Ejected: return "ejected";
  }
  return "unknown";
}

size_t ClusterSnapshot::healthyCount() const {
  size_t n = 0;
  for (const auto& e : endpoints) n += e.health == Health::Healthy;
  return n;
}

bool ClusterSnapshot::weighted() const {
  for (const auto& e : endpoints) {
    if (e.weight != endpoints.front().weight) return true;
  }
  return false;
}

}  // namespace switchyard::upstream
