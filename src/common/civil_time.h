#pragma once

// A wall-clock date-time as written on a receipt, plus the UTC offset when the message gave one.
// The seed writes store-local time without an offset ("2024-02-03 14:24:35"); the camelCase
// shape writes ISO-8601 with one ("2024-01-30T12:34:56Z").

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace posflow {

struct CivilDateTime {
  int year = 1970;
  int month = 1;   // 1..12
  int day = 1;     // 1..31, valid for the month
  int hour = 0;    // 0..23
  int minute = 0;  // 0..59
  int second = 0;  // 0..59 (a leap second 60 is folded into 59)
  int microsecond = 0;
  // Minutes east of UTC when the text carried an offset ("Z" is 0); nullopt: store-local time.
  std::optional<int> utc_offset_minutes;

  bool operator==(const CivilDateTime&) const = default;
};

// The years ParseDateTime and ParseDate accept: dw.dim_date holds 1900-01-01 .. 2999-12-31.
inline constexpr int kMinYear = 1900;
inline constexpr int kMaxYear = 2999;
// The largest UTC offset ParseDateTime accepts, in minutes: ±18:00 (ISO 8601 practice, as
// java.time's ZoneOffset; real zones stay within -12:00 .. +14:00).
inline constexpr int kMaxUtcOffsetMinutes = 18 * 60;

// Parses "YYYY-MM-DD HH:MM:SS" or ISO-8601 "YYYY-MM-DDTHH:MM:SS[.ffffff][Z|+HH:MM|+HHMM|+HH]".
// nullopt for anything else, including impossible dates (2023-02-29), years outside
// kMinYear..kMaxYear and UTC offsets beyond ±kMaxUtcOffsetMinutes.
std::optional<CivilDateTime> ParseDateTime(std::string_view text);

// The same form without the window: any year 0000..9999 and any offset up to ±99:59. For callers
// that apply their own window and tell "out of range" from "unparseable" (the event parser).
std::optional<CivilDateTime> ParseDateTimeUnbounded(std::string_view text);

// "YYYY-MM-DD HH:MM:SS" (the seed's format; the offset and fraction are not written).
std::string FormatSeedDateTime(const CivilDateTime& time);
void AppendSeedDateTime(const CivilDateTime& time, std::string* out);

// ISO-8601 with the offset when there is one: "2024-01-30T12:34:56Z", "...T12:34:56+05:30",
// or without ("2024-01-30T12:34:56") for store-local times. Microseconds when non-zero.
std::string FormatIsoDateTime(const CivilDateTime& time);

// Days since 1970-01-01 of a proleptic Gregorian date, and back.
std::int64_t DaysFromCivil(int year, int month, int day);
void CivilFromDays(std::int64_t days, int* year, int* month, int* day);

// 0 = Monday ... 6 = Sunday.
int Weekday(int year, int month, int day);

bool IsValidDate(int year, int month, int day);

// A calendar date without a time.
struct CivilDate {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31, valid for the month

  auto operator<=>(const CivilDate&) const = default;
};

// An inclusive range of dates: first..last. Valid when first <= last.
struct CivilDateRange {
  CivilDate first;
  CivilDate last;

  bool operator==(const CivilDateRange&) const = default;
};

// "YYYY-MM-DD" (ISO 8601, always written by FormatDate), or nullopt when malformed or impossible
// (2023-02-29) or outside 1900..2999.
std::optional<CivilDate> ParseDate(std::string_view text);
std::string FormatDate(const CivilDate& date);

// "YYYY-MM-DD:YYYY-MM-DD" (first:last, inclusive), or nullopt when either date is bad or the
// first is after the last.
std::optional<CivilDateRange> ParseDateRange(std::string_view text);

}  // namespace posflow
