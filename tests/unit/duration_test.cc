#include "common/duration.h"

#include <gtest/gtest.h>

#include <chrono>
#include <limits>

namespace switchyard {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::nanoseconds;
using std::chrono::seconds;

TEST(ParseDuration, SingleUnits) {
  EXPECT_EQ(parseDuration("2h"), Duration(hours(2)));
  EXPECT_EQ(parseDuration("5m"), Duration(minutes(5)));
  EXPECT_EQ(parseDuration("30s"), Duration(seconds(30)));
  EXPECT_EQ(parseDuration("250ms"), Duration(milliseconds(250)));
  EXPECT_EQ(parseDuration("7us"), Duration(microseconds(7)));
  EXPECT_EQ(parseDuration("7\xC2\xB5s"), Duration(microseconds(7)));
  EXPECT_EQ(parseDuration("9ns"), Duration(nanoseconds(9)));
}

TEST(ParseDuration, Zero) {
  EXPECT_EQ(parseDuration("0s"), Duration::zero());
  EXPECT_EQ(parseDuration("0ms"), Duration::zero());
  EXPECT_EQ(parseDuration("0h0m0s"), Duration::zero());
}

TEST(ParseDuration, Compound) {
  EXPECT_EQ(parseDuration("1m30s"), Duration(seconds(90)));
  EXPECT_EQ(parseDuration("1h2m3s4ms5us6ns"),
            Duration(hours(1) + minutes(2) + seconds(3) + milliseconds(4) + microseconds(5) +
                     nanoseconds(6)));
  EXPECT_EQ(parseDuration("1s500ms"), Duration(milliseconds(1500)));
  // "m" followed by "s" is milliseconds, not minutes then seconds.
  EXPECT_EQ(parseDuration("3ms"), Duration(milliseconds(3)));
}

TEST(ParseDuration, Fractions) {
  EXPECT_EQ(parseDuration("1.5s"), Duration(milliseconds(1500)));
  EXPECT_EQ(parseDuration("0.25s"), Duration(milliseconds(250)));
  EXPECT_EQ(parseDuration("1.5h"), Duration(minutes(90)));
  EXPECT_EQ(parseDuration("0.000000001s"), Duration(nanoseconds(1)));
  EXPECT_FALSE(parseDuration("1.s"));
  EXPECT_FALSE(parseDuration(".5s"));
  EXPECT_FALSE(parseDuration("1..5s"));
}

TEST(ParseDuration, LeadingZerosAndLargeNumbers) {
  EXPECT_EQ(parseDuration("005s"), Duration(seconds(5)));
  EXPECT_EQ(parseDuration("100000ms"), Duration(seconds(100)));
  EXPECT_EQ(parseDuration("9223372036854775807ns"), Duration(std::numeric_limits<int64_t>::max()));
}

TEST(ParseDuration, RejectsMalformed) {
  EXPECT_FALSE(parseDuration(""));
  EXPECT_FALSE(parseDuration("5"));     // bare number
  EXPECT_FALSE(parseDuration("0"));     // bare zero too
  EXPECT_FALSE(parseDuration("-5s"));   // negative
  EXPECT_FALSE(parseDuration("+5s"));
  EXPECT_FALSE(parseDuration("5x"));    // unknown unit
  EXPECT_FALSE(parseDuration("5 s"));   // inner space
  EXPECT_FALSE(parseDuration(" 5s"));
  EXPECT_FALSE(parseDuration("5s "));
  EXPECT_FALSE(parseDuration("s"));
  EXPECT_FALSE(parseDuration("1m30"));  // trailing number without unit
  EXPECT_FALSE(parseDuration("5S"));    // units are lower case
  EXPECT_FALSE(parseDuration("5sec"));
  EXPECT_FALSE(parseDuration("1d"));
  EXPECT_FALSE(parseDuration("5s."));
}

TEST(ParseDuration, RejectsOverflow) {
  EXPECT_FALSE(parseDuration("9223372036854775808ns"));
  EXPECT_FALSE(parseDuration("3000000h"));  // > 292 years
  EXPECT_FALSE(parseDuration("99999999999999999999999999s"));
  EXPECT_FALSE(parseDuration("9223372036854775807ns1ns"));  // sum overflows
  EXPECT_TRUE(parseDuration("2562047h"));                    // just fits
  EXPECT_FALSE(parseDuration("2562048h"));
}

TEST(FormatDuration, Compact) {
  EXPECT_EQ(formatDuration(Duration::zero()), "0s");
  EXPECT_EQ(formatDuration(milliseconds(250)), "250ms");
  EXPECT_EQ(formatDuration(seconds(5)), "5s");
  EXPECT_EQ(formatDuration(seconds(90)), "1m30s");
  EXPECT_EQ(formatDuration(minutes(60)), "1h");
  EXPECT_EQ(formatDuration(hours(1) + seconds(5)), "1h5s");
  EXPECT_EQ(formatDuration(milliseconds(1500)), "1s500ms");
  EXPECT_EQ(formatDuration(microseconds(1001)), "1ms1us");
  EXPECT_EQ(formatDuration(nanoseconds(1)), "1ns");
  EXPECT_EQ(formatDuration(seconds(-5)), "-5s");
  EXPECT_EQ(formatDuration(Duration(std::numeric_limits<int64_t>::min())),
            "-2562047h47m16s854ms775us808ns");
}

TEST(FormatDuration, RoundTrips) {
  for (const char* s : {"0s", "1ns", "250ms", "5s", "1m30s", "1h", "300s", "1h1m1s1ms1us1ns",
                        "2562047h47m16s854ms775us807ns"}) {
    auto d = parseDuration(s);
    ASSERT_TRUE(d) << s;
    auto again = parseDuration(formatDuration(*d));
    ASSERT_TRUE(again) << s;
    EXPECT_EQ(*again, *d) << s;
  }
  EXPECT_EQ(formatDuration(*parseDuration("300s")), "5m");
}

TEST(ParseByteSize, Units) {
  EXPECT_EQ(parseByteSize("0"), 0u);
  EXPECT_EQ(parseByteSize("16384"), 16384u);
  EXPECT_EQ(parseByteSize("10B"), 10u);
  EXPECT_EQ(parseByteSize("64KiB"), 64u * 1024);
  EXPECT_EQ(parseByteSize("4MiB"), 4u * 1024 * 1024);
  EXPECT_EQ(parseByteSize("2GiB"), 2ull * 1024 * 1024 * 1024);
  EXPECT_EQ(parseByteSize("1KB"), 1000u);
  EXPECT_EQ(parseByteSize("3MB"), 3000000u);
  EXPECT_EQ(parseByteSize("5GB"), 5000000000ull);
  EXPECT_EQ(parseByteSize("18446744073709551615"), std::numeric_limits<uint64_t>::max());
}

TEST(ParseByteSize, RejectsMalformed) {
  EXPECT_FALSE(parseByteSize(""));
  EXPECT_FALSE(parseByteSize("-1"));
  EXPECT_FALSE(parseByteSize("KiB"));
  EXPECT_FALSE(parseByteSize("64kib"));
  EXPECT_FALSE(parseByteSize("64 KiB"));
  EXPECT_FALSE(parseByteSize("64K"));
  EXPECT_FALSE(parseByteSize("1.5MiB"));
  EXPECT_FALSE(parseByteSize("1TiB"));
  EXPECT_FALSE(parseByteSize(" 1"));
  EXPECT_FALSE(parseByteSize("0x10"));
}

TEST(ParseByteSize, RejectsOverflow) {
  EXPECT_FALSE(parseByteSize("18446744073709551616"));
  EXPECT_FALSE(parseByteSize("17179869184GiB"));  // 2^34 GiB = 2^64
  EXPECT_EQ(parseByteSize("17179869183GiB"), 17179869183ull << 30);
  EXPECT_FALSE(parseByteSize("18446744073709552GB"));
}

}  // namespace
}  // namespace switchyard
