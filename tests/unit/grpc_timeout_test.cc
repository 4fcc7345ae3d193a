#include "grpc/timeout.h"

#include <gtest/gtest.h>

#include <chrono>

namespace switchyard::grpc {
namespace {

using namespace std::chrono_literals;

TEST(GrpcTimeoutParse, EachUnit) {
  EXPECT_EQ(parseGrpcTimeout("2H"), Duration(2h));
  EXPECT_EQ(parseGrpcTimeout("3M"), Duration(3min));
  EXPECT_EQ(parseGrpcTimeout("5S"), Duration(5s));
  EXPECT_EQ(parseGrpcTimeout("250m"), Duration(250ms));
  EXPECT_EQ(parseGrpcTimeout("7u"), Duration(7us));
  EXPECT_EQ(parseGrpcTimeout("9n"), Duration(9ns));
}

TEST(GrpcTimeoutParse, EightDigitsIsTheMaximum) {
  EXPECT_EQ(parseGrpcTimeout("99999999n"), Duration(99999999ns));
  EXPECT_EQ(parseGrpcTimeout("12345678m"), Duration(12345678ms));
  EXPECT_EQ(parseGrpcTimeout("00000001S"), Duration(1s));  // leading zeros are digits too
  EXPECT_EQ(parseGrpcTimeout("100000000n"), std::nullopt);  // 9 digits
  EXPECT_EQ(parseGrpcTimeout("000000001S"), std::nullopt);  // 9 digits, even if small
}

TEST(GrpcTimeoutParse, ZeroIsAcceptedAsAnExpiredDeadline) {
  // Documented choice: zero is not rejected (a rejected header would mean
  // "no deadline"), it is a zero duration.
  EXPECT_EQ(parseGrpcTimeout("0S"), Duration::zero());
  EXPECT_EQ(parseGrpcTimeout("0n"), Duration::zero());
  EXPECT_EQ(parseGrpcTimeout("00000000H"), Duration::zero());
}

TEST(GrpcTimeoutParse, RejectsEverythingOutsideTheGrammar) {
  for (const char* bad : {"", "S", "m", "1", "12", "1s", "1h", "1x", "1MS", "1S ", " 1S", "1 S", "+1S", "-1S",
                          "1.5S", "0x1S", "1SS", "１S", "1Sm", "S1"}) {
    EXPECT_EQ(parseGrpcTimeout(bad), std::nullopt) << "'" << bad << "'";
  }
  EXPECT_EQ(parseGrpcTimeout(std::string_view("1\0S", 3)), std::nullopt);
}

TEST(GrpcTimeoutParse, HugeValuesClampToAHundredYears) {
  EXPECT_EQ(kMaxGrpcTimeout, Duration(876000h));
  EXPECT_EQ(parseGrpcTimeout("99999999H"), kMaxGrpcTimeout);
  EXPECT_EQ(parseGrpcTimeout("99999999M"), kMaxGrpcTimeout);  // 190 years
  EXPECT_EQ(parseGrpcTimeout("2562048H"), kMaxGrpcTimeout);   // beyond a nanosecond Duration
  EXPECT_EQ(parseGrpcTimeout("876000H"), kMaxGrpcTimeout);
  EXPECT_EQ(parseGrpcTimeout("875999H"), Duration(875999h));  // just below: exact
  EXPECT_EQ(parseGrpcTimeout("99999999S"), Duration(99999999s));
}

TEST(GrpcTimeoutParse, TheLargestValueDoesNotOverflowADeadline) {
  // Rpc computes start + timeout; with the largest header value that must be
  // a time in the future, not a wrapped-around one.
  const auto now = std::chrono::steady_clock::now();
  for (const char* v : {"99999999H", "99999999M", "99999999S", "99999999m"}) {
    auto t = parseGrpcTimeout(v);
    ASSERT_TRUE(t.has_value()) << v;
    EXPECT_GT(now + *t, now) << v;
    EXPECT_LE(*t, Duration::max() - now.time_since_epoch()) << v;
  }
}

TEST(GrpcTimeoutFormat, NonPositiveIsOneNanosecond) {
  EXPECT_EQ(formatGrpcTimeout(Duration::zero()), "1n");
  EXPECT_EQ(formatGrpcTimeout(-5s), "1n");
  EXPECT_EQ(formatGrpcTimeout(Duration::min()), "1n");
}

TEST(GrpcTimeoutFormat, ExactValuesUseTheCoarsestExactUnit) {
  EXPECT_EQ(formatGrpcTimeout(1ns), "1n");
  EXPECT_EQ(formatGrpcTimeout(1001ns), "1001n");
  EXPECT_EQ(formatGrpcTimeout(1us), "1u");
  EXPECT_EQ(formatGrpcTimeout(250ms), "250m");
  EXPECT_EQ(formatGrpcTimeout(1500ms), "1500m");
  EXPECT_EQ(formatGrpcTimeout(1s), "1S");
  EXPECT_EQ(formatGrpcTimeout(90s), "90S");
  EXPECT_EQ(formatGrpcTimeout(60s), "1M");
  EXPECT_EQ(formatGrpcTimeout(3600s), "1H");
  EXPECT_EQ(formatGrpcTimeout(99999999ns), "99999999n");
  EXPECT_EQ(formatGrpcTimeout(100000000ns), "100m");
}

TEST(GrpcTimeoutFormat, RoundsUpByLessThanOneUnit) {
  // 100000001ns needs 9 digits in n, so u is used and the value rounds up.
  EXPECT_EQ(formatGrpcTimeout(100000001ns), "100001u");
  EXPECT_EQ(formatGrpcTimeout(12345678901ns), "12345679u");
  EXPECT_EQ(formatGrpcTimeout(123456789012ns), "123457m");  // 9 digits in u, so m
  EXPECT_EQ(formatGrpcTimeout(Duration(100000000s) + 1ns), "1666667M");
  EXPECT_EQ(formatGrpcTimeout(Duration::max()), "2562048H");
}

TEST(GrpcTimeoutFormat, NeverShortensAndAtMostEightDigits) {
  // Walk across several orders of magnitude, including values just off the
  // unit boundaries, and check the contract on each.
  for (int64_t base = 1; base < Duration::max().count() / 7; base *= 7) {
    for (int64_t delta : {-1, 0, 1}) {
      const Duration d(base + delta);
      if (d <= Duration::zero()) continue;
      const std::string s = formatGrpcTimeout(d);
      ASSERT_GE(s.size(), 2u);
      ASSERT_LE(s.size(), 9u) << s;
      const auto back = parseGrpcTimeout(s);
      ASSERT_TRUE(back.has_value()) << s;
      EXPECT_GE(*back, d) << s;
      // Lengthened by less than one unit of the unit the value fits in.
      Duration unit = 1ns;
      for (Duration u : {Duration(1ns), Duration(1us), Duration(1ms), Duration(1s), Duration(1min), Duration(1h)}) {
        unit = u;
        if ((d.count() - 1) / u.count() + 1 <= kMaxGrpcTimeoutValue) break;
      }
      EXPECT_LT(*back - d, unit) << s;
    }
  }
}

}  // namespace
}  // namespace switchyard::grpc
