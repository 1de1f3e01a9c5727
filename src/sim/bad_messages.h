#pragma once

// Malformed POS messages, one per kind of problem the validator knows (event/problem.h), each
// built so that the validator reports EXACTLY one problem, whose code is returned: counting
// rejects by code then reconciles exactly with what the simulator sent.
//
// How each kind is built from a valid transaction (money stays consistent wherever the kind is
// not about money, so no second check fires):
//   message.too_large           the valid JSON with a "padding" string field that takes it
//                               1 KiB past the limit
//   encoding.utf8               an invalid UTF-8 sequence (stray 0xFF, a lead byte without its
//                               continuation, or an encoded surrogate) inside the first item's
//                               name
//   json.syntax                 truncated in the middle, closing brace dropped, a trailing
//                               comma, or a missing colon
//   json.not_object             the valid object wrapped in an array, or as a JSON string
//   field.missing:<field>       one of transaction_id, transaction_date, items, subtotal, tax,
//                               total, payment_type, location, location.store_id removed
//   field.type:<field>          one of total / subtotal as a string, transaction_id /
//                               payment_type as a number, items as an object, location or
//                               customer as a string, items[0].quantity as a string
//   items.empty                 no lines, subtotal, tax and total 0.00
//   quantity.zero               a line with quantity 0 and total 0.00; sums follow
//   quantity.absurd             a line with quantity 20 000 and its exact total; sums follow
//   price.negative              a line with a negative price and its exact total; sums follow
//   amount.mismatch:line_total  a line total 0.50-9.99 off price x quantity; the subtotal is
//                               the sum of the stated line totals, the total follows
//   amount.mismatch:subtotal    the subtotal off the sum of the lines by 1.00-9.99 + 1 cent
//                               per line; the total follows the stated subtotal
//   amount.mismatch:total       the total 1.00-9.99 off subtotal + tax
//   date.unparseable            an impossible or foreign date ("2026-02-30 12:00:00",
//                               "31/10/2026 14:05", "yesterday", "2026-10-01 25:00:00")
// The bad message keeps its transaction's (fresh, never otherwise sent) transaction_id.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "event/transaction.h"
#include "sim/random.h"

namespace posflow::sim {

enum class BadKind {
  kTooLarge,
  kUtf8,
  kJsonSyntax,
  kNotObject,
  kFieldMissing,
  kFieldType,
  kItemsEmpty,
  kQuantityZero,
  kQuantityAbsurd,
  kPriceNegative,
  kLineTotalMismatch,
  kSubtotalMismatch,
  kTotalMismatch,
  kDateUnparseable,
};

// Every kind, in the order above.
const std::vector<BadKind>& AllBadKinds();

// The problem code of a kind, without a field detail: "message.too_large", "field.missing",
// "amount.mismatch:line_total".
std::string_view BadKindName(BadKind kind);

// The kind named `name` (as BadKindName), or nullopt.
std::optional<BadKind> ParseBadKind(std::string_view name);

struct BadMessageOptions {
  // The validator's size limit (ParserOptions::max_message_bytes). Default 1 MiB.
  std::size_t max_message_bytes = 1 << 20;
  // The quantity written by quantity.absurd: above the validator's limit of 10 000.
  std::int32_t absurd_quantity = 20'000;
};

// Writes into `*out` (replacing its content) a malformed message of `kind` built from `valid`,
// and returns the one problem code the validator reports for it (with its detail, e.g.
// "field.missing:items"). `tax_millionths` is the store's sales-tax rate, used where the sums
// are recomputed. REQUIRES: `valid` is valid and has at least one line.
std::string MakeBadMessage(const event::Transaction& valid, std::int64_t tax_millionths,
                           BadKind kind, const BadMessageOptions& options, Rng& rng,
                           std::string* out);

}  // namespace posflow::sim
