#include "common/money.h"

#include <gtest/gtest.h>

namespace posflow {
namespace {

TEST(ParseCents, ReadsPlainDecimals) {
  EXPECT_EQ(ParseCents("116.87"), 11687);
  EXPECT_EQ(ParseCents("8.0"), 800);
  EXPECT_EQ(ParseCents("73.3"), 7330);
  EXPECT_EQ(ParseCents("12"), 1200);
  EXPECT_EQ(ParseCents("0"), 0);
  EXPECT_EQ(ParseCents("0.05"), 5);
  EXPECT_EQ(ParseCents("-3.5"), -350);
}

TEST(ParseCents, RoundsFloatNoiseToTheNearestCent) {
  EXPECT_EQ(ParseCents("5.3999999999999995"), 540);
  EXPECT_EQ(ParseCents("0.30000000000000004"), 30);
  EXPECT_EQ(ParseCents("1.005"), 101);
  EXPECT_EQ(ParseCents("-1.005"), -101);
  EXPECT_EQ(ParseCents("1.004999"), 100);
}

TEST(ParseCents, ReadsExponents) {
  EXPECT_EQ(ParseCents("1e2"), 10000);
  EXPECT_EQ(ParseCents("1.5E+1"), 1500);
  EXPECT_EQ(ParseCents("125e-2"), 125);
  EXPECT_EQ(ParseCents("5e-3"), 1);
  EXPECT_EQ(ParseCents("4e-3"), 0);
  EXPECT_EQ(ParseCents("1e-30"), 0);
}

TEST(ParseCents, RejectsNonNumbersAndAbsurdAmounts) {
  EXPECT_FALSE(ParseCents(""));
  EXPECT_FALSE(ParseCents("-"));
  EXPECT_FALSE(ParseCents("abc"));
  EXPECT_FALSE(ParseCents("1.2.3"));
  EXPECT_FALSE(ParseCents("1e"));
  EXPECT_FALSE(ParseCents("12x"));
  EXPECT_FALSE(ParseCents("1e300"));
  EXPECT_FALSE(ParseCents("99999999999999999999"));
}

TEST(FormatCents, AlwaysTwoDecimals) {
  EXPECT_EQ(FormatCents(11687), "116.87");
  EXPECT_EQ(FormatCents(5), "0.05");
  EXPECT_EQ(FormatCents(0), "0.00");
  EXPECT_EQ(FormatCents(-1205), "-12.05");
  EXPECT_EQ(FormatCents(100000000), "1000000.00");
}

}  // namespace
}  // namespace posflow
