#pragma once

// What can be wrong with a POS message: stable, machine-readable codes (they are stored with
// dead letters, counted in metrics and written in simulator manifests) and a human message.
//
// Codes, with the detail after ':' where one is given (the limits are ParserOptions fields):
//   message.too_large          larger than max_message_bytes (default 1 MiB)
//   encoding.utf8              not valid UTF-8
//   json.syntax                not JSON
//   json.not_object            JSON, but not an object at the top level
//   json.duplicate_key         an object repeats a key, or gives one field under two accepted
//                              spellings ("price" and "unitPrice"; a customer field both at
//                              the top level and in "customer"); reported once per message
//   field.missing:<field>      a required field is absent (or null)
//   field.type:<field>         a field has the wrong JSON type or an unusable value
//   field.too_long:<field>     a key field longer than max_key_bytes (default 128) or a
//                              free-text field longer than max_text_bytes (default 1024)
//   field.control_char:<field> a key field holding U+0000-U+001F or U+007F, a free-text field
//                              holding U+0000, or a \u0000 in an unknown field's strings or keys
//                              (<field> is then its path: "loyalty.tiers[2].name"); the last
//                              reported once per message
//   number.out_of_range:<field> a number in an unknown field that jsonb's numeric cannot be
//                              trusted to hold: more than 1000 digits or an exponent beyond
//                              ±1000 (1e-20000); reported once per message
//   items.empty                no receipt lines
//   items.too_many             more than max_items lines (default 1000)
//   quantity.zero              a line with quantity 0
//   quantity.absurd            a line with |quantity| > max_abs_quantity (default 10 000)
//   price.negative             a line with a negative unit price
//   amount.out_of_range:<field> an amount beyond numeric(12,2), |x| > 9 999 999 999.99: a
//                              price, total_price, subtotal, tax or total; ":items" when the
//                              running sum of the line totals, in receipt order, leaves it
//   amount.mismatch:line_total a line total differs from price x quantity beyond tolerance
//   amount.mismatch:subtotal   subtotal differs from the sum of the line totals beyond tolerance
//   amount.mismatch:total      total differs from subtotal + tax beyond tolerance
//   date.unparseable           the transaction date is not a date-time we read
//   date.out_of_range          the transaction date is outside min_date..max_date (default
//                              1900-01-01..2999-12-31), or its UTC offset beyond ±18:00
// <field> names the field as the message spelled it, with a path for nested ones
// ("location.store_id", "items[2].price"), cut to 100 bytes.
//
// A message (the human part) quotes at most ~100 bytes of the message's own content, cut on a
// character boundary with "…", and is always valid UTF-8 without NUL or other control
// characters: it is stored in PostgreSQL text and sent in Kafka headers.

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
inline constexpr std::string_view kDuplicateKey = "json.duplicate_key";
inline constexpr std::string_view kFieldTooLong = "field.too_long";          // + ":<field>"
inline constexpr std::string_view kFieldControlChar = "field.control_char";  // + ":<field>"
inline constexpr std::string_view kNumberOutOfRange = "number.out_of_range";  // + ":<field>"
inline constexpr std::string_view kItemsTooMany = "items.too_many";
inline constexpr std::string_view kAmountOutOfRange = "amount.out_of_range";  // + ":<field>"
inline constexpr std::string_view kDateOutOfRange = "date.out_of_range";
}  // namespace codes

}  // namespace posflow::event
