// Fuzz target: the downstream (client-facing) HTTP/2 adapter. The input is
// what a client sends after a valid connection preface; it reaches the real
// DownstreamConnection, its RPCs and real UpstreamConnections to in-memory
// echo backends (tests/support/mem_proxy.h). No sockets, no waiting timers.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string_view>

#include "common/log.h"
#include "fuzz_common.h"
#include "mem_proxy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static bool quiet = switchyard::log::setLevel("off");
  (void)quiet;
  sytest::mem::InMemoryProxy proxy(sytest::fuzz::kProxyConfig);
  sytest::mem::H2Peer::Options raw;
  raw.send_preface = false;  // only parses what the proxy answers
  sytest::mem::H2Peer client(sytest::mem::H2Peer::Role::Client, proxy.Connect(), raw);
  client.WriteRaw(sytest::fuzz::ClientPreface());
  client.WriteRaw(std::string_view(reinterpret_cast<const char*>(data), size));
  bool settled = proxy.Pump({&client}, sytest::fuzz::kMaxRounds);
  if (sytest::fuzz::Verbose()) {
    size_t requests = 0;
    for (const auto& b : proxy.echo_backends()) requests += b->requests();
    std::fprintf(stderr, "settled=%d backend_requests=%zu goaway=%d(%u) client_parse_failed=%d\n",
                 settled, requests, client.goaway_received(), client.goaway_code(),
                 client.session_failed());
  }
  return 0;
}
