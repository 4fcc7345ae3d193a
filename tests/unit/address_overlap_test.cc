// Listening addresses that compete for a port: same address, or a wildcard
// and an address of its family on the same port.
#include "config/address_overlap.h"

#include <gtest/gtest.h>

#include "config/loader.h"

namespace switchyard::config {
namespace {

TEST(AddressOverlap, WildcardCoversItsFamilyOnTheSamePort) {
  EXPECT_TRUE(bindAddressesOverlap("127.0.0.1:8080", "0.0.0.0:8080"));
  EXPECT_TRUE(bindAddressesOverlap("0.0.0.0:8080", "10.1.2.3:8080"));
  EXPECT_TRUE(bindAddressesOverlap("[::1]:8080", "[::]:8080"));
  EXPECT_TRUE(bindAddressesOverlap("127.0.0.1:8080", "127.0.0.1:8080"));
}

TEST(AddressOverlap, OtherPortsAddressesAndFamiliesDoNot) {
  EXPECT_FALSE(bindAddressesOverlap("127.0.0.1:8080", "0.0.0.0:8081"));
  EXPECT_FALSE(bindAddressesOverlap("127.0.0.1:8080", "127.0.0.2:8080"));
  EXPECT_FALSE(bindAddressesOverlap("0.0.0.0:8080", "[::]:8080"));  // IPV6_V6ONLY
  EXPECT_FALSE(bindAddressesOverlap("0.0.0.0:0", "127.0.0.1:0"));    // ephemeral ports
  EXPECT_FALSE(bindAddressesOverlap("0.0.0.0:8080", ""));            // admin disabled
}

LoadResult Load(const std::string& listeners, const std::string& admin) {
  return loadString("admin: { address: \"" + admin + "\" }\nlisteners:\n" + listeners +
                        "routes: []\nclusters: []\n",
                    "/tmp/overlap.yaml");
}

TEST(AddressOverlap, ConfigRejectsWildcardAndSpecificListenerWithPosition) {
  auto r = Load("  - { name: a, address: 127.0.0.1:7001 }\n"
                "  - { name: b, address: 0.0.0.0:7001 }\n",
                "127.0.0.1:9901");
  ASSERT_FALSE(r.config);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].rfind("/tmp/overlap.yaml:4:", 0), 0u) << r.errors[0];
  EXPECT_NE(r.errors[0].find("overlaps \"127.0.0.1:7001\""), std::string::npos) << r.errors[0];
}

TEST(AddressOverlap, ConfigRejectsListenerOverlappingAdmin) {
  auto r = Load("  - { name: a, address: 0.0.0.0:9901 }\n", "127.0.0.1:9901");
  ASSERT_FALSE(r.config);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].find("overlaps admin.address"), std::string::npos) << r.errors[0];
}

TEST(AddressOverlap, ConfigAcceptsDistinctAddresses) {
  auto r = Load("  - { name: a, address: 127.0.0.1:7001 }\n"
                "  - { name: b, address: \"[::]:7001\" }\n"
                "  - { name: c, address: 127.0.0.2:7001 }\n",
                "0.0.0.0:9901");
  EXPECT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors[0]);
}

}  // namespace
}  // namespace switchyard::config
