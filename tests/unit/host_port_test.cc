// The shared host:port grammar (config loader and socket addresses).
#include "common/host_port.h"

#include <gtest/gtest.h>

#include "event/socket_address.h"

namespace switchyard {
namespace {

TEST(HostPort, SplitsNamesIpv4AndBracketedIpv6) {
  std::string why;
  auto a = splitHostPortText("backend.local:50051", &why);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "backend.local");
  EXPECT_EQ(a->port, "50051");
  EXPECT_FALSE(a->bracketed);
  auto b = splitHostPortText("[::1]:80", &why);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, "80");
  EXPECT_TRUE(b->bracketed);
}

TEST(HostPort, ExplainsWhatIsWrong) {
  std::string why;
  EXPECT_FALSE(splitHostPortText("", &why));
  EXPECT_EQ(why, "empty address");
  EXPECT_FALSE(splitHostPortText("host", &why));
  EXPECT_EQ(why, "missing port, expected host:port");
  EXPECT_FALSE(splitHostPortText("::1:80", &why));
  EXPECT_EQ(why, "IPv6 addresses must be in brackets, e.g. [::1]:8080");
  EXPECT_FALSE(splitHostPortText("[::1", &why));
  EXPECT_EQ(why, "missing \"]\" after IPv6 address");
  EXPECT_FALSE(splitHostPortText("[::1]", &why));
  EXPECT_EQ(why, "missing port, expected [ipv6]:port");
  EXPECT_FALSE(splitHostPortText("[::1]x80", &why));
  EXPECT_EQ(why, "unexpected \"x80\" after \"]\", expected :port");
}

TEST(HostPort, PortsAreDecimalWithinRange) {
  std::string why;
  EXPECT_EQ(parsePort("0", 0, &why), 0);
  EXPECT_EQ(parsePort("65535", 1, &why), 65535);
  EXPECT_FALSE(parsePort("0", 1, &why));
  EXPECT_EQ(why, "port 0 out of range 1-65535");
  EXPECT_FALSE(parsePort("65536", 0, &why));
  EXPECT_FALSE(parsePort("99999999999999999999", 0, &why));
  EXPECT_EQ(why, "port 99999999999999999999 out of range 0-65535");
  EXPECT_FALSE(parsePort("8o", 0, &why));
  EXPECT_EQ(why, "port \"8o\" is not a number");
  EXPECT_FALSE(parsePort("", 0, &why));
  EXPECT_EQ(why, "missing port number");
}

// The socket-address helper accepts exactly what the grammar accepts, with a host.
TEST(HostPort, SocketAddressSplitUsesTheSameGrammar) {
  std::string host;
  uint16_t port = 0;
  EXPECT_TRUE(event::splitHostPort("[::1]:9901", &host, &port));
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 9901);
  EXPECT_TRUE(event::splitHostPort("127.0.0.1:0", &host, &port));
  EXPECT_EQ(port, 0);
  EXPECT_FALSE(event::splitHostPort(":80", &host, &port));
  EXPECT_FALSE(event::splitHostPort("[]:80", &host, &port));
  EXPECT_FALSE(event::splitHostPort("::1:80", &host, &port));
  EXPECT_FALSE(event::splitHostPort("1.2.3.4:+80", &host, &port));
  EXPECT_FALSE(event::splitHostPort("1.2.3.4:70000", &host, &port));
}

}  // namespace
}  // namespace switchyard
