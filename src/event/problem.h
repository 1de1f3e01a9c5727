#pragma once

// What can be wrong with a POS message: stable, machine-readable codes (they are stored with
// dead letters, counted in metrics and written in simulator manifests) and a human message.
//
// Codes, with the detail after ':' where one is given:
//   message.too_large          larger than the configured limit (default 1 MiB)
//   encoding.utf8              not valid UTF-8
//   json.syntax                not JSON
//   json.not_object            JSON, but not an object at the top level
//   field.missing:<field>      a required field is absent (or null)
//   field.type:<field>         a field has the wrong JSON type or an unusable value
//   items.empty                no receipt lines
//   quantity.zero              a line with quantity 0
//   quantity.absurd            a line with |quantity| > 10 000 or not an integer
//   price.negative             a line with a negative unit price
//   amount.mismatch:line_total a line total differs from price x quantity beyond tolerance
//   amount.mismatch:subtotal   subtotal differs from the sum of the line totals beyond tolerance
//   amount.mismatch:total      total differs from subtotal + tax beyond tolerance
//   date.unparseable           the transaction date is not a date-time we read
// <field> names the field as the message spelled it, with a path for nested ones
// ("location.store_id", "items[2].price").

#include <string>
#include <string_view>

namespace posflow::event {

struct Problem {
  std::string code;     // e.g. "amount.mismatch:total"
  std::string message;  // e.g. "total 75.57 != subtotal 69.97 + tax 5.70 (off by 0.10)"

  bool operator==(const Problem&) const = default;
};

// The code without its detail: "field.missing:items" -> "field.missing".
inline std::string_view CodeKind(std::string_view code) {
  return code.substr(0, code.find(':'));
}

namespace codes {
inline constexpr std::string_view kTooLarge = "message.too_large";
inline constexpr std::string_view kUtf8 = "encoding.utf8";
inline constexpr std::string_view kJsonSyntax = "json.syntax";
inline constexpr std::string_view kNotObject = "json.not_object";
inline constexpr std::string_view kFieldMissing = "field.missing";  // + ":<field>"
inline constexpr std::string_view kFieldType = "field.type";        // + ":<field>"
inline constexpr std::string_view kItemsEmpty = "items.empty";
inline constexpr std::string_view kQuantityZero = "quantity.zero";
inline constexpr std::string_view kQuantityAbsurd = "quantity.absurd";
inline constexpr std::string_view kPriceNegative = "price.negative";
inline constexpr std::string_view kLineTotalMismatch = "amount.mismatch:line_total";
inline constexpr std::string_view kSubtotalMismatch = "amount.mismatch:subtotal";
inline constexpr std::string_view kTotalMismatch = "amount.mismatch:total";
inline constexpr std::string_view kDateUnparseable = "date.unparseable";
}  // namespace codes

}  // namespace posflow::event
