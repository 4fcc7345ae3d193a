#include "grpc/local_reply.h"

#include <gtest/gtest.h>

namespace switchyard::grpc {
namespace {

std::vector<std::pair<std::string, std::string>> flat(const std::vector<HeaderField>& h) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& f : h) out.emplace_back(f.name, f.value);
  return out;
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

TEST(LocalReply, TrailersOnlyWithMessage) {
  EXPECT_EQ(flat(trailersOnlyHeaders(StatusCode::Unavailable, "no healthy upstream")),
            (Pairs{{":status", "200"},
                   {"content-type", "application/grpc"},
                   {"grpc-status", "14"},
                   {"grpc-message", "no healthy upstream"}}));
}

TEST(LocalReply, TrailersOnlyEncodesTheMessage) {
  EXPECT_EQ(flat(trailersOnlyHeaders(StatusCode::DeadlineExceeded, "deadline 100% over\n")),
            (Pairs{{":status", "200"},
                   {"content-type", "application/grpc"},
                   {"grpc-status", "4"},
                   {"grpc-message", "deadline 100%25 over%0A"}}));
}

TEST(LocalReply, TrailersOnlyWithoutMessage) {
  EXPECT_EQ(flat(trailersOnlyHeaders(StatusCode::Ok, "")),
            (Pairs{{":status", "200"}, {"content-type", "application/grpc"}, {"grpc-status", "0"}}));
}

TEST(LocalReply, PseudoHeaderComesFirst) {
  for (int i = 0; i <= kMaxStatusCode; ++i) {
    auto h = trailersOnlyHeaders(static_cast<StatusCode>(i), "x");
    ASSERT_EQ(h.size(), 4u);
    EXPECT_EQ(h[0].name, ":status");
    EXPECT_EQ(h[2].value, std::to_string(i));
  }
}

TEST(LocalReply, TrailersFields) {
  EXPECT_EQ(flat(trailersFields(StatusCode::ResourceExhausted, "limit")),
            (Pairs{{"grpc-status", "8"}, {"grpc-message", "limit"}}));
  EXPECT_EQ(flat(trailersFields(StatusCode::Ok, "")), (Pairs{{"grpc-status", "0"}}));
  EXPECT_EQ(flat(trailersFields(StatusCode::Unimplemented, "caf\xc3\xa9")),
            (Pairs{{"grpc-status", "12"}, {"grpc-message", "caf%C3%A9"}}));
}

}  // namespace
}  // namespace switchyard::grpc
