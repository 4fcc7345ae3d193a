// Fuzz target: the upstream (backend-facing) side. A well-behaved client
// opens a unary and a streaming RPC through the real proxy data path; the
// backend's bytes after its SETTINGS preface are the input (the proxy's
// streams to it are 1 and 3; a retry opens 5). tests/support/mem_proxy.h, no sockets.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "fuzz_common.h"
#include "mem_proxy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using sytest::mem::H2Peer;
  static bool quiet = switchyard::log::setLevel("off");
  (void)quiet;
  sytest::mem::InMemoryProxy proxy(sytest::fuzz::kSingleEndpointConfig);
  std::vector<std::unique_ptr<H2Peer>> backends;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  proxy.on_upstream = [&](const std::string&, bufferevent* end) {
    H2Peer::Options raw;
    raw.send_preface = false;
    backends.push_back(std::make_unique<H2Peer>(H2Peer::Role::Server, end, raw));
    // Every connection (a retry may open a second) gets the same bytes.
    backends.back()->WriteRaw(sytest::fuzz::ServerPreface());
    backends.back()->WriteRaw(input);
    return backends.back().get();
  };
  H2Peer client(H2Peer::Role::Client, proxy.Connect());
  int32_t unary = client.Request(sytest::mem::GrpcRequest("/switchyard.test.Echo/Unary"),
                                 sytest::mem::GrpcFrame("ping"));
  int32_t bidi = client.Request(sytest::mem::GrpcRequest("/switchyard.test.Echo/Bidi"),
                                sytest::mem::GrpcFrame("one"), false);
  bool settled = proxy.Pump({&client}, sytest::fuzz::kMaxRounds);
  if (sytest::fuzz::Verbose()) {
    for (int32_t id : {unary, bidi}) {
      const H2Peer::Stream* st = client.stream(id);
      auto status = st == nullptr ? std::nullopt : sytest::mem::Find(st->trailers.empty() ? st->headers : st->trailers, "grpc-status");
      std::fprintf(stderr, "settled=%d stream %d: grpc-status %s, %zu body bytes, closed=%d\n", settled, id,
                   status ? status->c_str() : "-", st ? st->data.size() : 0, st && st->closed);
    }
    std::fprintf(stderr, "upstream connections=%zu\n", backends.size());
  }
  return 0;
}
