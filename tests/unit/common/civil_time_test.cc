#include "common/civil_time.h"

#include <gtest/gtest.h>

namespace posflow {
namespace {

TEST(ParseDateTime, ReadsSeedFormatAsStoreLocal) {
  auto time = ParseDateTime("2024-02-03 14:24:35");
  ASSERT_TRUE(time);
  EXPECT_EQ(time->year, 2024);
  EXPECT_EQ(time->month, 2);
  EXPECT_EQ(time->day, 3);
  EXPECT_EQ(time->hour, 14);
  EXPECT_EQ(time->minute, 24);
  EXPECT_EQ(time->second, 35);
  EXPECT_FALSE(time->utc_offset_minutes);
}

TEST(ParseDateTime, ReadsIsoWithOffsets) {
  EXPECT_EQ(ParseDateTime("2024-01-30T12:34:56Z")->utc_offset_minutes, 0);
  EXPECT_EQ(ParseDateTime("2024-01-30T12:34:56+05:30")->utc_offset_minutes, 330);
  EXPECT_EQ(ParseDateTime("2024-01-30T12:34:56-0400")->utc_offset_minutes, -240);
  EXPECT_EQ(ParseDateTime("2024-01-30T12:34:56-04")->utc_offset_minutes, -240);
  EXPECT_EQ(ParseDateTime("2024-01-30T12:34:56.123Z")->microsecond, 123000);
  EXPECT_FALSE(ParseDateTime("2024-01-30T12:34:56")->utc_offset_minutes);
}

TEST(ParseDateTime, RejectsImpossibleAndMalformed) {
  EXPECT_FALSE(ParseDateTime("2023-02-29 10:00:00"));
  EXPECT_FALSE(ParseDateTime("2024-13-01 10:00:00"));
  EXPECT_FALSE(ParseDateTime("2024-01-01 24:00:00"));
  EXPECT_FALSE(ParseDateTime("2024-01-01"));
  EXPECT_FALSE(ParseDateTime("yesterday at noon"));
  EXPECT_FALSE(ParseDateTime("2024-01-01 10:00:00Z"));   // offsets only in the ISO form
  EXPECT_FALSE(ParseDateTime("2024-01-01T10:00:00+5"));
  EXPECT_FALSE(ParseDateTime("2024-01-01T10:00:00."));
  EXPECT_FALSE(ParseDateTime("1850-01-01 10:00:00"));
  EXPECT_TRUE(ParseDateTime("2024-02-29 10:00:00"));
}

TEST(FormatDateTime, SeedAndIsoForms) {
  CivilDateTime time{2024, 1, 30, 12, 34, 56, 0, 0};
  EXPECT_EQ(FormatSeedDateTime(time), "2024-01-30 12:34:56");
  EXPECT_EQ(FormatIsoDateTime(time), "2024-01-30T12:34:56Z");
  time.utc_offset_minutes = -150;
  EXPECT_EQ(FormatIsoDateTime(time), "2024-01-30T12:34:56-02:30");
  time.utc_offset_minutes.reset();
  EXPECT_EQ(FormatIsoDateTime(time), "2024-01-30T12:34:56");
}

TEST(CivilDays, RoundTripsAndKnowsWeekdays) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  int year, month, day;
  CivilFromDays(DaysFromCivil(2024, 2, 29), &year, &month, &day);
  EXPECT_EQ(year, 2024);
  EXPECT_EQ(month, 2);
  EXPECT_EQ(day, 29);
  EXPECT_EQ(Weekday(2026, 11, 25), 2);  // a Wednesday
  EXPECT_EQ(Weekday(2024, 2, 4), 6);    // a Sunday
}

TEST(ParseDate, ReadsIsoDateAndRejectsImpossibleOnes) {
  EXPECT_EQ(ParseDate("2024-02-29"), (CivilDate{2024, 2, 29}));
  EXPECT_FALSE(ParseDate("2023-02-29"));
  EXPECT_FALSE(ParseDate("2024-2-29"));
  EXPECT_FALSE(ParseDate("2024-02-2x"));
  EXPECT_FALSE(ParseDate("1899-12-31"));
  EXPECT_EQ(FormatDate({2024, 3, 5}), "2024-03-05");
}

TEST(ParseDateRange, ReadsFirstColonLastInclusive) {
  auto range = ParseDateRange("2020-01-01:2030-12-31");
  ASSERT_TRUE(range);
  EXPECT_EQ(range->first, (CivilDate{2020, 1, 1}));
  EXPECT_EQ(range->last, (CivilDate{2030, 12, 31}));
  EXPECT_TRUE(ParseDateRange("2024-05-01:2024-05-01"));
}

TEST(ParseDateRange, RejectsReversedOrMalformedRanges) {
  EXPECT_FALSE(ParseDateRange("2024-05-02:2024-05-01"));
  EXPECT_FALSE(ParseDateRange("2024-05-01"));
  EXPECT_FALSE(ParseDateRange("2024-05-01:"));
  EXPECT_FALSE(ParseDateRange("2024-05-01..2024-06-01"));
}

}  // namespace
}  // namespace posflow
