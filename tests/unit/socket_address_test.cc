// SocketAddress printing (the text appears in logs, /clusters and metrics).
#include "event/socket_address.h"

#include <gtest/gtest.h>

namespace switchyard::event {
namespace {

TEST(SocketAddress, PrintsIpv4AndBracketedIpv6WithPort) {
  EXPECT_EQ(parseIpPort("127.0.0.1:8080")->toString(), "127.0.0.1:8080");
  EXPECT_EQ(parseIpPort("[::1]:50052")->toString(), "[::1]:50052");
  EXPECT_EQ(parseIpPort("[2001:db8::7]:1")->toString(), "[2001:db8::7]:1");
  EXPECT_EQ(parseIpPort("0.0.0.0:65535")->port(), 65535);
  EXPECT_EQ(SocketAddress{}.toString(), "unknown");
  EXPECT_EQ(SocketAddress{}.port(), 0);
}

}  // namespace
}  // namespace switchyard::event
