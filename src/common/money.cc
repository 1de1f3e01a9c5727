#include "common/money.h"

#include <cstdlib>

namespace posflow {
namespace {

constexpr std::int64_t kMaxCents = 1'000'000'000'000'000;  // 10^15 cents: far above any receipt

}  // namespace

std::optional<Cents> ParseCents(std::string_view text) {
  // The number is digits x 10^scale; cents are digits x 10^(scale + 2).
  size_t pos = 0;
  const bool negative = pos < text.size() && text[pos] == '-';
  if (negative) ++pos;
  std::string digits;  // significant digits, leading zeros dropped
  int scale = 0;
  bool any_digit = false;
  bool in_fraction = false;
  for (; pos < text.size(); ++pos) {
    const char c = text[pos];
    if (c >= '0' && c <= '9') {
      any_digit = true;
      if (!digits.empty() || c != '0') digits += c;
      if (in_fraction) --scale;
    } else if (c == '.' && !in_fraction) {
      in_fraction = true;
    } else {
      break;
    }
  }
  if (!any_digit) return std::nullopt;
  if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
    ++pos;
    const bool exponent_negative = pos < text.size() && text[pos] == '-';
    if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) ++pos;
    if (pos == text.size()) return std::nullopt;
    int exponent = 0;
    for (; pos < text.size(); ++pos) {
      if (text[pos] < '0' || text[pos] > '9') return std::nullopt;
      exponent = exponent * 10 + (text[pos] - '0');
      if (exponent > 400) return std::nullopt;
    }
    scale += exponent_negative ? -exponent : exponent;
  }
  if (pos != text.size()) return std::nullopt;
  if (digits.empty()) return Cents{0};

  const int shift = scale + 2;  // >= 0: append zeros; < 0: drop digits, rounding
  std::string_view kept = digits;
  int round_digit = 0;
  if (shift < 0) {
    const size_t dropped = static_cast<size_t>(-shift);
    if (dropped > digits.size()) return Cents{0};
    round_digit = digits[digits.size() - dropped] - '0';
    kept = std::string_view(digits).substr(0, digits.size() - dropped);
  }
  const size_t total_digits = kept.size() + static_cast<size_t>(shift > 0 ? shift : 0);
  if (total_digits > 16) return std::nullopt;
  Cents cents = 0;
  for (char c : kept) cents = cents * 10 + (c - '0');
  for (int i = 0; i < shift; ++i) cents *= 10;
  if (round_digit >= 5) ++cents;  // half away from zero: the sign comes after
  if (cents > kMaxCents) return std::nullopt;
  return negative ? -cents : cents;
}

void AppendCents(Cents cents, std::string* out) {
  if (cents < 0) {
    out->push_back('-');
    cents = -cents;
  }
  char buffer[24];
  int length = 0;
  Cents whole = cents / 100;
  const int fraction = static_cast<int>(cents % 100);
  do {
    buffer[length++] = static_cast<char>('0' + whole % 10);
    whole /= 10;
  } while (whole > 0);
  while (length > 0) out->push_back(buffer[--length]);
  out->push_back('.');
  out->push_back(static_cast<char>('0' + fraction / 10));
  out->push_back(static_cast<char>('0' + fraction % 10));
}

std::string FormatCents(Cents cents) {
  std::string text;
  AppendCents(cents, &text);
  return text;
}

}  // namespace posflow
