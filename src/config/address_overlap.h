// Whether two listening addresses would compete for the same port: the same
// address, or a wildcard (0.0.0.0, [::]) and any address of its family on the
// same port. Listeners set IPV6_V6ONLY, so the two families never overlap.
#pragma once

#include <string>

namespace switchyard::config {

// Both in canonical form ("1.2.3.4:80", "[::1]:80"); port 0 never overlaps.
bool bindAddressesOverlap(const std::string& a, const std::string& b);

}  // namespace switchyard::config
