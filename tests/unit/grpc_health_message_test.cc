// The hand-written grpc.health.v1 wire codec and gRPC message framing, checked
// byte by byte, against libprotobuf's own encoder and parser, and with
// malformed and unknown-field input.
#include <gtest/gtest.h>

#include <string>

#include "grpc/framing.h"
#include "grpc/health_message.h"
#include "health.pb.h"

namespace switchyard::grpc {
namespace {

using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

TEST(HealthMessageEncode, ExactBytes) {
  EXPECT_EQ(encodeHealthCheckRequest(""), "");
  EXPECT_EQ(encodeHealthCheckRequest("a.B"), bytes({0x0a, 3, 'a', '.', 'B'}));
  // 200 bytes: the length takes a two-byte varint (0xc8 0x01).
  std::string long_name(200, 'x');
  std::string enc = encodeHealthCheckRequest(long_name);
  ASSERT_EQ(enc.size(), 203u);
  EXPECT_EQ(enc.substr(0, 3), bytes({0x0a, 0xc8, 0x01}));
  EXPECT_EQ(enc.substr(3), long_name);
}

TEST(HealthMessageEncode, LibprotobufParsesOurRequest) {
  for (std::string service : {std::string(), std::string("test.Svc"), std::string(300, 's'),
                              std::string("h\xc3\xa9lo")}) {
    HealthCheckRequest req;
    ASSERT_TRUE(req.ParseFromString(encodeHealthCheckRequest(service))) << service;
    EXPECT_EQ(req.service(), service);
    EXPECT_EQ(req.SerializeAsString(), encodeHealthCheckRequest(service));
    EXPECT_EQ(decodeHealthCheckRequest(req.SerializeAsString()), service);
  }
}

TEST(HealthMessageDecode, LibprotobufResponses) {
  for (int s : {0, 1, 2, 3, 7, 1000000, -1}) {
    HealthCheckResponse resp;
    resp.set_status(static_cast<HealthCheckResponse::ServingStatus>(s));
    auto got = decodeHealthCheckResponse(resp.SerializeAsString());
    ASSERT_TRUE(got.has_value()) << s;
    EXPECT_EQ(*got, s);
  }
}

TEST(HealthMessageDecode, TenByteVarints) {
  // The longest legal varint: 2^63, whose low 32 bits are 0.
  EXPECT_EQ(decodeHealthCheckResponse(
                bytes({0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01})),
            0);
  // -2 as an int32 enum: sign-extended to ten bytes.
  EXPECT_EQ(decodeHealthCheckResponse(
                bytes({0x08, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})),
            -2);
}

TEST(HealthMessageDecode, DefaultsAndLastOccurrenceWins) {
  EXPECT_EQ(decodeHealthCheckResponse(""), 0);
  EXPECT_EQ(decodeHealthCheckResponse(bytes({0x08, 0x01})), 1);
  EXPECT_EQ(decodeHealthCheckResponse(bytes({0x08, 0x01, 0x08, 0x02})), 2);
  // A redundant (non-minimal) varint is still the same number.
  EXPECT_EQ(decodeHealthCheckResponse(bytes({0x08, 0x81, 0x80, 0x00})), 1);
  EXPECT_EQ(decodeHealthCheckRequest(bytes({0x0a, 1, 'a', 0x0a, 1, 'b'})), "b");
}

TEST(HealthMessageDecode, SkipsUnknownFieldsOfEveryWireType) {
  const std::string unknown = bytes({
      0x10, 0x96, 0x01,                                // field 2 varint
      0x19, 1, 2, 3, 4, 5, 6, 7, 8,                    // field 3 fixed64
      0x22, 3, 'a', 'b', 'c',                          // field 4 length-delimited
      0x2d, 1, 2, 3, 4,                                // field 5 fixed32
      0x33, 0x38, 0x05, 0x3b, 0x3c, 0x34,              // field 6 group { 7: 5, group 7 {} }
      0x0a, 0x02, 0x08, 0x02,                          // field 1 with the wrong wire type
  });
  EXPECT_EQ(decodeHealthCheckResponse(unknown + bytes({0x08, 0x02})), 2);
  EXPECT_EQ(decodeHealthCheckResponse(bytes({0x08, 0x01}) + unknown), 1);
  EXPECT_EQ(decodeHealthCheckResponse(unknown), 0);
  EXPECT_EQ(decodeHealthCheckRequest(unknown.substr(0, unknown.size() - 4)), "");

  // libprotobuf agrees: the same bytes parse, to the same status.
  HealthCheckResponse resp;
  ASSERT_TRUE(resp.ParseFromString(unknown + bytes({0x08, 0x02})));
  EXPECT_EQ(resp.status(), 2);
  // And a newer server's extra fields, as libprotobuf writes them, are skipped.
  HealthCheckResponse with_unknown;
  with_unknown.set_status(HealthCheckResponse::NOT_SERVING);
  with_unknown.GetReflection()->MutableUnknownFields(&with_unknown)->AddLengthDelimited(9, "extra");
  with_unknown.GetReflection()->MutableUnknownFields(&with_unknown)->AddFixed64(10, 42);
  EXPECT_EQ(decodeHealthCheckResponse(with_unknown.SerializeAsString()), 2);
}

TEST(HealthMessageDecode, RejectsMalformed) {
  const std::string cases[] = {
      bytes({0x08}),                                      // value missing
      bytes({0x08, 0x80}),                                // truncated varint
      bytes({0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}),  // 11 bytes
      bytes({0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}),  // > 64 bits
      bytes({0x80}),                                      // truncated tag
      bytes({0x00, 0x01}),                                // field number 0
      bytes({0x12, 0x05, 0x01}),                          // length past the end
      bytes({0x12, 0xff, 0xff, 0xff, 0xff, 0x0f}),        // huge length
      bytes({0x19, 1, 2, 3}),                             // truncated fixed64
      bytes({0x1d, 1, 2}),                                // truncated fixed32
      bytes({0x0e, 0x00}),                                // wire type 6
      bytes({0x0f, 0x00}),                                // wire type 7
      bytes({0x0c}),                                      // end-group with no group
      bytes({0x0b, 0x08, 0x01}),                          // group never ends
      bytes({0x0b, 0x14}),                                // group 1 ended as group 2
      bytes({0x08, 0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}),  // tag beyond 32 bits
  };
  for (const auto& c : cases) {
    EXPECT_FALSE(decodeHealthCheckResponse(c).has_value()) << testing::PrintToString(c);
    EXPECT_FALSE(decodeHealthCheckRequest(c).has_value()) << testing::PrintToString(c);
  }
}

TEST(HealthMessageDecode, GroupNestingIsBounded) {
  auto nested = [](int depth) {
    std::string s;
    for (int i = 0; i < depth; ++i) s.push_back(0x13);  // start group 2
    for (int i = 0; i < depth; ++i) s.push_back(0x14);  // end group 2
    return s + bytes({0x08, 0x01});
  };
  EXPECT_EQ(decodeHealthCheckResponse(nested(32)), 1);
  EXPECT_FALSE(decodeHealthCheckResponse(nested(33)).has_value());
  EXPECT_FALSE(decodeHealthCheckResponse(std::string(100000, '\x13')).has_value());
}

TEST(HealthMessageNames, KnownAndUnknown) {
  EXPECT_EQ(servingStatusName(0), "UNKNOWN");
  EXPECT_EQ(servingStatusName(1), "SERVING");
  EXPECT_EQ(servingStatusName(2), "NOT_SERVING");
  EXPECT_EQ(servingStatusName(3), "SERVICE_UNKNOWN");
  EXPECT_EQ(servingStatusName(9), "status 9");
  EXPECT_EQ(servingStatusName(-4), "status -4");
}

// ---------------------------------------------------------------- framing

TEST(GrpcFraming, FrameMessage) {
  EXPECT_EQ(frameMessage(""), bytes({0, 0, 0, 0, 0}));
  EXPECT_EQ(frameMessage("ab"), bytes({0, 0, 0, 0, 2, 'a', 'b'}));
  EXPECT_EQ(frameMessage(std::string(0x010203, 'z')).substr(0, 5), bytes({0, 0, 1, 2, 3}));
}

TEST(GrpcFraming, ReassemblesAcrossAnyCut) {
  const std::string stream = frameMessage("first") + frameMessage("") + frameMessage("third!");
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    MessageReader r(64);
    const auto* p = reinterpret_cast<const uint8_t*>(stream.data());
    ASSERT_TRUE(r.feed(p, cut));
    ASSERT_TRUE(r.feed(p + cut, stream.size() - cut));
    EXPECT_EQ(r.next(), "first") << cut;
    EXPECT_EQ(r.next(), "") << cut;
    EXPECT_EQ(r.next(), "third!") << cut;
    EXPECT_FALSE(r.next().has_value());
    EXPECT_FALSE(r.partial());
  }
  // Byte by byte.
  MessageReader r(64);
  for (char c : stream) {
    auto b = static_cast<uint8_t>(c);
    ASSERT_TRUE(r.feed(&b, 1));
  }
  EXPECT_EQ(r.next(), "first");
}

TEST(GrpcFraming, PartialMessageIsReported) {
  MessageReader r(64);
  const std::string m = frameMessage("hello");
  ASSERT_TRUE(r.feed(reinterpret_cast<const uint8_t*>(m.data()), 3));
  EXPECT_TRUE(r.partial());
  ASSERT_TRUE(r.feed(reinterpret_cast<const uint8_t*>(m.data()) + 3, 4));
  EXPECT_TRUE(r.partial());
  EXPECT_FALSE(r.next().has_value());
}

TEST(GrpcFraming, RejectsOversizedAndCompressed) {
  {
    MessageReader r(4);
    const std::string ok = frameMessage("four");
    ASSERT_TRUE(r.feed(reinterpret_cast<const uint8_t*>(ok.data()), ok.size()));
    const std::string big = frameMessage("fives");
    EXPECT_FALSE(r.feed(reinterpret_cast<const uint8_t*>(big.data()), big.size()));
    EXPECT_EQ(r.error(), MessageReader::Error::TooLarge);
    EXPECT_EQ(r.next(), "four");
    EXPECT_FALSE(r.next().has_value());
    EXPECT_FALSE(r.feed(reinterpret_cast<const uint8_t*>(ok.data()), ok.size()));
    EXPECT_FALSE(r.next().has_value());
  }
  {
    MessageReader r(64);
    const std::string c = bytes({1, 0, 0, 0, 1, 'x'});
    EXPECT_FALSE(r.feed(reinterpret_cast<const uint8_t*>(c.data()), c.size()));
    EXPECT_EQ(r.error(), MessageReader::Error::Compressed);
  }
  {
    // A 4 GiB length is refused from the prefix alone, nothing is allocated.
    MessageReader r(1024);
    const std::string huge = bytes({0, 0xff, 0xff, 0xff, 0xff});
    EXPECT_FALSE(r.feed(reinterpret_cast<const uint8_t*>(huge.data()), huge.size()));
    EXPECT_EQ(r.error(), MessageReader::Error::TooLarge);
  }
}

}  // namespace
}  // namespace switchyard::grpc
