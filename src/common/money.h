#pragma once

// Money as exact integer cents. Never a double.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace posflow {

using Cents = std::int64_t;

// Parses a JSON number's text ("12", "-3.5", "116.87", "1e2", "5.3999999999999995") into cents.
// Digits beyond the cent are rounded half away from zero, which absorbs the binary-float noise
// of producers that print doubles. nullopt when the text is not a number or is beyond
// +-10^15 cents.
std::optional<Cents> ParseCents(std::string_view number_text);

// "-12.05", "0.00", "116.87": always two decimals.
std::string FormatCents(Cents cents);

// Appends FormatCents(cents) to `out` without a temporary.
void AppendCents(Cents cents, std::string* out);

}  // namespace posflow
