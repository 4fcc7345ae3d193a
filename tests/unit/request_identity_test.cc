// Request ids and trace context: generated when absent (as configured), the
// client's kept untouched, and the formats of the generated values.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <vector>

#include "proxy/request_identity.h"

namespace switchyard::proxy {
namespace {

TEST(RequestIdentity, GeneratedRequestIdIsAUuid4AndUnique) {
  std::regex uuid("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = makeRequestId();
    ASSERT_TRUE(std::regex_match(id, uuid)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(RequestIdentity, EveryRandomDigitOfAGeneratedIdVaries) {
  // A digit written from the wrong bits (or always the same one) keeps the
  // UUID shape; only the spread of values at each position shows it.
  std::vector<std::set<char>> digits(RequestIdentity::kRequestIdSize);
  std::vector<std::set<char>> trace_digits(RequestIdentity::kTraceparentSize);
  for (int i = 0; i < 400; ++i) {
    std::string id = makeRequestId();
    for (size_t k = 0; k < id.size(); ++k) digits[k].insert(id[k]);
    std::string t = makeTraceparent();
    for (size_t k = 0; k < t.size(); ++k) trace_digits[k].insert(t[k]);
  }
  for (size_t k = 0; k < digits.size(); ++k) {
    if (k == 8 || k == 13 || k == 18 || k == 23) {
      EXPECT_EQ(digits[k], std::set<char>{'-'}) << k;
    } else if (k == 14) {
      EXPECT_EQ(digits[k], std::set<char>{'4'});  // version
    } else if (k == 19) {
      EXPECT_EQ(digits[k], (std::set<char>{'8', '9', 'a', 'b'}));  // variant
    } else {
      EXPECT_EQ(digits[k].size(), 16u) << "position " << k;
    }
  }
  for (size_t k = 3; k < 3 + 32; ++k) EXPECT_EQ(trace_digits[k].size(), 16u) << "trace id position " << k;
  for (size_t k = 36; k < 36 + 16; ++k) EXPECT_EQ(trace_digits[k].size(), 16u) << "parent position " << k;
}

TEST(RequestIdentity, GeneratedTraceparentIsW3cVersion00) {
  std::regex tp("^00-[0-9a-f]{32}-[0-9a-f]{16}-01$");
  std::string t = makeTraceparent();
  EXPECT_TRUE(std::regex_match(t, tp)) << t;
  EXPECT_NE(t.substr(3, 32), std::string(32, '0'));
  EXPECT_NE(t, makeTraceparent());
}

TEST(RequestIdentity, AbsentHeadersAreGeneratedAsConfigured) {
  http2::HeaderList none;
  config::TracingSpec tracing;  // defaults: request id on, traceparent off
  RequestIdentity id;
  id.resolve(none, tracing);
  EXPECT_EQ(id.requestId().size(), 36u);
  EXPECT_TRUE(id.traceparent().empty());
  http2::NvList nva;
  id.appendGenerated(nva);
  ASSERT_EQ(nva.size(), 1u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(nva.data()[0].name), nva.data()[0].namelen),
            "x-request-id");
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(nva.data()[0].value), nva.data()[0].valuelen),
            id.requestId());
  EXPECT_EQ(nva.data()[0].flags, NGHTTP2_NV_FLAG_NO_INDEX) << "a unique value must not enter the HPACK table";

  tracing.generate_request_id = false;
  tracing.start_traceparent = true;
  RequestIdentity traced;
  traced.resolve(none, tracing);
  EXPECT_TRUE(traced.requestId().empty());
  EXPECT_EQ(traced.traceparent().size(), 55u);
  http2::NvList traced_nva;
  traced.appendGenerated(traced_nva);
  ASSERT_EQ(traced_nva.size(), 1u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(traced_nva.data()[0].name),
                        traced_nva.data()[0].namelen),
            "traceparent");
}

}  // namespace
}  // namespace switchyard::proxy
