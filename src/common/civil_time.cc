#include "common/civil_time.h"

#include <chrono>

namespace posflow {
namespace {

// Reads exactly `count` digits at `pos`; -1 if any is not a digit.
int ReadDigits(std::string_view text, size_t pos, size_t count) {
  if (pos + count > text.size()) return -1;
  int value = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

void AppendPadded(int value, int width, std::string* out) {
  char buffer[8];
  for (int i = width - 1; i >= 0; --i) {
    buffer[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out->append(buffer, static_cast<size_t>(width));
}

}  // namespace

bool IsValidDate(int year, int month, int day) {
  if (month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const int days_in_month = kDays[month - 1] + (month == 2 && leap ? 1 : 0);
  return day <= days_in_month;
}

std::optional<CivilDateTime> ParseDateTimeUnbounded(std::string_view text) {
  // YYYY-MM-DD?HH:MM:SS is 19 characters.
  if (text.size() < 19 || text[4] != '-' || text[7] != '-' || text[13] != ':' ||
      text[16] != ':' || (text[10] != ' ' && text[10] != 'T')) {
    return std::nullopt;
  }
  CivilDateTime time;
  time.year = ReadDigits(text, 0, 4);
  time.month = ReadDigits(text, 5, 2);
  time.day = ReadDigits(text, 8, 2);
  time.hour = ReadDigits(text, 11, 2);
  time.minute = ReadDigits(text, 14, 2);
  time.second = ReadDigits(text, 17, 2);
  if (time.year < 0 || !IsValidDate(time.year, time.month, time.day) || time.hour < 0 ||
      time.hour > 23 || time.minute < 0 || time.minute > 59 || time.second < 0 ||
      time.second > 60) {
    return std::nullopt;
  }
  if (time.second == 60) time.second = 59;
  size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 6) time.microsecond = time.microsecond * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 6; ++digits) time.microsecond *= 10;
  }
  if (pos == text.size()) return time;
  if (text[10] != 'T') return std::nullopt;  // offsets only in the ISO form
  if (text[pos] == 'Z' && pos + 1 == text.size()) {
    time.utc_offset_minutes = 0;
    return time;
  }
  if (text[pos] != '+' && text[pos] != '-') return std::nullopt;
  const int sign = text[pos] == '-' ? -1 : 1;
  ++pos;
  const int hours = ReadDigits(text, pos, 2);
  if (hours < 0) return std::nullopt;
  pos += 2;
  int minutes = 0;
  if (pos < text.size()) {
    if (text[pos] == ':') ++pos;
    minutes = ReadDigits(text, pos, 2);
    if (minutes < 0 || minutes > 59 || pos + 2 != text.size()) return std::nullopt;
  }
  time.utc_offset_minutes = sign * (hours * 60 + minutes);
  return time;
}

std::optional<CivilDateTime> ParseDateTime(std::string_view text) {
  std::optional<CivilDateTime> time = ParseDateTimeUnbounded(text);
  if (!time || time->year < kMinYear || time->year > kMaxYear) return std::nullopt;
  if (time->utc_offset_minutes && (*time->utc_offset_minutes > kMaxUtcOffsetMinutes ||
                                   *time->utc_offset_minutes < -kMaxUtcOffsetMinutes)) {
    return std::nullopt;
  }
  return time;
}

void AppendSeedDateTime(const CivilDateTime& time, std::string* out) {
  AppendPadded(time.year, 4, out);
  out->push_back('-');
  AppendPadded(time.month, 2, out);
  out->push_back('-');
  AppendPadded(time.day, 2, out);
  out->push_back(' ');
  AppendPadded(time.hour, 2, out);
  out->push_back(':');
  AppendPadded(time.minute, 2, out);
  out->push_back(':');
  AppendPadded(time.second, 2, out);
}

std::string FormatSeedDateTime(const CivilDateTime& time) {
  std::string text;
  AppendSeedDateTime(time, &text);
  return text;
}

std::string FormatIsoDateTime(const CivilDateTime& time) {
  std::string text = FormatSeedDateTime(time);
  text[10] = 'T';
  if (time.microsecond != 0) {
    text.push_back('.');
    AppendPadded(time.microsecond, 6, &text);
  }
  if (time.utc_offset_minutes) {
    const int offset = *time.utc_offset_minutes;
    if (offset == 0) {
      text.push_back('Z');
    } else {
      text.push_back(offset < 0 ? '-' : '+');
      const int magnitude = offset < 0 ? -offset : offset;
      AppendPadded(magnitude / 60, 2, &text);
      text.push_back(':');
      AppendPadded(magnitude % 60, 2, &text);
    }
  }
  return text;
}

std::int64_t DaysFromCivil(int year, int month, int day) {
  const std::chrono::year_month_day date{std::chrono::year{year},
                                         std::chrono::month{static_cast<unsigned>(month)},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  return std::chrono::sys_days{date}.time_since_epoch().count();
}

void CivilFromDays(std::int64_t days, int* year, int* month, int* day) {
  const std::chrono::year_month_day date{
      std::chrono::sys_days{std::chrono::days{days}}};
  *year = static_cast<int>(date.year());
  *month = static_cast<int>(static_cast<unsigned>(date.month()));
  *day = static_cast<int>(static_cast<unsigned>(date.day()));
}

int Weekday(int year, int month, int day) {
  const std::chrono::weekday weekday{std::chrono::sys_days{std::chrono::days{
      DaysFromCivil(year, month, day)}}};
  return static_cast<int>(weekday.iso_encoding()) - 1;
}

std::optional<CivilDate> ParseDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  const CivilDate date{ReadDigits(text, 0, 4), ReadDigits(text, 5, 2), ReadDigits(text, 8, 2)};
  if (date.year < kMinYear || date.year > kMaxYear ||
      !IsValidDate(date.year, date.month, date.day)) {
    return std::nullopt;
  }
  return date;
}

std::string FormatDate(const CivilDate& date) {
  std::string text;
  text.reserve(10);
  AppendPadded(date.year, 4, &text);
  text.push_back('-');
  AppendPadded(date.month, 2, &text);
  text.push_back('-');
  AppendPadded(date.day, 2, &text);
  return text;
}

std::optional<CivilDateRange> ParseDateRange(std::string_view text) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto first = ParseDate(text.substr(0, colon));
  auto last = ParseDate(text.substr(colon + 1));
  if (!first || !last || *last < *first) return std::nullopt;
  return CivilDateRange{*first, *last};
}

}  // namespace posflow
