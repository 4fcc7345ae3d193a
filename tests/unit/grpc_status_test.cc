#include <gtest/gtest.h>

#include <cctype>
#include <iterator>
#include <string>

#include "grpc/status_code.h"
#include "grpc/status_map.h"

namespace switchyard::grpc {
namespace {

TEST(GrpcStatusName, AllNames) {
  const char* expected[] = {"OK",
                            "CANCELLED",
                            "UNKNOWN",
                            "INVALID_ARGUMENT",
                            "DEADLINE_EXCEEDED",
                            "NOT_FOUND",
                            "ALREADY_EXISTS",
                            "PERMISSION_DENIED",
                            "RESOURCE_EXHAUSTED",
                            "FAILED_PRECONDITION",
                            "ABORTED",
                            "OUT_OF_RANGE",
                            "UNIMPLEMENTED",
                            "INTERNAL",
                            "UNAVAILABLE",
                            "DATA_LOSS",
                            "UNAUTHENTICATED"};
  for (int i = 0; i <= kMaxStatusCode; ++i) {
    EXPECT_STREQ(statusName(static_cast<StatusCode>(i)), expected[i]) << i;
    EXPECT_EQ(statusNumber(static_cast<StatusCode>(i)), std::to_string(i));
  }
  EXPECT_STREQ(statusName(static_cast<StatusCode>(17)), "UNKNOWN");
  EXPECT_STREQ(statusName(static_cast<StatusCode>(-1)), "UNKNOWN");
  EXPECT_EQ(statusNumber(static_cast<StatusCode>(99)), "2");
}

TEST(GrpcStatusName, FromNameRoundTripsAndIgnoresCase) {
  for (int i = 0; i <= kMaxStatusCode; ++i) {
    const auto code = static_cast<StatusCode>(i);
    std::string name = statusName(code);
    EXPECT_EQ(statusFromName(name), code) << name;
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_EQ(statusFromName(name), code) << name;
    EXPECT_EQ(statusFromName(std::to_string(i)), code);
  }
  EXPECT_EQ(statusFromName("Deadline_Exceeded"), StatusCode::DeadlineExceeded);
}

TEST(GrpcStatusName, FromNameRejects) {
  for (const char* bad : {"", "17", "99999999999999999999", "-1", "+1", " OK", "OK ", "OKAY", "CANCELED",
                          "DEADLINE-EXCEEDED", "1a"}) {
    EXPECT_EQ(statusFromName(bad), std::nullopt) << "'" << bad << "'";
  }
}

TEST(GrpcStatusParse, Decimal) {
  for (int i = 0; i <= kMaxStatusCode; ++i) {
    EXPECT_EQ(parseGrpcStatus(std::to_string(i)), static_cast<StatusCode>(i));
  }
  EXPECT_EQ(parseGrpcStatus("014"), StatusCode::Unavailable);  // leading zeros tolerated on receive
}

TEST(GrpcStatusParse, UnknownNumbersMapToUnknown) {
  EXPECT_EQ(parseGrpcStatus("17"), StatusCode::Unknown);
  EXPECT_EQ(parseGrpcStatus("100"), StatusCode::Unknown);
  EXPECT_EQ(parseGrpcStatus("99999999999999999999999999"), StatusCode::Unknown);
}

TEST(GrpcStatusParse, NonNumericIsNullopt) {
  for (const char* bad : {"", "OK", "-1", "+1", " 1", "1 ", "1a", "0x1", "1.0", "١"}) {
    EXPECT_EQ(parseGrpcStatus(bad), std::nullopt) << "'" << bad << "'";
  }
}

TEST(GrpcStatusMap, HttpTableExhaustive) {
  for (int http = 0; http < 1000; ++http) {
    StatusCode want = StatusCode::Unknown;
    switch (http) {
      case 400: want = StatusCode::Internal; break;
      case 401: want = StatusCode::Unauthenticated; break;
      case 403: want = StatusCode::PermissionDenied; break;
      case 404: want = StatusCode::Unimplemented; break;
      case 429: want = StatusCode::Unavailable; break;
      case 431: want = StatusCode::Internal; break;
      case 502: want = StatusCode::Unavailable; break;
      case 503: want = StatusCode::Unavailable; break;
      case 504: want = StatusCode::Unavailable; break;
      default: break;
    }
    EXPECT_EQ(statusFromHttpStatus(http), want) << http;
  }
  EXPECT_EQ(statusFromHttpStatus(200), StatusCode::Unknown);
  EXPECT_EQ(statusFromHttpStatus(-1), StatusCode::Unknown);
}

TEST(GrpcStatusMap, RstStreamTableExhaustive) {
  const StatusCode expected[] = {
      StatusCode::Internal,           // 0x0 NO_ERROR
      StatusCode::Internal,           // 0x1 PROTOCOL_ERROR
      StatusCode::Internal,           // 0x2 INTERNAL_ERROR
      StatusCode::Internal,           // 0x3 FLOW_CONTROL_ERROR
      StatusCode::Internal,           // 0x4 SETTINGS_TIMEOUT
      StatusCode::Internal,           // 0x5 STREAM_CLOSED
      StatusCode::Internal,           // 0x6 FRAME_SIZE_ERROR
      StatusCode::Unavailable,        // 0x7 REFUSED_STREAM
      StatusCode::Cancelled,          // 0x8 CANCEL
      StatusCode::Internal,           // 0x9 COMPRESSION_ERROR
      StatusCode::Internal,           // 0xa CONNECT_ERROR
      StatusCode::ResourceExhausted,  // 0xb ENHANCE_YOUR_CALM
      StatusCode::PermissionDenied,   // 0xc INADEQUATE_SECURITY
      StatusCode::Internal,           // 0xd HTTP_1_1_REQUIRED
  };
  for (uint32_t code = 0; code < std::size(expected); ++code) {
    EXPECT_EQ(statusFromRstStream(code, true), expected[code]) << code;
    EXPECT_EQ(statusFromRstStream(code, false), expected[code]) << code;
  }
  for (uint32_t code : {0xeu, 0xffu, 0xffffffffu}) {
    EXPECT_EQ(statusFromRstStream(code, true), StatusCode::Internal) << code;
    EXPECT_EQ(statusFromRstStream(code, false), StatusCode::Internal) << code;
  }
  EXPECT_EQ(statusFromRstStream(h2error::kRefusedStream, true), StatusCode::Unavailable);
  EXPECT_EQ(statusFromRstStream(h2error::kCancel, true), StatusCode::Cancelled);
}

}  // namespace
}  // namespace switchyard::grpc
