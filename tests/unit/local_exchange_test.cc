// LocalExchange: request messages cut anywhere reach the LocalCall whole, the
// answers are framed, the client's window is reopened only for what was
// handled, and answers the client does not read hold further requests back.
#include "proxy/local_exchange.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "grpc/framing.h"

namespace switchyard::proxy {
namespace {

// Answers each request with `copies` copies of it; "fail" ends the call.
class EchoCall final : public LocalCall {
 public:
  explicit EchoCall(int copies = 1, size_t pad = 0) : copies_(copies), pad_(pad) {}
  std::optional<LocalAnswer> onMessage(std::string_view m, std::vector<std::string>& out) override {
    ++*seen;
    if (m == "fail") return LocalAnswer{grpc::StatusCode::InvalidArgument, "failed", {}};
    for (int i = 0; i < copies_; ++i) out.push_back(std::string(m) + std::string(pad_, '.'));
    return std::nullopt;
  }
  std::string_view service() const override { return "t.S"; }
  std::string_view method() const override { return "M"; }
  std::shared_ptr<int> seen = std::make_shared<int>(0);

 private:
  int copies_;
  size_t pad_;
};

void feed(LocalExchange& ex, const std::string& bytes) {
  ex.feed(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

std::vector<std::string> messagesIn(const std::string& framed) {
  grpc::MessageReader r(1 << 24);
  r.feed(reinterpret_cast<const uint8_t*>(framed.data()), framed.size());
  std::vector<std::string> out;
  while (auto m = r.next()) out.push_back(*m);
  return out;
}

TEST(LocalExchange, MessagesCutAnywhereAreAnsweredInOrderThenOk) {
  LocalExchange ex(std::make_unique<EchoCall>());
  std::string wire = grpc::frameMessage("one") + grpc::frameMessage("two");
  std::string response;
  size_t consumed = 0;
  for (char c : wire) {  // one byte at a time
    feed(ex, std::string(1, c));
    auto step = ex.pump(0);
    EXPECT_FALSE(step.end);
    response += step.response;
    consumed += step.consumed;
  }
  EXPECT_EQ(messagesIn(response), (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(consumed, wire.size());
  ex.requestEnded();
  auto last = ex.pump(0);
  ASSERT_TRUE(last.end);
  EXPECT_EQ(last.end->code, grpc::StatusCode::Ok);
  EXPECT_EQ(ex.release(), 0u);
}

TEST(LocalExchange, ACallErrorEndsItAndLeavesTheRestToRelease) {
  LocalExchange ex(std::make_unique<EchoCall>());
  std::string wire = grpc::frameMessage("fail") + grpc::frameMessage("after");
  feed(ex, wire);
  auto step = ex.pump(0);
  ASSERT_TRUE(step.end);
  EXPECT_EQ(step.end->code, grpc::StatusCode::InvalidArgument);
  EXPECT_EQ(step.consumed + ex.release(), wire.size());
  EXPECT_TRUE(ex.ended());
}

TEST(LocalExchange, AnOversizedRequestIsResourceExhausted) {
  LocalExchange ex(std::make_unique<EchoCall>(), /*max_message=*/16);
  feed(ex, grpc::frameMessage(std::string(17, 'x')));
  auto step = ex.pump(0);
  ASSERT_TRUE(step.end);
  EXPECT_EQ(step.end->code, grpc::StatusCode::ResourceExhausted);
}

TEST(LocalExchange, AStreamEndingInsideAMessageIsAnError) {
  LocalExchange ex(std::make_unique<EchoCall>());
  feed(ex, grpc::frameMessage("whole").substr(0, 7));
  ex.requestEnded();
  auto step = ex.pump(0);
  ASSERT_TRUE(step.end);
  EXPECT_EQ(step.end->code, grpc::StatusCode::Internal);
}

TEST(LocalExchange, UnreadAnswersHoldRequestsBackAndTheirWindowUnpaid) {
  auto call = std::make_unique<EchoCall>(1, 300 * 1024);
  auto seen = call->seen;
  LocalExchange ex(std::move(call));
  std::string one = grpc::frameMessage("r");
  for (int i = 0; i < 10; ++i) feed(ex, one);
  // The client reads nothing: at most kMaxPendingResponse worth of answers.
  auto step = ex.pump(0);
  EXPECT_EQ(*seen, 4);  // 4 x 300 KiB passes 1 MiB
  EXPECT_EQ(step.consumed, 4 * one.size());
  EXPECT_TRUE(ex.waiting());
  EXPECT_EQ(ex.pump(step.response.size()).consumed, 0u);
  EXPECT_EQ(*seen, 4);
  // The client read them all: the rest go on.
  auto more = ex.pump(0);
  EXPECT_EQ(*seen, 8);
  EXPECT_EQ(more.consumed, 4 * one.size());
  ex.requestEnded();
  auto last = ex.pump(0);
  ASSERT_TRUE(last.end);
  EXPECT_EQ(last.end->code, grpc::StatusCode::Ok);
  EXPECT_EQ(*seen, 10);
  EXPECT_EQ(ex.release(), 0u);
}

}  // namespace
}  // namespace switchyard::proxy
